#!/usr/bin/env python3
"""HTTP API integration test: curl against the real osmo-uigw daemon on 127.0.0.1; the dialogs it starts are
answered over SMS through an independent SMSC (node-smpp, tests/smpp/smsc.js). Every response is validated
against doc/api.yaml (OpenAPI 3.1, JSON Schema 2020-12) with python3-jsonschema.

Covered: keys per scope created and revoked at the VTY (printed once, stored as SHA-256 only); 401 without a key,
with a wrong key, with a revoked key; 403 for a missing scope; 404 for another tenant's campaign, with the same
body as for a missing one; a third party lists only its campaign, triggers it for a subscriber who answers over
SMS, follows the dialog to "answered", reads back exactly its answers (with the trigger's parameters) and a
summary that matches; the operator triggers the call-quality rating with caller= and reads the caller beside the
rating; the spam feed lists a number reported over SMS and over USSD (smpp-sms, smpp-ussd) with both reports;
malformed and oversized JSON, a wrong content type, unknown fields, a path-traversal campaign name, a non-E.164
number get their documented 4xx and store nothing; SQL-looking parameters are stored verbatim; a slow client is
cut off after idle-timeout while others are served; a tenant over its rate limit gets 429 with Retry-After;
every call is in the audit table; the daemon shuts down cleanly. Ports 42950-42953.
"""
import argparse
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

import jsonschema
import yaml

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, '..'))
sys.path.insert(0, os.path.join(here, '..', 'smpp'))
from uigwtest import failures, check, gw_cfg, Vty, start_daemon, stop_daemon, wait_port, finish  # noqa: E402,F401
from smpp_integration import Smsc, deliver, is_submit, submit_text, ussd_mo, is_ussd  # noqa: E402
import smpp_integration  # noqa: E402

SMSC_PORT = 42950
VTY_PORT = 42951
CTRL_PORT = 42952
HTTP_PORT = 42953
BASE = 'http://127.0.0.1:%d' % HTTP_PORT


class Spec:
    """doc/api.yaml: the schema of each (path template, method, status)."""

    def __init__(self, path):
        with open(path) as f:
            self.doc = yaml.safe_load(f)
        self.resolver = jsonschema.RefResolver.from_schema(self.doc)
        self.templates = [(re.compile('^' + re.sub(r'\{[^}]+\}', '[^/]+', p) + '$'), p) for p in self.doc['paths']]
        self.seen = set()

    def _deref(self, obj):
        while isinstance(obj, dict) and '$ref' in obj:
            _, obj = self.resolver.resolve(obj['$ref'])
        return obj

    def validate(self, method, path, status, body):
        """None if the response is documented and matches, else the problem."""
        tmpl = next((p for r, p in self.templates if r.match(path.split('?')[0])), None)
        if tmpl is None:
            # unknown paths: only the generic errors are documented (401 before 404)
            schema = {'$ref': '#/components/schemas/Error'} if status in (401, 404, 429) else None
        else:
            op = self.doc['paths'][tmpl].get(method.lower())
            if op is None:
                schema = {'$ref': '#/components/schemas/Error'} if status in (401, 405, 429) else None
            else:
                resp = self._deref(op['responses'].get(str(status)))
                if resp is None:
                    return 'status %d of %s %s is not documented' % (status, method, tmpl)
                schema = resp['content']['application/json']['schema']
                self.seen.add((tmpl, method, status))
        if schema is None:
            return 'status %d of %s %s is not documented' % (status, method, path)
        try:
            jsonschema.Draft202012Validator(schema, resolver=self.resolver,
                                            format_checker=jsonschema.FormatChecker()).validate(body)
        except jsonschema.ValidationError as e:
            return 'schema: %s at %s' % (e.message, '/'.join(str(x) for x in e.absolute_path))
        return None


spec = None
calls = 0
CURL_TLS = []


def http(method, path, key=None, body=None, ctype='application/json', data=None, headers=(), spec_check=True):
    """curl one request; returns (status, headers dict (lower-case names), parsed JSON or None)."""
    global calls
    cmd = ['curl', '-s', '-S', '--max-time', '10', '-X', method, '-D', '-', '-o', '-'] + CURL_TLS + [BASE + path]
    if key:
        cmd += ['-H', 'Authorization: Bearer ' + key]
    if body is not None or data is not None:
        if ctype:
            cmd += ['-H', 'Content-Type: ' + ctype]
        cmd += ['--data-binary', '@-']
    for h in headers:
        cmd += ['-H', h]
    raw = data if data is not None else (json.dumps(body).encode() if body is not None else None)
    p = subprocess.run(cmd, input=raw, capture_output=True, timeout=20)
    calls += 1
    out = p.stdout.decode('utf-8', 'replace')
    head, _, text = out.partition('\r\n\r\n')
    lines = head.split('\r\n')
    m = re.match(r'HTTP/1\.1 (\d+)', lines[0]) if lines else None
    status = int(m.group(1)) if m else 0
    hdrs = {}
    for ln in lines[1:]:
        k, _, v = ln.partition(':')
        hdrs[k.strip().lower()] = v.strip()
    try:
        j = json.loads(text) if text else None
    except ValueError:
        j = None
    problem = 'no JSON body' if j is None else spec.validate(method, path, status, j)
    if spec_check:
            check(problem is None, '  %s %s -> %d matches doc/api.yaml%s' % (method, path[:60], status,
                                                                         ': ' + problem if problem else ''))
    return status, hdrs, j


