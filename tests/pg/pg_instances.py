#!/usr/bin/env python3
"""Two osmo-uigw daemons on one PostgreSQL database (tests/pg/store_pg.sh starts the server and passes its
connection string): a spam number reported through each counts both reports, the count each dialog shows includes
the other gateway's report, the HTTP API of either gateway answers the same, 1,000 triggers at both at once start
exactly the campaign's cap, a key and a webhook made on one gateway work on the other at once (a webhook's
events committed by either are delivered once each, by the gateway that committed them; its deletion and a key's
revocation reach the other within seconds), each gateway's charging CSV files hold the records it committed
(together every record once), a third daemon with a name already in use does not start, a USSD dialog A held when it
was killed with SIGKILL is resumed on B, and A's answers survive its kill (A starts again under its name); the
database stopped and started again: the busy text meanwhile, then service, a dialog begun before goes on.
Run inside a network namespace (make check does): the daemons bind fixed ports on 127.0.0.1."""
import argparse
import http.client
import json
import threading
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'api'))
from uigwtest import Vty, check, failures, finish, log_cfg, start_daemon, stop_daemon, wait_port, key_of  # noqa
from webhook_integration import Receiver  # noqa: E402

NUMBER = '+4930555123'
GW = {'A': dict(vty=4290, ctrl=4291, http=8090), 'B': dict(vty=4294, ctrl=4295, http=8091)}
RCV_PORT = 8099


def cfg_text(name, camp, conninfo, cdr_dir):
    g = GW[name[:1]]
    return (log_cfg(store='info', dlg='info') + 'line vty\n bind 127.0.0.1 %d\n' % g['vty'] +
            'uigw\n campaigns-dir %s\n pseudonym-secret pg-instances-secret\n test-drive-results include\n' % camp +
            ' push-cap 3 per 86400\n' +
            'store\n backend postgresql\n conninfo %s\n instance gw%s\n hold-on-failure 3\n' % (conninfo, name) +
            ' cdr-directory %s\n' % cdr_dir +
            'gsup\n disable\nsip\n disable\napi\n bind 127.0.0.1 %d\n webhook backoff 100 800\n' % g['http'])


def api_get(port, path, key):
    p = subprocess.run(['curl', '-s', '-S', '--max-time', '10', '-H', 'Authorization: Bearer ' + key,
                        '-w', '\n%{http_code}', 'http://127.0.0.1:%d%s' % (port, path)],
                       capture_output=True, timeout=20)
    body, _, status = p.stdout.decode('utf-8', 'replace').rpartition('\n')
    try:
        return int(status), json.loads(body) if body else None
    except ValueError:
        return int(status or 0), body


def trigger_many(port, key, n, out):
    """n triggers of the call-quality rating for one subscriber on one keep-alive connection; out gets the
    statuses"""
    c = http.client.HTTPConnection('127.0.0.1', port, timeout=20)
    body = json.dumps({'campaign': 'callquality', 'msisdn': '+491709990001', 'via': 'vty',
                       'params': {'caller': '+4930111'}})
    for _ in range(n):
        c.request('POST', '/v1/triggers', body, {'Authorization': 'Bearer ' + key,
                                                 'Content-Type': 'application/json'})
        r = c.getresponse()
        r.read()
        out.append(r.status)
    c.close()


def api_call(port, method, path, key, body=None):
    c = http.client.HTTPConnection('127.0.0.1', port, timeout=20)
    c.request(method, path, json.dumps(body) if body is not None else None,
              {'Authorization': 'Bearer ' + key, 'Content-Type': 'application/json'})
    r = c.getresponse()
    data = r.read()
    c.close()
    try:
        return r.status, json.loads(data) if data else None
    except ValueError:
        return r.status, data


