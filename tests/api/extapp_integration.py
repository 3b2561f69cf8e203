"""External applications behind short codes (CON/END), against the real osmo-uigw daemon, Debian's node-less
peers where possible: node-smpp as the SMSC (SMS and USSD over SMPP), SIPp as the IMS UE (USSI), and a small
application this test runs (python3 http.server) serving a two-level menu.

Covered: `route *7750 external-app URL` and `route 7750 external-app URL` at the VTY (and written back); the same
application answered over USSD (smpp-ussd), USSI and SMS; what the application receives (sessionId constant in a
dialog, serviceCode, phoneNumber, text = the inputs so far joined by '*', channel, networkCode); a long CON text
paged with the channel's budget ("00" pages, not sent to the application); END ends the dialog; the application
timing out and answering 500: the error text, the dialog ended, counted (extapp:errors); every input stored as an
answer of campaign ext-7750 (show feedback). Ports 42990-42996.
"""
import argparse
import http.server
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, '..'))
sys.path.insert(0, os.path.join(here, '..', 'smpp'))
from uigwtest import check, gw_cfg, Vty, start_daemon, stop_daemon, finish  # noqa: E402
import smpp_integration as S  # noqa: E402  (the node-smpp SMSC driver)

SMSC_PORT = 42990
VTY_PORT = 42991
CTRL_PORT = 42992
APP_PORT = 42993
SIP_PORT = 42994
UE_PORT = 42995
NEWS = ' '.join('News item %d: the quick brown fox jumps over the lazy dog.' % i for i in range(8))