def key_of(vty_out):
    m = re.search(r'^key (uk_[0-9a-f]{64})$', vty_out, re.M)
    i = re.search(r'^id (\d+) ', vty_out, re.M)
    return (m.group(1) if m else None), (int(i.group(1)) if i else None)


def ask(smsc, src, dst, text, expect, timeout=10):
    deliver(smsc, src, dst, text)
    e = smsc.wait(lambda e: is_submit(e, src), timeout)
    got = submit_text(e) if e else None
    check(e is not None and expect in got, '"%s" -> reply containing "%s" (got %r)' % (text, expect, got))
    return e


def main():
    global spec, BASE, CURL_TLS, calls
    ap = argparse.ArgumentParser()
    ap.add_argument('--daemon', required=True)
    ap.add_argument('--top-srcdir', required=True)
    ap.add_argument('--node', default='node')
    args = ap.parse_args()
    spec = Spec(os.path.join(args.top_srcdir, 'doc', 'api.yaml'))

    workdir = tempfile.mkdtemp(prefix='uigw-api-')
    camp = os.path.join(workdir, 'campaigns')
    os.mkdir(camp)
    for f in os.listdir(os.path.join(args.top_srcdir, 'etc', 'campaigns')):
        shutil.copy(os.path.join(args.top_srcdir, 'etc', 'campaigns', f), camp)
    shutil.copy(os.path.join(args.top_srcdir, 'tests', 'data', 'api', 'acme.conf'), camp)
    db = os.path.join(workdir, 'test.db')
    cfg = os.path.join(workdir, 'osmo-uigw.cfg')
    with open(cfg, 'w') as f:
        f.write(gw_cfg(VTY_PORT, camp, db, 'api-test-secret', SMSC_PORT, reconnect_ms=200, gsup=True, api='info',
                         test_results=False) +
                '''api
 bind 127.0.0.1 %d
 idle-timeout 2
 tenant acme
  channels smpp-sms smpp-ussd
  node-types rating yesno choice info
  max-proposals 2
 tenant other
 tenant slowpoke
  rate-limit 1
''' % HTTP_PORT)

    smpp_integration.SMSC_PORT = SMSC_PORT
    smsc = Smsc(args.node, os.path.join(args.top_srcdir, 'tests', 'smpp'), workdir)
    check(smsc.wait(lambda e: e.get('event') == 'listening', 15) is not None, 'node-smpp SMSC listening')
    dlog = open(os.path.join(workdir, 'daemon.log'), 'w')
    t0 = time.time()
    d = None
    try:
        d = start_daemon(args.daemon, cfg, CTRL_PORT, workdir, dlog)
        check(smsc.wait(lambda e: e.get('dir') == 'tx' and e.get('command') == 'bind_transceiver_resp', 15)
              is not None, 'the gateway bound to the SMSC')
        wait_port(HTTP_PORT)
        vty = Vty(VTY_PORT)

        # --- keys ---------------------------------------------------------------------------------------------
        op_key, op_id = key_of(vty.cmd('api tenant operator key create all'))
        acme_key, acme_id = key_of(vty.cmd('api tenant acme key create campaigns trigger results'))
        acme_ro, _ = key_of(vty.cmd('api tenant acme key create campaigns'))
        other_key, _ = key_of(vty.cmd('api tenant other key create campaigns trigger results'))
        spam_key, _ = key_of(vty.cmd('api tenant operator key create spam'))
        slow_key, _ = key_of(vty.cmd('api tenant slowpoke key create campaigns'))
        gone_key, gone_id = key_of(vty.cmd('api tenant acme key create campaigns'))
        check(all((op_key, acme_key, acme_ro, other_key, spam_key, slow_key, gone_key)), 'keys created at the VTY')
        out = vty.cmd('api tenant nosuch key create all')
        check('No tenant' in out, 'a key for an unknown tenant is refused: %r' % out)
        out = vty.cmd('api tenant acme key create nosuchscope')
        check('Unknown scope' in out, 'an unknown scope is refused: %r' % out)
        con = sqlite3.connect(db, timeout=5)
        rows = con.execute('select hash, scopes from api_key order by id').fetchall()
        check(len(rows) == 7 and all(len(h) == 64 for h, _ in rows), 'keys stored: %d rows with SHA-256' % len(rows))
        dump = b''.join(open(os.path.join(workdir, f), 'rb').read() for f in os.listdir(workdir)
                        if f.startswith('test.db'))
        check(op_key.encode() not in dump and acme_key.encode() not in dump, 'no key itself is in the database files')

        # --- authentication and scopes --------------------------------------------------------------------------
        st, h, j = http('GET', '/v1/campaigns')
        check(st == 401 and h.get('www-authenticate', '').startswith('Bearer'), 'no key: 401 with WWW-Authenticate')
        st, _, _ = http('GET', '/v1/campaigns', key='uk_' + '0' * 64)
        check(st == 401, 'wrong key: 401')
        st, _, _ = http('GET', '/v1/campaigns', key=gone_key)
        check(st == 200, 'a key works before its revocation')
        out = vty.cmd('api tenant acme key revoke %d' % gone_id)
        st, _, _ = http('GET', '/v1/campaigns', key=gone_key)
        check(st == 401, 'revoked key: 401')
        check(con.execute('select revoked is not null from api_key where id=?', (gone_id,)).fetchone()[0] == 1,
              'the revocation is stored')
        st, _, j = http('GET', '/v1/campaigns/acme-survey/results', key=acme_ro)
        check(st == 403 and 'results' in j.get('message', ''), 'missing scope: 403 naming the scope')
        st, _, j = http('POST', '/v1/triggers', key=acme_ro, body={'campaign': 'acme-survey', 'msisdn': '+491720000900'})
        check(st == 403, 'trigger without scope trigger: 403')
        st, _, j = http('GET', '/v1/spam/numbers', key=acme_key)
        check(st == 403, 'third party without scope spam: 403')
        st, h, _ = http('DELETE', '/v1/campaigns', key=op_key)
        check(st == 405 and h.get('allow') == 'GET, POST', 'wrong method: 405 with Allow: GET, POST')
        st, _, _ = http('GET', '/v1/nothing/here', key=op_key)
        check(st == 404, 'unknown path: 404')

        # --- ownership -------------------------------------------------------------------------------------------
        st, _, j = http('GET', '/v1/campaigns', key=acme_key)
        names = [c['name'] for c in j.get('campaigns', [])] if j else []
        check(st == 200 and names == ['acme-survey'], 'acme sees only its campaign: %s' % names)
        st, _, j = http('GET', '/v1/campaigns', key=op_key)
        names = [c['name'] for c in j.get('campaigns', [])] if j else []
        check(st == 200 and 'acme-survey' in names and 'callquality' in names and len(names) == 9,
              'the operator sees every campaign: %s' % names)
        st1, _, j1 = http('GET', '/v1/campaigns/callquality', key=acme_key)
        st2, _, j2 = http('GET', '/v1/campaigns/nosuch', key=acme_key)
        check(st1 == 404 and st2 == 404 and j1['error'] == j2['error'], 'another tenant\'s campaign: 404 like a missing one')
        st, _, j = http('GET', '/v1/campaigns/acme-survey', key=other_key)
        check(st == 404, 'tenant other cannot see acme-survey')
        st, _, j = http('GET', '/v1/campaigns/acme-survey/results', key=other_key)
        check(st == 404, 'tenant other cannot read acme-survey\'s results')
        st, _, j = http('POST', '/v1/triggers', key=other_key, body={'campaign': 'acme-survey', 'msisdn': '+491720000900'})
        check(st == 404, 'tenant other cannot trigger acme-survey')
        st, _, j = http('GET', '/v1/campaigns/acme-survey', key=acme_key)
        check(st == 200 and j['owner'] == 'acme' and j['params'] == [{'name': 'order', 'default': ''}],
              'acme reads its campaign with its parameters')

        # --- bad input: nothing stored, the daemon keeps serving ----------------------------------------------
        n_dialogs = lambda: con.execute('select count(*) from push').fetchone()[0]  # noqa: E731
        before = n_dialogs()
        st, _, j = http('POST', '/v1/triggers', key=acme_key, data=b'{"campaign": "acme-survey", ')
        check(st == 400 and j['error'] == 'bad_json', 'malformed JSON: 400 bad_json')
        st, _, j = http('POST', '/v1/triggers', key=acme_key, data=b'{"a":"' + b'x' * 70000 + b'"}')
        check(st == 413, 'a body over 64 KiB: 413')
        st, _, j = http('GET', '/v1/campaigns', key=acme_key, headers=('X-Padding: ' + 'p' * 4000,))
        check(st == 200, 'a request with 4 KB of headers is served')
        st, _, j = http('GET', '/v1/campaigns', key=acme_key, headers=('X-Padding: ' + 'p' * 12000,),
                        spec_check=False)  # libmicrohttpd's own HTML page
        check(st == 431, 'headers over the 8 KiB a connection has: 431 (%d)' % st)
        calls -= 1  # answered by libmicrohttpd before the handler: no audit row
        st, _, j = http('POST', '/v1/triggers', key=acme_key, data=b'campaign=acme-survey', ctype='application/x-www-form-urlencoded')
        check(st == 415, 'form data: 415')
        st, _, j = http('POST', '/v1/triggers', key=acme_key, data=b'{"campaign":"acme-survey"}', ctype=None)
        check(st == 415, 'no content type: 415')
        st, _, j = http('POST', '/v1/triggers', key=acme_key, body={'campaign': 'acme-survey', 'msisdn': '+491720000900',
                                                                    'colour': 'red'})
        check(st == 422 and j['errors'] == [{'path': '/colour', 'reason': 'unknown field'}], 'unknown field: 422 naming it')
        st, _, j = http('POST', '/v1/triggers', key=acme_key, body={'campaign': '../x', 'msisdn': '+491720000900'})
        check(st == 422 and j['errors'][0]['path'] == '/campaign', 'path-traversal campaign name: 422')
        st, _, j = http('POST', '/v1/triggers', key=acme_key, body={'campaign': 'acme-survey', 'msisdn': '01720000900'})
        check(st == 422 and j['errors'][0]['path'] == '/msisdn', 'non-E.164 msisdn: 422')
        st, _, j = http('POST', '/v1/triggers', key=acme_key, body=['campaign'])
        check(st == 422, 'a JSON array: 422')
        st, _, j = http('POST', '/v1/triggers', key=acme_key, body={'campaign': 'acme-survey', 'msisdn': '+491720000900',
                                                                    'params': {'order': {'deep': 1}}})
        check(st == 422 and j['errors'][0]['path'] == '/params/order', 'a non-string parameter: 422')
        st, _, j = http('POST', '/v1/triggers', key=acme_key, body={'campaign': 'acme-survey', 'msisdn': '+491720000900',
                                                                    'via': 'map'})
        check(st == 409 and j['refusal'] == 'channel_not_allowed', 'a channel the tenant may not use: 409')
        st, _, j = http('GET', '/v1/campaigns/acme-survey/results?limit=0', key=acme_key)
        check(st == 400, 'limit=0: 400')
        check(n_dialogs() == before, 'nothing was pushed by the refused requests')

        # --- a third party's survey, answered over SMS --------------------------------------------------------
        SUB = '491720000901'
        st, _, j = http('POST', '/v1/triggers', key=acme_key, body={'campaign': 'acme-survey', 'msisdn': '+' + SUB,
                                                                    'via': 'smpp-sms', 'params': {'order': 'A-1001'}})
        check(st == 202 and j['channel'] == 'smpp-sms', 'acme triggers its survey via smpp-sms: %s %s' % (st, j))
        did = j['id'] if j else '0'
        e = smsc.wait(lambda e: is_submit(e, SUB), 10)
        check(e is not None and 'order A-1001' in submit_text(e) and e.get('source_addr') == '7740',
              'the question reaches the SMSC with the parameter, from short code 7740')
        st, _, j = http('GET', '/v1/dialogs/' + did, key=acme_key)
        check(st == 200 and j['state'] == 'pending', 'the dialog is pending: %s' % (j,))
        ask(smsc, SUB, '7740', '4', 'order from Acme again')
        st, _, j = http('GET', '/v1/dialogs/' + did, key=acme_key)
        check(st == 200 and j['state'] == 'running' and j['steps'] >= 1, 'the dialog is running: %s' % (j,))
        ask(smsc, SUB, '7740', 'yes', 'Thank you from Acme')
        time.sleep(0.3)
        st, _, j = http('GET', '/v1/dialogs/' + did, key=acme_key)
        check(st == 200 and j['state'] == 'answered' and j['reason'] == 'completed' and 'ended' in j,
              'the dialog is answered: %s' % (j,))
        st, _, j = http('GET', '/v1/dialogs/' + did, key=other_key)
        check(st == 404, 'another tenant cannot see the dialog')
        # a second subscriber, so that the summary has a mean of two
        SUB2 = '491720000902'
        st, _, j = http('POST', '/v1/triggers', key=acme_key, body={'campaign': 'acme-survey', 'msisdn': '+' + SUB2,
                                                                    'via': 'smpp-sms', 'params': {'order': "x'; DROP TABLE response; --"}})
        check(st == 202, 'SQL-looking parameter accepted')
        e = smsc.wait(lambda e: is_submit(e, SUB2), 10)
        ask(smsc, SUB2, '7740', '1', 'order from Acme again')
        ask(smsc, SUB2, '7740', 'no', 'Thank you from Acme')
        time.sleep(0.3)
        st, _, j = http('GET', '/v1/campaigns/acme-survey/results', key=acme_key)
        res = j['results'] if j else []
        check(st == 200 and len(res) == 4 and j['next'] is None, 'acme reads exactly its 4 answers: %d' % len(res))
        got = sorted((r['question'], r['value'], r['params'].get('order')) for r in res)
        want = sorted([('delivery', '4', 'A-1001'), ('again', 'yes', 'A-1001'),
                       ('delivery', '1', "x'; DROP TABLE response; --"), ('again', 'no', "x'; DROP TABLE response; --")])
        check(got == want, 'answers with their parameters, the SQL-looking one verbatim: %s' % got)
        check(all(r['channel'] == 'smpp-sms' and re.match('^[0-9a-f]{32}$', r['subscriber']) for r in res)
              and SUB not in json.dumps(j), 'pseudonymous subscribers, channel smpp-sms, no number')
        st, _, j2 = http('GET', '/v1/campaigns/acme-survey/results?limit=3', key=acme_key)
        st3, _, j3 = http('GET', '/v1/campaigns/acme-survey/results?limit=3&after=%d' % (j2['next'] or 0), key=acme_key)
        check(len(j2['results']) == 3 and j2['next'] and len(j3['results']) == 1 and j3['next'] is None
              and [r['id'] for r in j2['results'] + j3['results']] == [r['id'] for r in res], 'cursor pagination')
        st, _, j = http('GET', '/v1/campaigns/acme-survey/summary', key=acme_key)
        q = {x['question']: x for x in j['questions']} if j else {}
        check(st == 200 and q.get('delivery', {}).get('count') == 2 and q['delivery']['mean'] == 2.5
              and q['delivery']['histogram'] == {'1': 1, '4': 1} and q['again']['mean'] is None
              and q['again']['histogram'] == {'yes': 1, 'no': 1} and j['channels'] == {'smpp-sms': 4}
              and j['dialogs']['completed'] == 2 and j['responses'] == 4, 'the summary matches: %s' % (j,))
        check(con.execute('select count(*) from response').fetchone()[0] >= 4, 'the response table is intact')

        # the operator test-drives the same campaign: its dialog is flagged (test) and left out of the tenant's
        # results and summary (default test-drive-results exclude), unless asked with include_test=true
        out = vty.cmd('trigger acme-survey +491720000905 via vty order=T-1')
        vty.cmd('subscriber +491720000905 send 5')
        vty.cmd('subscriber +491720000905 send yes')
        vty.cmd('show charging records 1')	# commits what is queued
        st, _, j = http('GET', '/v1/campaigns/acme-survey/results', key=acme_key)
        check(st == 200 and len(j['results']) == 4 and all(r['channel'] == 'smpp-sms' for r in j['results']),
              'the test drive is not in the results: %d answers' % len(j['results']))
        st, _, j = http('GET', '/v1/campaigns/acme-survey/results?include_test=true', key=acme_key)
        check(st == 200 and len(j['results']) == 6 and sum(r['channel'] == 'vty' for r in j['results']) == 2,
              'include_test=true adds its 2 answers: %s' % [r['channel'] for r in j.get('results', [])])
        st, _, j = http('GET', '/v1/campaigns/acme-survey/summary', key=acme_key)
        check(st == 200 and j['channels'] == {'smpp-sms': 4} and j['responses'] == 4 and j['dialogs']['completed'] == 2,
              'the summary leaves the test drive out: %s' % (j,))
        st, _, j = http('GET', '/v1/campaigns/acme-survey/summary?include_test=true', key=acme_key)
        check(st == 200 and j['channels'] == {'smpp-sms': 4, 'vty': 2} and j['responses'] == 6
              and j['dialogs']['completed'] == 3, 'and counts it when asked: %s' % (j,))
        flagged = con.execute("select test from dialog where channel = 'vty' and campaign = 'acme-survey'").fetchall()
        check(flagged == [(1,)], 'the test drive\'s dialog is flagged: %s' % flagged)

        # --- a third party proposes a survey; the operator approves it; it runs and is read back ---------------
        poll = {'name': 'acme-poll', 'title': {'en': 'Acme poll'}, 'channels': ['smpp-sms'], 'network_only': True,
                'entry': {'sms': [{'short_code': '7741', 'keywords': ['POLL']}]},
                'push_cap': {'count': 1, 'per': 86400},
                'nodes': [{'id': 'q1', 'type': 'rating', 'scale': 5, 'text': {'en': 'Rate the Acme app 1-5'},
                           'next': 'end'},
                          {'id': 'end', 'type': 'info', 'text': {'en': 'Thanks from Acme'}}]}
        prop_key, _ = key_of(vty.cmd('api tenant acme key create campaigns trigger results admin'))
        admin_key, _ = key_of(vty.cmd('api tenant operator key create admin'))
        bad = [({'name': '../x'}, '/name'),
               (dict(poll, name='acme-x', colour='red'), '/colour'),
               (dict(poll, name='acme-x', nodes=[{'id': 'q', 'type': 'text', 'text': 'x'}]), '/nodes'),
               (dict(poll, name='acme-x', nodes=[dict(poll['nodes'][0], next='nowhere')]), '/nodes/0'),
               (dict(poll, name='acme-x', push_cap={'count': 5, 'per': 60}), '/push_cap'),
               (dict(poll, name='acme-x', channels=['map']), '/channels'),
               (dict(poll, name='acme-x', owner='other'), '/owner'),
               (dict(poll, name='acme-x', title=None), '/title'),
               (dict(poll, name='acme-x', nodes=[{'id': 'n%d' % i, 'type': 'info', 'text': 'x'} for i in range(21)]),
                '/nodes')]
        ok_all = True
        for body, where in bad:
            st, _, j = http('POST', '/v1/campaigns', key=prop_key, body=body)
            paths = [e['path'] for e in j.get('errors', [])] if j else []
            ok_all &= check(st == 422 and any(p_ == where or p_.startswith(where + '/') for p_ in paths),
                            'a bad proposal: 422 at %s (%s)' % (where, j.get('errors') if j else None))
        check(not os.path.exists(os.path.join(camp, 'proposed', 'acme-x.conf')), 'no bad proposal was kept')
        st, _, j = http('POST', '/v1/campaigns', key=prop_key, body=dict(poll, name='callquality'))
        check(st == 409, 'a proposal named like a campaign in service: 409')
        st, _, j = http('POST', '/v1/campaigns', key=prop_key, body=poll)
        check(st == 201 and j['state'] == 'proposed' and j['owner'] == 'acme', 'acme proposes acme-poll: 201 proposed')
        check(os.path.exists(os.path.join(camp, 'proposed', 'acme-poll.conf')), 'the proposal is a file in proposed/')
        st, _, j = http('POST', '/v1/campaigns', key=prop_key, body=poll)
        check(st == 409, 'the same proposal twice: 409')
        st, _, j = http('GET', '/v1/campaigns', key=prop_key)
        check(st == 200 and {c['name']: c['state'] for c in j['campaigns']} == {'acme-survey': 'enabled', 'acme-poll': 'proposed'},
              'acme lists its campaign and its proposal')
        st, _, j = http('GET', '/v1/campaigns/acme-poll', key=other_key)
        check(st == 404, 'another tenant cannot see the proposal')
        st, _, j = http('POST', '/v1/triggers', key=prop_key, body={'campaign': 'acme-poll', 'msisdn': '+491720000905',
                                                                    'via': 'smpp-sms'})
        check(st == 409 and j['refusal'] == 'not_approved', 'a trigger before the approval: 409 not_approved: %s' % (j,))
        st, _, j = http('POST', '/v1/campaigns/acme-poll/approve', key=prop_key)
        check(st == 403, 'a third party cannot approve, even with scope admin')
        st, _, j = http('POST', '/v1/campaigns/acme-poll/approve', key=acme_key)
        check(st == 403, 'approve without scope admin: 403')
        st, _, j = http('POST', '/v1/campaigns/acme-poll/approve', key=admin_key)
        check(st == 200 and j['state'] == 'enabled' and j['owner'] == 'acme', 'the operator approves: in service')
        check(os.path.exists(os.path.join(camp, 'acme-poll.conf')) and
              not os.path.exists(os.path.join(camp, 'proposed', 'acme-poll.conf')), 'the file moved into the campaigns folder')
        SUB4 = '491720000905'
        st, _, j = http('POST', '/v1/triggers', key=prop_key, body={'campaign': 'acme-poll', 'msisdn': '+' + SUB4,
                                                                    'via': 'smpp-sms'})
        check(st == 202, 'the trigger after the approval: 202')
        e = smsc.wait(lambda e: is_submit(e, SUB4), 10)
        check(e is not None and 'Rate the Acme app' in submit_text(e) and e.get('source_addr') == '7741',
              'the approved survey reaches the subscriber from 7741')
        ask(smsc, SUB4, '7741', '5', 'Thanks from Acme')
        time.sleep(0.3)
        st, _, j = http('GET', '/v1/campaigns/acme-poll/results', key=prop_key)
        check(st == 200 and [(r['question'], r['value']) for r in j['results']] == [('q1', '5')],
              'acme reads exactly its answer to the approved survey')
        st, _, j = http('GET', '/v1/campaigns/acme-poll/summary', key=prop_key)
        check(st == 200 and j['questions'][0]['mean'] == 5.0 and j['questions'][0]['count'] == 1, 'and its summary')
        # a second proposal, rejected at the VTY
        st, _, j = http('POST', '/v1/campaigns', key=prop_key, body=dict(poll, name='acme-later', entry={}))
        check(st == 201, 'acme proposes acme-later')
        out = vty.cmd('show campaigns')
        check('Proposed by acme, waiting for approval: acme-later' in out, 'show campaigns lists the proposal')
        out = vty.cmd('campaign acme-nope approve')
        check('No proposed campaign' in out, 'approving an unknown proposal: %r' % out)
        # a third, left proposed across the restart below
        st, _, j = http('POST', '/v1/campaigns', key=prop_key, body=dict(poll, name='acme-pending', entry={}))
        check(st == 201, 'acme proposes acme-pending')
        out = vty.cmd('campaign acme-later reject')
        st, _, j = http('GET', '/v1/campaigns/acme-later', key=prop_key)
        check(st == 404 and os.path.exists(os.path.join(camp, 'rejected', 'acme-later.conf')),
              'rejected at the VTY: gone from the API, kept in rejected/')
        st, _, j = http('POST', '/v1/campaigns', key=prop_key, body=dict(poll, name='acme-more', entry={}))
        check(st == 201, 'a second proposal waiting')
        st, _, j = http('POST', '/v1/campaigns', key=prop_key, body=dict(poll, name='acme-extra', entry={}))
        check(st == 409 and 'max-proposals' in j['message'], 'a third one waiting: 409 (max-proposals 2): %s' % (j,))

        # --- a network event: call-ended starts the call-quality rating, the caller kept beside it -----------------
        SUB3 = '491720000903'
        ev_key, _ = key_of(vty.cmd('api tenant operator key create events'))
        st, _, j = http('POST', '/v1/events', key=ev_key, body={'type': 'call-ended', 'msisdn': '+' + SUB3,
                                                                'via': 'smpp-sms', 'params': {'caller': '+4930123456',
                                                                                              'duration': 95}})
        check(st == 200 and [t['campaign'] for t in j['triggered']] == ['callquality']
              and j['triggered'][0]['channel'] == 'smpp-sms', 'call-ended starts callquality: %s' % (j,))
        e = smsc.wait(lambda e: is_submit(e, SUB3), 10)
        check(e is not None and 'quality of your last call' in submit_text(e), 'the rating question over SMS')
        ask(smsc, SUB3, '7727', '5', 'call you back')
        ask(smsc, SUB3, '7727', 'no', 'Thank you')
        time.sleep(0.3)
        st, _, j = http('GET', '/v1/campaigns/callquality/results', key=op_key)
        rating = [r for r in j['results'] if r['question'] == 'call_quality'] if j else []
        check(len(rating) == 1 and rating[0]['value'] == '5' and rating[0]['params'] == {'caller': '+4930123456'},
              'the rating with the caller beside it: %s' % rating)
        st, _, j = http('POST', '/v1/events', key=ev_key, body={'type': 'call-ended', 'msisdn': '+491720000904',
                                                                'params': {'caller': '+4930123456', 'duration': 4}})
        check(st == 200 and j['triggered'] == [] and j['skipped'] == [{'campaign': 'callquality', 'reason': 'condition'}],
              'a 4 s call starts nothing (min duration 10): %s' % (j,))
        st, _, j = http('POST', '/v1/events', key=ev_key, body={'type': 'call-ended', 'msisdn': '+' + SUB3,
                                                                'via': 'smpp-sms', 'params': {'caller': '+4930999', 'duration': 60}})
        check(st == 200 and j['refused'] and j['refused'][0]['refusal'] == 'capped',
              'a second call the same day: refused, capped: %s' % (j,))
        st, _, j = http('POST', '/v1/events', key=ev_key, body={'type': 'nobody-listens', 'msisdn': '+' + SUB3})
        check(st == 200 and j['triggered'] == [] and j['refused'] == [] and j['skipped'] == [], 'an event nobody listens to')
        st, _, j = http('POST', '/v1/events', key=ev_key, body={'type': 'call-ended', 'msisdn': '030123'})
        check(st == 422, 'an event with a national number: 422')
        st, _, j = http('POST', '/v1/events', key=acme_key, body={'type': 'call-ended', 'msisdn': '+' + SUB3})
        check(st == 403, 'events without scope events: 403')
        st, _, j = http('POST', '/v1/triggers', key=op_key, body={'campaign': 'callquality', 'msisdn': '+' + SUB3,
                                                                  'params': {'nosuch': '1'}})
        check(st == 409 and j['refusal'] == 'unknown_parameter', 'an undeclared parameter: 409 unknown_parameter')

        # --- the spam feed: one number reported over SMS and over USSD ------------------------------------------
        R1, R2 = '491720000911', '491720000912'
        ask(smsc, R1, '7726', 'SPAM +4930666777', 'Report +4930666777?')
        ask(smsc, R1, '7726', 'yes', 'Reports of +4930666777 so far: 1')
        ussd_mo(smsc, R2, '*7726#', 1, 9, 0)
        e = smsc.wait(lambda e: is_ussd(e, R2), 10)
        check(e is not None and 'Report a number' in submit_text(e), 'USSD spam menu over SMPP')
        for seq, (text, expect) in enumerate((('1', 'Number'), ('+4930666777', 'Report'), ('1', 'so far: 2')), 1):
            ussd_mo(smsc, R2, text, 18, 9, seq * 2)
            e = smsc.wait(lambda e: is_ussd(e, R2), 10)
            check(e is not None and expect in submit_text(e), 'USSD %r -> %r' % (text, expect))
        time.sleep(0.3)
        st, _, j = http('GET', '/v1/spam/numbers?min_reports=2', key=spam_key)
        check(st == 200 and [n['number'] for n in j['numbers']] == ['+4930666777'] and j['numbers'][0]['reports'] == 2
              and j['numbers'][0]['reporters'] == 2, 'the spam feed lists the number with 2 reports by 2 reporters')
        st, _, j = http('GET', '/v1/spam/numbers/+4930666777', key=spam_key)
        check(st == 200 and j['by_channel'] == {'smpp-sms': 1, 'smpp-ussd': 1} and len(j['recent_reports']) == 2,
              'the number\'s reports over both channels: %s' % (j,))
        st, _, j = http('GET', '/v1/spam/numbers?min_reports=3', key=spam_key)
        check(st == 200 and j['numbers'] == [], 'min_reports=3: none')
        st, _, j = http('GET', '/v1/spam/numbers?since=2099-01-01T00:00:00Z', key=spam_key)
        check(st == 200 and j['numbers'] == [], 'since in the future: none')
        st, _, j = http('GET', '/v1/spam/numbers?since=yesterday', key=spam_key)
        check(st == 400, 'a bad since: 400')
        st, _, j = http('GET', '/v1/spam/numbers/+4930000000', key=spam_key)
        check(st == 404, 'a number nobody reported: 404')

        # --- spam-suspected: the network asks the subscriber; a yes is a report in the feed ----------------------
        SUB5 = '491720000913'
        st, _, j = http('POST', '/v1/events', key=ev_key, body={'type': 'spam-suspected', 'msisdn': '+' + SUB5,
                                                                'via': 'smpp-sms', 'params': {'number': '+4930777888'}})
        check(st == 200 and [t['campaign'] for t in j['triggered']] == ['spamcheck'], 'spam-suspected starts spamcheck')
        e = smsc.wait(lambda e: is_submit(e, SUB5), 10)
        check(e is not None and 'from +4930777888 unwanted' in submit_text(e), 'the subscriber is asked about the caller')
        ask(smsc, SUB5, e.get('source_addr') if e else '7726', 'yes', 'Reports of +4930777888 so far: 1')
        time.sleep(0.3)
        st, _, j = http('GET', '/v1/spam/numbers/+4930777888', key=spam_key)
        check(st == 200 and j['reports'] == 1 and j['recent_reports'][0]['campaign'] == 'spamcheck',
              'the confirmed suspicion is a report in the spam feed: %s' % (j,))

        # --- a slow client does not block the others, and is cut off --------------------------------------------
        slow = socket.create_connection(('127.0.0.1', HTTP_PORT), timeout=5)
        slow.sendall(b'GET /v1/campaigns HTTP/1.1\r\nHost: x\r\n')
        t1 = time.time()
        st, _, _ = http('GET', '/v1/campaigns', key=op_key)
        check(st == 200 and time.time() - t1 < 3, 'served while a slow client holds a connection')
        slow.settimeout(6)
        try:
            closed = slow.recv(100) == b''
        except OSError:
            closed = True
        check(closed and time.time() - t1 < 9, 'the slow client is cut off after idle-timeout (%.1f s)' % (time.time() - t1))
        slow.close()

        # --- the rate limit: one curl sends 20 requests on one connection, faster than the bucket refills ---------
        many = []
        for _ in range(20):
            many += ['-o', '/dev/null', BASE + '/v1/campaigns']
        p = subprocess.run(['curl', '-s', '--max-time', '20', '-H', 'Authorization: Bearer ' + slow_key,
                            '-w', '%{http_code} %header{retry-after}\\n'] + many, capture_output=True, timeout=30)
        calls += 20
        lines = [ln.split(' ') for ln in p.stdout.decode(errors='replace').splitlines()]
        codes = [int(ln[0]) for ln in lines]
        retry = [ln[1] if len(ln) > 1 else '' for ln in lines if ln[0] == '429']
        check(len(codes) == 20 and codes[:2] == [200, 200] and codes.count(429) >= 15,
              'rate-limit 1/s (bursts of 2): %d x 200, %d x 429: %s' % (codes.count(200), codes.count(429), codes))
        check(retry and all(r == '1' for r in retry), '429 carries Retry-After: 1: %s' % retry)
        time.sleep(1.2)
        st, _, _ = http('GET', '/v1/campaigns', key=slow_key)
        check(st == 200, 'served again after a second')
        st, _, _ = http('GET', '/v1/campaigns', key=op_key)
        check(st == 200, 'another tenant\'s key was never limited')

        # --- the VTY and the audit log ---------------------------------------------------------------------------
        out = vty.cmd('show api')
        check('listening on 127.0.0.1:%d' % HTTP_PORT in out and 'tenant acme' in out and
              'key %d: campaigns trigger results' % acme_id in out and 'revoked' in out and acme_key not in out,
              'show api: listener, tenants, key ids and scopes, never the keys')
        time.sleep(0.3)
        n_audit = con.execute('select count(*) from audit').fetchone()[0]
        check(n_audit == calls, 'every call is audited: %d rows for %d calls' % (n_audit, calls))
        r = con.execute("select count(*) from audit where status=401 and tenant is null").fetchone()[0]
        check(r >= 3, 'the 401s are audited without a tenant (%d)' % r)
        r = con.execute("select tenant, key_id, method, path, status from audit where status=202 order by id limit 1").fetchone()
        check(r == ('acme', acme_id, 'POST', '/v1/triggers', 202), 'an audit row: %s' % (r,))
        spec_cov = len(spec.seen)
        check(spec_cov >= 27, '%d documented (path, method, status) answers seen' % spec_cov)
        vty.close()
        con.close()

        # --- a restart with TLS: keys, the approved campaign and the pending proposal survive ------------------
        check(stop_daemon(d) == 0, 'first daemon stopped cleanly')
        cert, key = os.path.join(workdir, 'cert.pem'), os.path.join(workdir, 'key.pem')
        r = subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj',
                            '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert],
                           capture_output=True, timeout=60)
        check(r.returncode == 0, 'a self-signed certificate for 127.0.0.1 (openssl)')
        with open(cfg) as f:
            text = f.read()
        with open(cfg, 'w') as f:
            f.write(text.replace(' idle-timeout 2\n', ' idle-timeout 2\n tls certificate %s key %s\n' % (cert, key)))
        d = start_daemon(args.daemon, cfg, CTRL_PORT, workdir, dlog, port=HTTP_PORT)
        BASE = 'https://127.0.0.1:%d' % HTTP_PORT
        CURL_TLS = ['--cacert', cert]
        st, _, j = http('GET', '/v1/campaigns', key=prop_key)
        check(st == 200 and {c['name']: c['state'] for c in j['campaigns']} ==
              {'acme-survey': 'enabled', 'acme-poll': 'enabled', 'acme-pending': 'proposed', 'acme-more': 'proposed'},
              'after a restart, over HTTPS: the key works, acme-poll in service, acme-pending still proposed: %s' % (j,))
        st, _, _ = http('GET', '/v1/campaigns', key=gone_key)
        check(st == 401, 'after a restart: the revoked key stays revoked')
        st, _, j = http('GET', '/v1/campaigns/acme-poll/results', key=prop_key)
        check(st == 200 and len(j['results']) == 1, 'after a restart: the answers are there')
        p = subprocess.run(['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', 'http://127.0.0.1:%d/v1/campaigns' % HTTP_PORT],
                           capture_output=True, timeout=20)
        check(p.stdout.decode() in ('000', '400'), 'plain HTTP to the TLS port gets no answer (%s)' % p.stdout.decode())
        p = subprocess.run(['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', BASE + '/v1/campaigns'],
                           capture_output=True, timeout=20)
        check(p.returncode != 0, 'an unknown certificate is refused by the client (curl exit %d)' % p.returncode)
    finally:
        rc = stop_daemon(d)
        dlog.close()
        smsc.stop()
    return finish(workdir, rc, t0, ', %d HTTP calls' % calls)


if __name__ == '__main__':
    sys.exit(main())