def until(cond, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return True
        time.sleep(0.1)
    return cond()


def psql(conninfo, sql):
    p = subprocess.run(['psql', '-X', '-A', '-t', '-q', '-d', conninfo, '-c', sql], capture_output=True, timeout=20)
    return p.stdout.decode().strip()


def report(vty, sub, number=NUMBER):
    """The spam menu dialled on the gateway's VTY channel: report a number, confirm. Returns the two texts that
    show the count (the confirmation, the thanks)."""
    vty.cmd('subscriber %s dial *7726#' % sub)
    vty.cmd('subscriber %s send 1' % sub)
    confirm = vty.cmd('subscriber %s send %s' % (sub, number))
    thanks = vty.cmd('subscriber %s send 1' % sub)
    return confirm, thanks


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--daemon', required=True)
    ap.add_argument('--top-srcdir', required=True)
    ap.add_argument('--conninfo', required=True)
    args = ap.parse_args()

    # a database of its own on the server (the other tests leave their rows in theirs); in a connection string the
    # last dbname counts
    psql(args.conninfo, 'DROP DATABASE IF EXISTS uigw_instances')
    psql(args.conninfo, 'CREATE DATABASE uigw_instances')
    args.conninfo += ' dbname=uigw_instances'
    workdir = tempfile.mkdtemp(prefix='uigw-pg-')
    camp = os.path.join(workdir, 'campaigns')
    shutil.copytree(os.path.join(args.top_srcdir, 'etc', 'campaigns'), camp)
    cfgs = {}
    for name in ('A', 'B', 'A2'):
        cfgs[name] = os.path.join(workdir, name + '.cfg')
        with open(cfgs[name], 'w') as f:
            f.write(cfg_text(name if name != 'A2' else 'A', camp, args.conninfo,
                             os.path.join(workdir, 'cdr' + name[:1])))
    # A's log after its restart is daemon.log (finish() checks its clean shutdown)
    logs = {n: open(os.path.join(workdir, n + '.log' if n != 'A3' else 'daemon.log'), 'w')
            for n in ('A', 'B', 'A2', 'A3')}
    t0 = time.time()
    d = {}
    try:
        d['A'] = start_daemon(args.daemon, cfgs['A'], GW['A']['ctrl'], workdir, logs['A'], GW['A']['vty'])
        va = Vty(GW['A']['vty'])
        key = key_of(va.cmd('api tenant operator key create all'))
        check(key is not None, 'an operator API key made on A')
        # B reads the keys at its start: it knows A's key
        d['B'] = start_daemon(args.daemon, cfgs['B'], GW['B']['ctrl'], workdir, logs['B'], GW['B']['vty'])
        vb = Vty(GW['B']['vty'])
        check('instance gwA: connection ready' in va.cmd('show store'), 'A: store on PostgreSQL, ready')
        check('instance gwB: connection ready' in vb.cmd('show store'), 'B: store on PostgreSQL, ready')

        # a third daemon under A's name does not start while A is connected
        d['A2'] = subprocess.Popen([args.daemon, '-c', cfgs['A2'], '-C', '4297'], cwd=workdir, stdout=logs['A2'],
                                   stderr=subprocess.STDOUT)
        try:
            rc = d['A2'].wait(timeout=20)
        except subprocess.TimeoutExpired:
            rc = None
        check(rc not in (None, 0), 'a second gateway named gwA exits (rc %s) while gwA is connected' % rc)
        d['A2'] = None

        # one report through each gateway: both count, each dialog reads the other's
        c1, t1 = report(va, '+491701000001')
        check('Reports so far: 0.' in c1 and 'so far: 1.' in t1, 'A: the first report (%r / %r)' % (c1, t1))
        c2, t2 = report(vb, '+491701000002')
        check('Reports so far: 1.' in c2 and 'so far: 2.' in t2,
              "B's dialog counts A's report, then its own (%r / %r)" % (c2, t2))
        check(psql(args.conninfo, "SELECT reports FROM spam_number WHERE number = '%s'" % NUMBER) == '2',
              'spam_number: 2 reports')

        # the API of either gateway: the same answers
        path = '/v1/spam/numbers/' + urllib.parse.quote(NUMBER, safe='')
        sa, ja = api_get(GW['A']['http'], path, key)
        sb, jb = api_get(GW['B']['http'], path, key)
        check(sa == 200 and sb == 200 and ja == jb and ja.get('reports') == 2,
              'GET %s on A and B: the same, 2 reports (%s %s / %s %s)' % (path, sa, ja, sb, jb))
        sa, ja = api_get(GW['A']['http'], '/v1/campaigns/spam/summary', key)
        sb, jb = api_get(GW['B']['http'], '/v1/campaigns/spam/summary', key)
        ja = {k: v for k, v in (ja or {}).items() if k != 'as_of'}
        jb = {k: v for k, v in (jb or {}).items() if k != 'as_of'}
        check(sa == 200 and sb == 200 and ja == jb, 'the spam summary on A and B: the same but its time (%s / %s)' % (ja, jb))

        # a key made on A after B started: B knows it at its first use; revoked on A: B refuses it within seconds
        out = va.cmd('api tenant operator key create results')
        key2 = key_of(out)
        kid = re.search(r'^id (\d+) ', out, re.M)
        sb, _ = api_get(GW['B']['http'], '/v1/campaigns/spam/summary', key2 or '-')
        check(key2 and kid and sb == 200, "a key made on A works on B at once (%s)" % sb)
        va.cmd('api tenant operator key revoke %s' % (kid.group(1) if kid else '0'))
        t_rev = time.time()
        check(until(lambda: api_get(GW['B']['http'], '/v1/campaigns/spam/summary', key2 or '-')[0] == 401, 8),
              'the key revoked on A is refused by B %.1f s later' % (time.time() - t_rev))

        # a webhook made on A hears the spam reports committed by either gateway, each delivered once, by the
        # gateway that committed it (B learns of the webhook within its 5 s re-read)
        rcv = Receiver(RCV_PORT)
        rcv.up()
        st, wh = api_call(GW['A']['http'], 'POST', '/v1/webhooks', key,
                          {'url': 'http://127.0.0.1:%d/hook' % RCV_PORT, 'events': ['spam.report']})
        check(st == 201 and wh and wh.get('id'), 'a webhook made on A (%s %s)' % (st, wh))
        wh_id = (wh or {}).get('id', 0)
        report(va, '+491701000021', '+4930666001')
        report(vb, '+491701000022', '+4930666001')
        delivered = until(lambda: len(rcv.got) >= 2 and
                          psql(args.conninfo, 'SELECT count(*) FROM webhook_outbox WHERE webhook = %d' % wh_id) == '0',
                          15)
        bodies = [json.loads(b) for _, _, b, _ in rcv.got]
        subs = sorted(b['data']['subscriber'] for b in bodies if b.get('event') == 'spam.report')
        ids = set(b['id'] for b in bodies)
        check(delivered and len(bodies) == 2 and len(ids) == 2 and len(subs) == 2 and subs[0] != subs[1],
              "the two reports (one through each gateway) delivered once each, the outbox empty (%d posts, %s)"
              % (len(bodies), subs))
        time.sleep(0.5)
        check(len(rcv.got) == 2, 'and nothing delivered twice (%d posts)' % len(rcv.got))
        # deleted on B: A stops knowing it within its re-read
        st, _ = api_call(GW['B']['http'], 'DELETE', '/v1/webhooks/%d' % wh_id, key)
        check(st == 204, 'the webhook deleted on B (%s)' % st)
        check(until(lambda: api_call(GW['A']['http'], 'GET', '/v1/webhooks/%d' % wh_id, key)[0] == 404, 8),
              'A no longer knows the webhook B deleted')
        rcv.down()

        # 1,000 triggers for one subscriber, 500 at each gateway at the same time: the campaign's cap (push_cap
        # count 1 per day, etc/campaigns/callquality.conf; the gateway-wide one of 3 is looser) holds across both
        sa, sb = [], []
        ts = [threading.Thread(target=trigger_many, args=(GW['A']['http'], key, 500, sa)),
              threading.Thread(target=trigger_many, args=(GW['B']['http'], key, 500, sb))]
        for t in ts:
            t.start()
        for t in ts:
            t.join(120)
        accepted = sum(1 for x in sa + sb if x in (200, 201, 202))
        check(len(sa) + len(sb) == 1000 and accepted == 1 and set(sa + sb) == {202, 409},
              '1,000 triggers at both gateways at once: %d accepted (cap 1), the others 409, statuses %s'
              % (accepted, sorted(set(sa + sb))))
        # the refusals' own rows are written after the answers (nobody waits for them)
        for _ in range(100):
            capped = psql(args.conninfo, "SELECT count(*) FROM push WHERE result = 'capped'")
            if capped == '999':
                break
            time.sleep(0.1)
        sent = psql(args.conninfo, "SELECT count(*) FROM push WHERE result = 'sent'")
        check(sent == '1' and capped == '999',
              "push: 1 sent, 999 capped, on both gateways together (%s sent, %s capped)" % (sent, capped))

        # a USSD dialog on A, cut by A's death at the confirmation: the subscriber dials again, reaches B, and goes
        # on where they were, with the number they had typed
        sub = '+491701000009'
        va.cmd('subscriber %s dial *7726#' % sub)
        va.cmd('subscriber %s send 1' % sub)
        c4 = va.cmd('subscriber %s send %s' % (sub, '+4930777888'))
        check('Report +4930777888?' in c4, 'A: the dialog waits at the confirmation (%r)' % c4)
        # and an SMS dialog on A waiting for the reported number
        smsub = '+491701000012'
        r = va.cmd('subscriber %s sms 7726 SPAM' % smsub)
        check('Number that called you?' in r, 'A: an SMS dialog asks for the number (%r)' % r)
        time.sleep(0.3)	# the step's state is a log row: written within 20 ms

        # A killed: what it acknowledged stays; it starts again under its name once its session is gone
        d['A'].send_signal(signal.SIGKILL)
        d['A'].wait()
        va.close()
        r = vb.cmd('subscriber %s dial *7726#' % sub)
        check('Welcome back.' in r and 'Report +4930777888?' in r,
              'B resumes the dialog A held, at the confirmation, with the number (%r)' % r)
        r = vb.cmd('subscriber %s send 1' % sub)
        check('Reports of +4930777888 so far: 1.' in r, 'B: the report confirmed there is counted (%r)' % r)
        r = vb.cmd('subscriber %s dial *7726#' % sub)
        check('Welcome back.' not in r and 'Report a number' in r, 'a completed dialog is not resumed again (%r)' % r)
        vb.cmd('subscriber %s hangup' % sub)
        # the SMS reply A would have waited for reaches B: B goes on with A's dialog
        r = vb.cmd('subscriber %s sms 7726 +4930777999' % smsub)
        check('Report +4930777999?' in r, "B takes the SMS reply as the answer to A's question (%r)" % r)
        r = vb.cmd('subscriber %s send 1' % smsub)
        check('Reports of +4930777999 so far: 1.' in r, 'B: the SMS dialog ends with the report counted (%r)' % r)
        r = vb.cmd('subscriber %s sms 7726 +4930777999' % smsub)
        check('Report +4930777999?' not in r, 'a finished SMS dialog is not taken up again (%r)' % r)

        d['A'] = start_daemon(args.daemon, cfgs['A'], GW['A']['ctrl'], workdir, logs['A3'], GW['A']['vty'])
        check(wait_port(GW['A']['vty'], 15), 'A starts again as gwA after its kill')
        va = Vty(GW['A']['vty'])
        c3, _ = report(va, '+491701000003')
        check('Reports so far: 2.' in c3, 'A again: the two earlier reports are there (%r)' % c3)
        check(psql(args.conninfo, "SELECT count(*) FROM spam_report WHERE number = '%s'" % NUMBER) == '3',
              'spam_report: the three reports, none twice')
        # the dialog ids of each gateway carry its instance's number: A (before and after its restart) and B
        # never write the same dialog
        nums = psql(args.conninfo, "SELECT string_agg(DISTINCT (id >> 51)::text, ',' ORDER BY (id >> 51)::text)"
                    " FROM dialog")
        inst = psql(args.conninfo, "SELECT string_agg(num::text, ',' ORDER BY num::text) FROM uigw_instance"
                    " WHERE name IN ('gwA', 'gwB')")
        check(nums == inst and len(nums.split(',')) == 2,
              "the dialogs' ids: the two gateways' instance numbers on top (%s; instances %s)" % (nums, inst))

        # the database stopped (immediately: a crash for its clients): new dialogs get the busy text; started
        # again: the gateways come back by themselves and serve; nothing committed before is lost
        srv, srvdir = os.environ.get('UIGW_TEST_PG_SERVER'), os.environ.get('UIGW_TEST_PG_DIR')
        if srv and srvdir:
            running = '+491701000011'
            vb.cmd('subscriber %s dial *7726#' % running)
            vb.cmd('subscriber %s send 1' % running)
            subprocess.run(['sh', srv, 'stop', srvdir], timeout=60)
            time.sleep(0.5)
            r = vb.cmd('subscriber +491701000010 dial *7726#')
            check('The service is busy.' in r and 'FAILING' in vb.cmd('show store'),
                  'database down: B answers the busy text, show store says FAILING (%r)' % r)
            subprocess.run(['sh', srv, 'restart', srvdir], timeout=60)
            up = False
            for _ in range(100):
                if 'connection ready' in vb.cmd('show store') and 'connection ready' in va.cmd('show store'):
                    up = True
                    break
                time.sleep(0.1)
            check(up, 'both gateways connected again within 10 s of the restart')
            r = vb.cmd('subscriber +491701000010 dial *7726#')
            check('Report a number' in r, 'B serves a new dialog again (%r)' % r)
            vb.cmd('subscriber %s send %s' % (running, NUMBER))
            r = vb.cmd('subscriber %s send 1' % running)
            check('so far: 4.' in r, 'a dialog begun before the crash goes on after it, its report counted (%r)' % r)
            check(psql(args.conninfo, "SELECT reports FROM spam_number WHERE number = '%s'" % NUMBER) == '4' and
                  psql(args.conninfo, "SELECT count(*) FROM spam_report WHERE number = '%s'" % NUMBER) == '4',
                  'the reports committed before the crash are all there, the new one once')
        va.close()
        vb.close()
    finally:
        rcs = {n: stop_daemon(p) for n, p in d.items()}
        for f in logs.values():
            f.close()
    # the charging CSV files: each gateway's of the records it committed; together every record of table cdr,
    # each once (A was killed with -9 once: its file left open is repaired at its next start)
    in_files = []
    for g in ('A', 'B'):
        folder = os.path.join(workdir, 'cdr' + g)
        for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
            if name.endswith('.csv'):
                with open(os.path.join(folder, name)) as f:
                    in_files += [int(line.split(',')[0]) for line in f.read().splitlines()[1:]]
    in_table = sorted(int(x) for x in psql(args.conninfo, 'SELECT id FROM cdr').split())
    check(in_table and sorted(in_files) == in_table,
          'the CSV files of A and B: every record of table cdr once (%d in files, %d in the table)'
          % (len(in_files), len(in_table)))
    with open(os.path.join(workdir, 'B.log'), errors='replace') as f:
        check(rcs.get('B') == 0 and 'talloc report empty' in f.read(), 'B stops cleanly (rc %s)' % rcs.get('B'))
    return finish(workdir, rcs.get('A'), t0, ' (pg_instances)', ['A.log', 'B.log', 'A2.log'])


if __name__ == '__main__':
    sys.exit(main())
