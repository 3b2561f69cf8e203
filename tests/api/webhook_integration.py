"""Webhooks against the real osmo-uigw daemon and a receiver this test runs (python3 http.server).

Covered: creating, listing, reading and deleting webhooks over the HTTP API (validation, tenants see only their
own, a secret the gateway makes is shown once); every request signed (X-UIGW-Signature = HMAC-SHA256 of
timestamp "." body with the webhook's secret) and checked here; at least once: the receiver fails the first
deliveries (500), is down for a while (connections refused), and the gateway is killed with -9 in between and
started again: afterwards every answer, dialog end and spam report the store holds has arrived, each with one
delivery id, re-deliveries with the same id and the same data; a refused trigger arrives as trigger.refused; the
tenant's webhook gets its own campaign's events only; a URL that never answers is dead-lettered after the
configured age while dialogs go on (shown by `show api webhooks` and GET /v1/webhooks/ID/dead); dead letters of
a receiver that refused them are re-sent on request and arrive. Ports 42970-42975.
"""
import argparse
import hashlib
import hmac
import http.server
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import sys
import tempfile
import threading
import time
import urllib.request

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, '..'))
from uigwtest import check, gw_cfg, Vty, start_daemon, stop_daemon, finish, key_of  # noqa: E402
sys.path.insert(0, here)
from api_integration import Spec  # noqa: E402
import jsonschema  # noqa: E402

spec = None
spec_problems = []

SMSC_PORT = 42970  # nothing listens
VTY_PORT = 42971
CTRL_PORT = 42972
HTTP_PORT = 42973
RCV_PORT = 42974
HOLE_PORT = 42975  # accepts connections, never answers
BASE = 'http://127.0.0.1:%d' % HTTP_PORT
SECRET = 'op-secret-0123456789abcdef'


class Receiver:
    """The webhook receiver: records every request; fails on demand (status per path), or is down."""

    def __init__(self, port):
        self.port = port
        self.lock = threading.Lock()
        self.got = []            # (path, headers dict, body bytes, status answered)
        self.fail_next = 0       # answer this many requests with 500
        self.fail_paths = {}     # path -> status to answer (until removed)
        self.slow_next = 0       # answer this many requests only after 1.5 s (the gateway gives up after 1 s)
        self.srv = None
        self.thread = None
        self.conns = set()       # open connections: down() closes them too (keep-alive would outlive it)

    def up(self):
        rcv = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'

            def setup(self):
                super().setup()
                with rcv.lock:
                    rcv.conns.add(self.connection)

            def finish(self):
                with rcv.lock:
                    rcv.conns.discard(self.connection)
                super().finish()

            def do_POST(self):
                n = int(self.headers.get('Content-Length', 0))
                body = self.rfile.read(n)
                with rcv.lock:
                    slow = rcv.slow_next > 0
                    if slow:
                        rcv.slow_next -= 1
                    if rcv.fail_next > 0:
                        rcv.fail_next -= 1
                        status = 500
                    else:
                        status = rcv.fail_paths.get(self.path, 204)
                    rcv.got.append((self.path, dict(self.headers), body, status))
                if slow:
                    time.sleep(1.5)   # processed, but too late: the gateway counts a failure and sends it again
                self.send_response(status)
                self.send_header('Content-Length', '0')
                self.end_headers()

            def log_message(self, *a):
                pass

        http.server.ThreadingHTTPServer.allow_reuse_address = True
        http.server.ThreadingHTTPServer.request_queue_size = 128  # the gateway opens up to 16 at once
        self.srv = http.server.ThreadingHTTPServer(('127.0.0.1', self.port), H)
        self.srv.daemon_threads = True
        self.thread = threading.Thread(target=self.srv.serve_forever, daemon=True)
        self.thread.start()

    def down(self):
        self.srv.shutdown()
        self.srv.server_close()
        self.srv = None
        with self.lock:
            for c in self.conns:
                try:
                    c.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def delivered(self, path):
        """[(headers, body, parsed)] answered 2xx on path"""
        with self.lock:
            return [(h, b, json.loads(b)) for p, h, b, st in self.got if p == path and 200 <= st < 300]

    def count(self, path=None, status=None):
        with self.lock:
            return sum(1 for p, h, b, st in self.got if (path is None or p == path) and
                       (status is None or st == status))