class App:
    """The external application: a two-level menu in the CON/END convention."""

    def __init__(self, port):
        self.lock = threading.Lock()
        self.requests = []
        app = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'

            def do_POST(self):
                n = int(self.headers.get('Content-Length', 0))
                form = {k: v[0] for k, v in urllib.parse.parse_qs(self.rfile.read(n).decode(),
                                                                   keep_blank_values=True).items()}
                with app.lock:
                    app.requests.append((self.path, self.headers.get('Content-Type'), form))
                parts = form.get('text', '').split('*') if form.get('text') else []
                if parts and parts[0].upper() == 'ACME':   # the SMS keyword starts the menu
                    parts = parts[1:]
                status = 200
                if not parts:
                    body = 'CON Welcome to Acme\n1. Balance\n2. News\n3. Slow\n4. Broken'
                elif parts == ['1']:
                    body = 'END Your balance is 42 EUR'
                elif parts == ['2']:
                    body = 'CON ' + NEWS + '\n1. Done'
                elif parts == ['2', '1']:
                    body = 'END That was all the news.'
                elif parts == ['3']:
                    time.sleep(2.5)   # the route's timeout is 1000 ms
                    body = 'END too late'
                elif parts == ['4']:
                    status, body = 500, 'Internal Server Error'
                else:
                    body = 'END Unknown choice'
                b = body.encode()
                self.send_response(status)
                self.send_header('Content-Type', 'text/plain')
                self.send_header('Content-Length', str(len(b)))
                self.end_headers()
                self.wfile.write(b)

            def log_message(self, *a):
                pass

        http.server.ThreadingHTTPServer.allow_reuse_address = True
        self.srv = http.server.ThreadingHTTPServer(('127.0.0.1', port), H)
        self.srv.daemon_threads = True
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def of(self, phone):
        with self.lock:
            return [f for p, ct, f in self.requests if f.get('phoneNumber') == phone]

    def stop(self):
        self.srv.shutdown()
        self.srv.server_close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--daemon', required=True)
    ap.add_argument('--top-srcdir', required=True)
    ap.add_argument('--node', default='node')
    args = ap.parse_args()
    S.SMSC_PORT = SMSC_PORT
    smpp_dir = os.path.join(args.top_srcdir, 'tests', 'smpp')

    workdir = tempfile.mkdtemp(prefix='uigw-extapp-')
    camp = os.path.join(workdir, 'campaigns')
    shutil.copytree(os.path.join(args.top_srcdir, 'etc', 'campaigns'), camp)
    db = os.path.join(workdir, 'test.db')
    cfg = os.path.join(workdir, 'osmo-uigw.cfg')
    with open(cfg, 'w') as f:
        routes = (' network-code 26201\n route *7750 external-app http://127.0.0.1:%d/ussd timeout 1000\n'
                  ' route 7750 external-app http://127.0.0.1:%d/sms timeout 1000\n' % (APP_PORT, APP_PORT))
        f.write(gw_cfg(VTY_PORT, camp, db, 'extapp-test-secret', SMSC_PORT, reconnect_ms=200, uigw=routes,
                       dlg='info') + '''sip
 local-ip 127.0.0.1
 local-port %d
 domain ims.example.net
 trusted-peer 127.0.0.1
''' % SIP_PORT)
    app = App(APP_PORT)
    smsc = S.Smsc(args.node, smpp_dir, workdir)
    check(smsc.wait(lambda e: e.get('event') == 'listening', 15) is not None, 'node-smpp SMSC listening')
    dlog = open(os.path.join(workdir, 'daemon.log'), 'w')
    t0 = time.time()
    d = None
    try:
        d = start_daemon(args.daemon, cfg, CTRL_PORT, workdir, dlog, port=VTY_PORT)
        check(smsc.wait(lambda e: e.get('dir') == 'tx' and e.get('command') == 'bind_transceiver_resp', 15)
              is not None, 'the gateway bound to the SMSC')
        time.sleep(0.2)
        vty = Vty(VTY_PORT)
        out = vty.cmd('show routes')
        check(re.search(r'\*7750 -> http://127.0.0.1:%d/ussd \(timeout 1000 ms, campaign ext-7750' % APP_PORT, out)
              and ' 7750 -> ' in out, 'show routes: both routes, campaign ext-7750 (%r)' % out)
        run = vty.cmd('show running-config')
        check(' route *7750 external-app http://127.0.0.1:%d/ussd timeout 1000' % APP_PORT in run and
              ' network-code 26201' in run, 'written in the configuration')
        out = vty.cmd('configure terminal')
        vty.cmd('uigw')
        bad = vty.cmd('route *77#50 external-app http://x/')
        bad2 = vty.cmd('route *7751 external-app ftp://x/')
        vty.cmd('end')
        check('bad prefix' in bad and 'bad URL' in bad2, 'a bad prefix and a bad URL are refused (%r, %r)' % (bad, bad2))

        # --- USSD over SMPP: menu, the long news paged, END --------------------------------------------------
        U = '491720000901'
        S.ussd_step(smsc, U, '*7750#', 1, 51, 0, 2, False, 'Welcome to Acme', 'smpp-ussd')
        e = S.ussd_step(smsc, U, '2', 18, 51, 2, 2, False, 'News item 0', 'smpp-ussd: the long CON text')
        pages = [S.submit_text(e) if e else '']
        seq = 4
        while e and '1. Done' not in pages[-1] and len(pages) < 6:
            e = S.ussd_step(smsc, U, '00', 18, 51, seq, 2, False, 'News item', 'smpp-ussd: next page')
            pages.append(S.submit_text(e) if e else '')
            seq += 2
        check(len(pages) >= 3 and all(len(p) <= 182 for p in pages) and '1. Done' in pages[-1] and
              all('00' in p for p in pages[:-1]) and 'News item 7' in ''.join(pages),
              'paged in %d screens of at most 182 characters, "00" pages on, the last has the choice (%s)'
              % (len(pages), [len(p) for p in pages]))
        S.ussd_step(smsc, U, '1', 18, 51, seq, 17, True, 'That was all the news.', 'smpp-ussd: END')
        reqs = app.of('+' + U)
        check([r['text'] for r in reqs] == ['', '2', '2*1'],
              'the application was asked 3 times, text "", "2", "2*1": the pages were not its business (%s)'
              % [r['text'] for r in reqs])
        check(all(r['sessionId'] == reqs[0]['sessionId'] and r['serviceCode'] == '*7750' and
                  r['channel'] == 'smpp-ussd' and r['networkCode'] == '26201' for r in reqs) and
              reqs[0]['sessionId'].isdigit(), 'one sessionId, serviceCode *7750, channel, networkCode (%s)' % reqs[0])
        with app.lock:
            cts = set(ct for p, ct, f in app.requests)
        check(cts == {'application/x-www-form-urlencoded'}, 'form-encoded requests (%s)' % cts)

        # a direct dial: *7750*1# is text "1" at once
        U2 = '491720000902'
        S.ussd_step(smsc, U2, '*7750*1#', 1, 52, 0, 17, True, 'Your balance is 42 EUR', 'smpp-ussd: *7750*1#')
        check([r['text'] for r in app.of('+' + U2)] == ['1'], 'a direct dial string gives the inputs at once')

        # the application too slow, and broken
        U3 = '491720000903'
        S.ussd_step(smsc, U3, '*7750#', 1, 53, 0, 2, False, 'Welcome to Acme', 'smpp-ussd')
        t1 = time.time()
        S.ussd_step(smsc, U3, '3', 18, 53, 2, 17, True, 'technical problem', 'the application times out')
        dt = time.time() - t1
        check(0.9 <= dt < 2.4, 'the error text after the route\'s timeout of 1 s (%.2f s)' % dt)
        S.ussd_step(smsc, U3, '*7750#', 1, 54, 0, 2, False, 'Welcome to Acme', 'smpp-ussd')
        S.ussd_step(smsc, U3, '4', 18, 54, 2, 17, True, 'technical problem', 'the application answers 500')

        # --- SMS: each message a step -----------------------------------------------------------------------
        M = '491720000904'
        S.ask(smsc, M, '7750', 'ACME', 'Welcome to Acme')
        e = S.ask(smsc, M, '7750', '1', 'Your balance is 42 EUR')
        sms = app.of('+' + M)
        check([r['text'] for r in sms] == ['ACME', 'ACME*1'] and all(r['channel'] == 'smpp-sms' and
                                                                     r['serviceCode'] == '7750' for r in sms),
              'over SMS: text "ACME", "ACME*1", channel smpp-sms, serviceCode 7750 (%s)' % sms)
        S.deliver(smsc, M, '7750', 'ACME')
        check(smsc.wait(lambda e: S.is_submit(e, M), 10) is not None, 'a new SMS dialog')
        S.deliver(smsc, M, '7750', '2')
        parts = smsc.collect(lambda e: S.is_submit(e, M), 4, 8)
        whole = ''.join(S.submit_text(p) for p in parts)
        check(len(parts) >= 3 and 'News item 0' in whole and 'News item 7' in whole,
              'the long CON text over SMS: %d concatenated parts with the whole text' % len(parts))

        # --- USSI: SIPp as the UE ---------------------------------------------------------------------------
        p = subprocess.run(['timeout', '30', 'sipp', '-sf', os.path.join(args.top_srcdir, 'tests', 'ims',
                                                                        'ussi_extapp_uac.xml'),
                            '-i', '127.0.0.1', '-p', str(UE_PORT), '-m', '1', '-nostdin', '-timeout', '20s',
                            '-timeout_error', '-trace_logs', '-log_file', os.path.join(workdir, 'ussi.log'),
                            '-trace_err', '-error_file', os.path.join(workdir, 'ussi.err'),
                            '127.0.0.1:%d' % SIP_PORT], cwd=workdir, capture_output=True, timeout=40)
        log = open(os.path.join(workdir, 'ussi.log'), errors='replace').read() \
            if os.path.exists(os.path.join(workdir, 'ussi.log')) else ''
        check(p.returncode == 0 and 'final: That was all the news.' in log,
              'USSI (SIPp): the menu, the news paged ("00"), END in the BYE (rc %d) %s' %
              (p.returncode, (p.stdout + p.stderr).decode(errors='replace')[-300:] if p.returncode else ''))
        ussi = app.of('+491720000124')
        check([r['text'] for r in ussi] == ['', '2', '2*1'] and all(r['channel'] == 'ussi' for r in ussi),
              'over USSI: text "", "2", "2*1", channel ussi (%s)' % [r['text'] for r in ussi])

        # --- stored and counted -----------------------------------------------------------------------------
        fb = vty.cmd('show feedback ext-7750')
        # question stepN: the N-th input of a dialog
        check(re.search(r'Question step1:(\n  .*)*\n  smpp-sms +ACME +2', fb) and
              re.search(r'Question step1:(\n  .*)*\n  smpp-ussd +2 +1', fb) and
              re.search(r'Question step1:(\n  .*)*\n  ussi +2 +1', fb) and
              re.search(r'Question step2:(\n  .*)*\n  smpp-ussd +1 +1', fb),
              'every input stored as an answer of ext-7750 (%r)' % fb[:400])
        rc = vty.cmd('show rate-counters')
        m = re.search(r'extapp:errors: +(\d+) ', rc)
        check(m and int(m.group(1)) == 2, 'extapp:errors counts the timeout and the 500 (%s)' %
              (m.group(1) if m else None))
        vty.close()
    finally:
        smsc.stop()
        app.stop()
        rc = stop_daemon(d)
    return finish(workdir, rc, t0)


if __name__ == '__main__':
    sys.exit(main())