def call(method, path, key=None, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(BASE + path, data=data, method=method)
    if key:
        req.add_header('Authorization', 'Bearer ' + key)
    if data is not None:
        req.add_header('Content-Type', 'application/json')
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            raw = r.read()
            status, j = r.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            status, j = e.code, json.loads(raw)
        except ValueError:
            status, j = e.code, None
    # every answer as doc/api.yaml says (a 204 has no body)
    problem = None if status == 204 and j is None else spec.validate(method, path, status, j)
    if problem:
        spec_problems.append('%s %s -> %d: %s' % (method, path, status, problem))
    return status, j


def callquality(vty, msisdn):
    vty.cmd('subscriber %s dial *7727#' % msisdn)
    vty.cmd('subscriber %s send 4' % msisdn)
    return vty.cmd('subscriber %s send 2' % msisdn)


def spam_report(vty, msisdn, number):
    vty.cmd('subscriber %s dial *7726#' % msisdn)
    vty.cmd('subscriber %s send 1' % msisdn)
    vty.cmd('subscriber %s send %s' % (msisdn, number))
    return vty.cmd('subscriber %s send 1' % msisdn)


def acme_survey(vty, msisdn):
    vty.cmd('trigger acme-survey %s via vty order=A7' % msisdn)
    vty.cmd('subscriber %s send 5' % msisdn)
    return vty.cmd('subscriber %s send 1' % msisdn)


def signed_ok(headers, body, secret):
    ts = headers.get('X-UIGW-Timestamp', '')
    sig = headers.get('X-UIGW-Signature', '')
    want = 'sha256=' + hmac.new(secret.encode(), ts.encode() + b'.' + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(sig, want) and ts.isdigit() and abs(int(ts) - time.time()) < 300


def expected(db, campaigns):
    """what the store committed: {('answer', dialog, question), ('dialog.ended', dialog), ('spam.report', ...)}"""
    con = sqlite3.connect('file:%s?mode=ro' % db, uri=True, timeout=10)
    q = ','.join('?' * len(campaigns))
    exp = set()
    for d, qu in con.execute('SELECT dialog, question FROM response WHERE campaign IN (%s)' % q, campaigns):
        exp.add(('answer', str(d), qu))
    for (d,) in con.execute('SELECT id FROM dialog WHERE campaign IN (%s)' % q, campaigns):
        exp.add(('dialog.ended', str(d)))
    for n, r, t in con.execute('SELECT number, reporter, time FROM spam_report WHERE campaign IN (%s)' % q,
                               campaigns):
        exp.add(('spam.report', n, r))
    con.close()
    return exp


def event_key(p):
    d = p['data']
    if p['event'] == 'answer':
        return ('answer', d['dialog'], d['question'])
    if p['event'] == 'dialog.ended':
        return ('dialog.ended', d['dialog'])
    if p['event'] == 'spam.report':
        return ('spam.report', d['number'], d['subscriber'])
    return (p['event'], d.get('campaign'), d.get('refusal'))


def received(rcv, path):
    return set(event_key(p) for h, b, p in rcv.delivered(path))


def wait_for(cond, timeout=30, step=0.2):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return True
        time.sleep(step)
    return cond()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--daemon', required=True)
    ap.add_argument('--top-srcdir', required=True)
    args = ap.parse_args()
    global spec
    spec = Spec(os.path.join(args.top_srcdir, 'doc', 'api.yaml'))
    event_schema = jsonschema.Draft202012Validator({'$ref': '#/components/schemas/WebhookEvent'},
                                                   resolver=spec.resolver,
                                                   format_checker=jsonschema.FormatChecker())

    workdir = tempfile.mkdtemp(prefix='uigw-webhook-')
    camp = os.path.join(workdir, 'campaigns')
    shutil.copytree(os.path.join(args.top_srcdir, 'etc', 'campaigns'), camp)
    shutil.copy(os.path.join(args.top_srcdir, 'tests', 'data', 'api', 'acme.conf'), camp)
    db = os.path.join(workdir, 'test.db')
    cfg = os.path.join(workdir, 'osmo-uigw.cfg')
    with open(cfg, 'w') as f:
        f.write(gw_cfg(VTY_PORT, camp, db, 'webhook-test-secret', SMSC_PORT, smsc='nowhere', api='info') + '''api
 bind 127.0.0.1 %d
 webhook timeout 1000
 webhook backoff 100 800
 tenant acme
''' % HTTP_PORT)
    dlog = open(os.path.join(workdir, 'daemon.log'), 'w')
    t0 = time.time()
    d = None
    rcv = Receiver(RCV_PORT)
    hole = socket.socket()
    hole.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    hole.bind(('127.0.0.1', HOLE_PORT))
    hole.listen(64)  # never accepted: connections complete, requests are never answered
    try:
        rcv.up()
        rcv.fail_next = 3
        d = start_daemon(args.daemon, cfg, CTRL_PORT, workdir, dlog, port=HTTP_PORT)
        vty = Vty(VTY_PORT)
        op = key_of(vty.cmd('api tenant operator key create results'))
        acme = key_of(vty.cmd('api tenant acme key create results'))
        acme_camp = key_of(vty.cmd('api tenant acme key create campaigns'))
        check(op and acme and acme_camp, 'keys for the operator and acme')

        # --- the API ----------------------------------------------------------------------------------------
        url_op = 'http://127.0.0.1:%d/op' % RCV_PORT
        url_acme = 'http://127.0.0.1:%d/acme' % RCV_PORT
        for body, path in (({'url': 'ftp://x/', 'events': ['answer']}, '/url'),
                           ({'url': url_op, 'events': ['answer', 'nothing']}, '/events/1'),
                           ({'url': url_op, 'events': []}, '/events'),
                           ({'url': url_op, 'events': ['answer'], 'secret': 'short'}, '/secret'),
                           ({'url': url_op, 'events': ['answer'], 'extra': 1}, '/extra')):
            st, j = call('POST', '/v1/webhooks', op, body)
            check(st == 422 and j and j['errors'][0]['path'] == path, 'refused with 422 at %s (%d %s)' %
                  (path, st, j))
        st, _ = call('POST', '/v1/webhooks', acme_camp, {'url': url_op, 'events': ['answer']})
        check(st == 403, 'a key without scope results: 403 (%d)' % st)
        st, j = call('POST', '/v1/webhooks', op, {'url': url_op, 'events': ['answer', 'dialog.ended',
                                                                           'spam.report', 'trigger.refused'],
                                                  'secret': SECRET})
        check(st == 201 and j['id'] == 1 and j['tenant'] == 'operator' and 'secret' not in j and
              j['events'] == ['answer', 'dialog.ended', 'spam.report', 'trigger.refused'] and
              j['delivery']['pending'] == 0, 'the operator\'s webhook: 201 (%d %s)' % (st, j))
        st, j = call('POST', '/v1/webhooks', acme, {'url': url_acme, 'events': ['answer', 'dialog.ended']})
        acme_secret = j.get('secret', '') if j else ''
        check(st == 201 and j['id'] == 2 and re.fullmatch(r'whsec_[0-9a-f]{48}', acme_secret),
              'acme\'s webhook without a secret: 201, the secret the gateway made shown once (%d)' % st)
        st, j = call('GET', '/v1/webhooks/2', acme)
        check(st == 200 and 'secret' not in j and j['url'] == url_acme, 'read back without its secret')
        st, j = call('GET', '/v1/webhooks', acme)
        check(st == 200 and [w['id'] for w in j['webhooks']] == [2], 'acme lists its own only')
        st, j = call('GET', '/v1/webhooks', op)
        check(st == 200 and [w['id'] for w in j['webhooks']] == [1, 2], 'the operator lists all')
        st, _ = call('GET', '/v1/webhooks/1', acme)
        check(st == 404, 'acme cannot read the operator\'s: 404 (%d)' % st)
        st, _ = call('DELETE', '/v1/webhooks/1', acme)
        check(st == 404, 'nor delete it: 404 (%d)' % st)

        # --- phase 1: the receiver fails the first three deliveries ----------------------------------------------
        n = 0
        for i in range(4):
            n += 'Thank you' in callquality(vty, '+4917200001%02d' % i)
        n += 'Thank you' in spam_report(vty, '+491720000150', '+4930555000')
        n += 'Thank you from Acme' in acme_survey(vty, '+491720000160')
        check(n == 6, 'six dialogs over the VTY channel (%d)' % n)
        vty.cmd('trigger nosuch +491720000170')
        exp_op = expected(db, ['callquality', 'spam', 'acme-survey'])
        exp_acme = set(k for k in expected(db, ['acme-survey']) if k[0] != 'spam.report')
        refused = ('trigger.refused', 'nosuch', 'no_campaign')
        ok = wait_for(lambda: received(rcv, '/op') >= exp_op | {refused} and received(rcv, '/acme') >= exp_acme)
        check(ok and len(exp_op) == 4 * 3 + 2 + 3, 'every event of phase 1 arrived (%d expected, missing %s)' %
              (len(exp_op), sorted((exp_op | {refused}) - received(rcv, '/op'))[:4]))
        check(rcv.count(status=500) == 3, 'after three answers 500 (%d)' % rcv.count(status=500))
        out = vty.cmd('show api webhooks')
        check(re.search(r'webhook 1 of operator \(every campaign\): ' + re.escape(url_op), out) and
              re.search(r'[1-9]\d* failed attempts', out) and 'last failure' in out and 'HTTP 500' in out,
              'show api webhooks: the failures and the last one (%r)' % out[:400])
        check(received(rcv, '/acme') == exp_acme, 'acme got its own campaign\'s answers and dialog ends only')

        # --- phase 2: the receiver is down; the gateway is killed with -9 and started again --------------------
        rcv.down()
        for i in range(4):
            callquality(vty, '+4917200002%02d' % i)
        acme_survey(vty, '+491720000260')
        time.sleep(1.0)  # attempts fail: connection refused
        out = vty.cmd('show api webhooks')
        w1 = out[out.find(' webhook 1 '):out.find(' webhook 2 ')]
        check(re.search(r'outbox: [1-9]\d* pending', w1) and "Couldn't connect" in w1,
              'while the receiver is down events wait in the outbox (%r)' % w1)
        vty.close()
        d.send_signal(signal.SIGKILL)
        d.wait()
        d = start_daemon(args.daemon, cfg, CTRL_PORT, workdir, dlog, port=HTTP_PORT)
        vty = Vty(VTY_PORT)
        for i in range(3):
            callquality(vty, '+4917200003%02d' % i)
        time.sleep(0.5)
        rcv.up()
        exp_op = expected(db, ['callquality', 'spam', 'acme-survey'])
        exp_acme = set(k for k in expected(db, ['acme-survey']) if k[0] != 'spam.report')
        ok = wait_for(lambda: received(rcv, '/op') >= exp_op and received(rcv, '/acme') >= exp_acme, timeout=30)
        check(ok, 'after the receiver came back and the gateway restarted from kill -9, every event the store'
              ' holds arrived (%d + %d; missing %s)' % (len(exp_op), len(exp_acme),
                                                        sorted(exp_op - received(rcv, '/op'))[:4]))
        check(len([k for k in exp_op if k[0] == 'dialog.ended']) >= 13, 'at least 13 dialogs committed')

        # a receiver that processes an event but answers too late gets it again, with the same id
        with rcv.lock:
            before = len(rcv.got)
        rcv.slow_next = 1
        callquality(vty, '+491720000350')
        def dup_seen():
            with rcv.lock:
                ids = [json.loads(b)['id'] for p, h, b, st in rcv.got[before:] if p == '/op']
            return any(ids.count(i) > 1 for i in ids)
        check(wait_for(dup_seen, timeout=15), 'an event answered too late was delivered again (a duplicate)')
        exp_op = expected(db, ['callquality', 'spam', 'acme-survey'])
        wait_for(lambda: received(rcv, '/op') >= exp_op, timeout=10)

        # signatures, ids
        bad = 0
        by_id = {}
        for path, secret in (('/op', SECRET), ('/acme', acme_secret)):
            with rcv.lock:
                reqs = [(h, b) for p, h, b, st in rcv.got if p == path]
            for h, b in reqs:
                bad += not signed_ok(h, b, secret)
                p = json.loads(b)
                k = (path, event_key(p), json.dumps(p['data'], sort_keys=True))
                by_id.setdefault(p['id'], set()).add(k)
                bad += h.get('X-UIGW-Delivery') != p['id'] or h.get('X-UIGW-Event') != p['event']
                errs = list(event_schema.iter_errors(p))
                if errs:
                    bad += 1
                    spec_problems.append('delivery %s: %s' % (p['id'], errs[0].message))
        check(bad == 0 and rcv.count() > 0, 'every request (%d) signed with its webhook\'s secret, headers match'
              % rcv.count())
        check(all(len(v) == 1 for v in by_id.values()), 'one id, one event: re-deliveries carry the same id and'
              ' data')
        check(rcv.count(status=204) > len(by_id), 'and there were re-deliveries to compare')
        keys = [next(iter(v))[:2] for v in by_id.values()]
        check(len(keys) == len(set(keys)), 'one event, one id (%d ids, %d events)' % (len(keys), len(set(keys))))
        dups = rcv.count(status=204) - len(by_id)
        print('     (%d deliveries answered 2xx, %d distinct ids: %d duplicates)' % (rcv.count(status=204),
                                                                                  len(by_id), dups))
        wait_for(lambda: call('GET', '/v1/webhooks/1', op)[1]['delivery']['pending'] == 0, timeout=5)
        st, j = call('GET', '/v1/webhooks/1', op)
        check(st == 200 and j['delivery']['pending'] == 0 and j['delivery']['dead'] == 0,
              'the outbox of webhook 1 is empty (%s)' % (j and j['delivery']))

        # --- a URL that never answers is dead-lettered after max-age; dialogs go on ------------------------------
        vty.cmd('configure terminal')
        vty.cmd('api')
        vty.cmd('webhook max-age 2')
        vty.cmd('end')
        st, j = call('POST', '/v1/webhooks', op, {'url': 'http://127.0.0.1:%d/hole' % HOLE_PORT,
                                                  'events': ['dialog.ended'], 'secret': SECRET})
        check(st == 201 and j['id'] == 3, 'a webhook to a URL that never answers (%d)' % st)
        t1 = time.time()
        for i in range(5):
            callquality(vty, '+4917200004%02d' % i)
        dt = time.time() - t1
        exp_op = expected(db, ['callquality', 'spam', 'acme-survey'])
        ok = wait_for(lambda: received(rcv, '/op') >= exp_op, timeout=10)
        check(ok, 'webhook 1 still gets every event meanwhile')
        ok = wait_for(lambda: re.search(r'webhook 3 of .*\n.*\n  outbox: 0 pending, 5 dead letters',
                                        vty.cmd('show api webhooks')), timeout=15)
        out = vty.cmd('show api webhooks')
        check(ok, 'after max-age its 5 events are dead letters (%r)' % out[-500:])
        st, j = call('GET', '/v1/webhooks/3/dead', op)
        check(st == 200 and len(j['dead']) == 5 and all(e['event'] == 'dialog.ended' and e['attempts'] >= 1
                                                         for e in j['dead']),
              'GET /v1/webhooks/3/dead lists them (%d)' % (len(j['dead']) if j else -1))
        print('     (5 dialogs while it timed out: %.2f s)' % dt)

        # --- dead letters re-sent ------------------------------------------------------------------------------
        rcv.fail_paths['/acme'] = 503
        acme_survey(vty, '+491720000560')
        ok = wait_for(lambda: call('GET', '/v1/webhooks/2', acme)[1]['delivery']['dead'] >= 3, timeout=15)
        check(ok, 'acme\'s receiver answering 503: its events are dead letters after max-age')
        del rcv.fail_paths['/acme']
        st, j = call('POST', '/v1/webhooks/2/resend', acme)
        check(st == 200 and j['resent'] >= 3, 'POST /v1/webhooks/2/resend: %s' % j)
        exp_acme = set(k for k in expected(db, ['acme-survey']) if k[0] != 'spam.report')
        ok = wait_for(lambda: received(rcv, '/acme') >= exp_acme, timeout=15)
        check(ok, 're-sent dead letters arrive')
        # a delivery leaves the outbox with the store's next log commit (within ~20 ms)
        wait_for(lambda: call('GET', '/v1/webhooks/2', acme)[1]['delivery']['pending'] == 0, timeout=5)
        d2 = call('GET', '/v1/webhooks/2', acme)[1]['delivery']
        check(d2['dead'] == 0 and d2['pending'] == 0, 'acme\'s outbox empty (%s)' % d2)

        # --- delete ------------------------------------------------------------------------------------------
        st, _ = call('DELETE', '/v1/webhooks/3', op)
        check(st == 204, 'DELETE: 204 (%d)' % st)
        st, _ = call('GET', '/v1/webhooks/3', op)
        check(st == 404, 'gone (%d)' % st)
        con = sqlite3.connect('file:%s?mode=ro' % db, uri=True, timeout=10)
        left = con.execute('SELECT count(*) FROM webhook_outbox WHERE webhook = 3').fetchone()[0]
        con.close()
        check(left == 0, 'its outbox went with it (%d)' % left)
        check(not spec_problems, 'every answer of the API and every delivery as doc/api.yaml says (%s)' %
              spec_problems[:3])
        vty.close()
    finally:
        hole.close()
        if rcv.srv:
            rcv.down()
        rc = stop_daemon(d)
    return finish(workdir, rc, t0)


if __name__ == '__main__':
    sys.exit(main())
