#!/usr/bin/env python3
"""MAP integration test: the real osmo-uigw daemon as gsmSCF behind a real osmo-stp (SCCP over IPA), against
tests/map/map_peer (TCAP/MAP from asn1c, no code shared with the gateway) playing the MSC/VLR and the HLR.

Covered: the spam-report menu dialled as *7726# end to end (menu, number, confirm, thank-you in TC-END); the
*7726*1*<number># shortcut; a UCS-2 text; resume after the MSC aborts mid-dialog; a subscriber who does not
answer (our TC-U-ABORT after X201, seen by the peer); a malformed TCAP message, an unknown operation, an unknown
transaction id and a refused application context, each answered as Q.773/Q.774 say, with the next dialog still
served; network-initiated: a call-quality rating with caller= through the HLR, answered and stored with its
parameter; a notice (unstructuredSS-Notify); an error from the network ending a push; the STP restarting (pushes
refused meanwhile, the ASP back on its own); a clean SIGTERM shutdown.
Ports: STP IPA 42940, STP VTY 4239, gateway VTY 42942, CTRL 42943.
"""
import argparse
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
from uigwtest import failures, check, log_cfg, Vty, stop_daemon, finish  # noqa: E402,F401  (shared with the other Python tests)

STP_PORT = 42940
STP_VTY = 4239	# osmo-stp 1.6 ignores a port in 'line vty / bind'
VTY_PORT = 42942
CTRL_PORT = 42943
SUB = '+491720000123'

class Peer:
    """tests/map/map_peer: commands on stdin, one JSON line per event on stdout."""

    def __init__(self, binary, workdir):
        self.log = open(os.path.join(workdir, 'peer.jsonl'), 'w')
        self.err = open(os.path.join(workdir, 'peer.err'), 'w')
        self.p = subprocess.Popen([binary, str(STP_PORT)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=self.err, text=True, bufsize=1)
        self.q = queue.Queue()
        threading.Thread(target=self._reader, daemon=True).start()

    def _reader(self):
        for line in self.p.stdout:
            self.log.write(line)
            self.log.flush()
            try:
                self.q.put(json.loads(line))
            except ValueError:
                self.q.put({'ev': 'garbage', 'line': line})

    def cmd(self, line):
        self.p.stdin.write(line + '\n')
        self.p.stdin.flush()

    def wait(self, pred, timeout=10):
        end = time.time() + timeout
        while time.time() < end:
            try:
                e = self.q.get(timeout=max(0.01, end - time.time()))
            except queue.Empty:
                break
            if pred(e):
                return e
        return None

    def rx(self, role, timeout=10):
        return self.wait(lambda e: e.get('ev') == 'rx' and e.get('role') == role, timeout)

    def drain(self, secs=0.3):
        end = time.time() + secs
        while time.time() < end:
            try:
                self.q.get(timeout=0.05)
            except queue.Empty:
                pass

    def stop(self):
        try:
            self.p.stdin.close()
        except OSError:
            pass
        try:
            self.p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.p.kill()


def comp(e, i=0):
    cs = e.get('comps') if e else None
    return cs[i] if cs and len(cs) > i else {}


def step(peer, role, what, send, want_type, want_text=None, want_op=None):
    """Send one command, expect the gateway's answer of type want_type whose first component carries want_text."""
    peer.cmd(send)
    e = peer.rx(role)
    c = comp(e)
    ok = e is not None and e.get('type') == want_type and (want_text is None or want_text in c.get('text', '')) \
        and (want_op is None or c.get('op') == want_op)
    check(ok, '%s: %s -> %s%s (got %s %r)' % (what, send.split(' ', 3)[-1], want_type,
                                             ' "%s"' % want_text if want_text else '',
                                             e.get('type') if e else None, c.get('text') if c else None))
    return e


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--daemon', required=True)
    ap.add_argument('--peer', required=True)
    ap.add_argument('--top-srcdir', required=True)
    ap.add_argument('--stp-cfg', required=True)
    args = ap.parse_args()

    workdir = tempfile.mkdtemp(prefix='uigw-map-')
    camp = os.path.join(workdir, 'campaigns')
    os.mkdir(camp)
    for f in os.listdir(os.path.join(args.top_srcdir, 'etc', 'campaigns')):
        shutil.copy(os.path.join(args.top_srcdir, 'etc', 'campaigns', f), camp)
    shutil.copy(os.path.join(args.top_srcdir, 'tests', 'data', 'map', 'ucs.conf'), camp)
    shutil.copy(os.path.join(args.top_srcdir, 'tests', 'data', 'smpp', 'notice.conf'), camp)
    cfg = os.path.join(workdir, 'osmo-uigw.cfg')
    with open(cfg, 'w') as f:
        f.write(log_cfg(map='info') + '''line vty
 bind 127.0.0.1 %d
uigw
 campaigns-dir %s
 pseudonym-secret map-test-secret
 timer map X201 3
store
 path %s
cs7 instance 0
 point-code 0.23.2
 asp uigw %d 0 ipa
  remote-ip 127.0.0.1
 as uigw ipa
  asp uigw
  routing-key 0 0.23.2
 sccp-address hlr-gt
  routing-indicator PC
  point-code 0.23.3
  subsystem-number 6
  global-title
   global-title-indicator 4
   translation-type 0
   numbering-plan-indicator 1
   nature-of-address-indicator 4
   digits 491720000001
map
 gsmscf-number +491720000999
''' % (VTY_PORT, camp, os.path.join(workdir, 'test.db'), STP_PORT))

    t0 = time.time()
    stp_log = open(os.path.join(workdir, 'stp.log'), 'w')
    stp = subprocess.Popen(['osmo-stp', '-c', args.stp_cfg], stdout=stp_log, stderr=subprocess.STDOUT,
                           cwd=workdir)
    time.sleep(0.5)
    dlog = open(os.path.join(workdir, 'daemon.log'), 'w')
    d = subprocess.Popen([args.daemon, '-c', cfg, '-C', str(CTRL_PORT)], cwd=workdir, stdout=dlog,
                         stderr=subprocess.STDOUT)
    peer = Peer(args.peer, workdir)
    try:
        up = set()
        end = time.time() + 15
        while len(up) < 2 and time.time() < end:
            e = peer.wait(lambda e: e.get('ev') == 'up', max(0.1, end - time.time()))
            if e:
                up.add(e['role'])
        check(up == {'msc', 'hlr'}, 'the peer\'s MSC and HLR are up at the STP (%s)' % sorted(up))
        # the gateway's ASP too
        gw_vty = None
        for _ in range(50):
            try:
                gw_vty = Vty(VTY_PORT)
                if 'AS uigw: active' in gw_vty.cmd('show map'):
                    break
                gw_vty.close()
                gw_vty = None
            except OSError:
                pass
            time.sleep(0.2)
        check(gw_vty is not None, 'the gateway\'s AS uigw is active')

        # 1. the spam-report menu, *7726#, end to end
        peer.cmd('begin msc 00000001 text=*7726# msisdn=%s' % SUB)
        e = peer.rx('msc')
        c = comp(e)
        check(e is not None and e.get('type') == 'continue' and e.get('dtid') == '00000001'
              and e.get('dlg') == 'aare' and e.get('result') == 0 and e.get('acn') == '04000001001302'
              and c.get('c') == 'invoke' and c.get('op') == 60 and 'Report a number' in c.get('text', ''),
              'TC-BEGIN *7726# -> TC-CONTINUE + AARE accepted + unstructuredSS-Request "Report a number" (%r)' % e)
        gw = e['otid'] if e else '0'
        iid = c.get('iid', 2)
        e = step(peer, 'msc', 'spam', 'continue msc 00000001 %s rrl=%d:60:1' % (gw, iid), 'continue',
                 'Number that called you?', 60)
        check(e is not None and 'dlg' not in e, 'the AARE only in the first backward message')
        e = step(peer, 'msc', 'spam', 'continue msc 00000001 %s rrl=%d:60:+4930111222' % (gw, comp(e).get('iid', 3)),
                 'continue', 'Report +4930111222?', 60)
        e = step(peer, 'msc', 'spam', 'continue msc 00000001 %s rrl=%d:60:1' % (gw, comp(e).get('iid', 4)), 'end',
                 'Reports of +4930111222 so far: 1', 59)
        check(e is not None and comp(e).get('c') == 'rrl' and comp(e).get('iid') == 1 and comp(e).get('dcs') == 15,
              'the last screen is the ReturnResultLast of the 59 (invoke 1), GSM 7-bit')

        # 2. the shortcut *7726*1*<number>#
        e = step(peer, 'msc', 'shortcut', 'begin msc 00000002 text=*7726*1*0301234567# msisdn=%s' % SUB, 'continue',
                 'Report +49301234567?', 60)
        step(peer, 'msc', 'shortcut', 'continue msc 00000002 %s rrl=%d:60:1' % (e['otid'] if e else '0',
                                                                                   comp(e).get('iid', 2)),
             'end', 'Reports of +49301234567 so far: 1', 59)

        # 3. a UCS-2 text
        e = step(peer, 'msc', 'UCS-2', 'begin msc 00000003 text=*7799# msisdn=%s' % SUB, 'end', 'Здравствуйте!', 59)
        check(comp(e).get('dcs') == 0x48, 'UCS-2 text with ussd-DataCodingScheme 0x48 (%s)' % comp(e).get('dcs'))

        # 4. the MSC aborts mid-dialog; the next *7726# of the subscriber resumes where it was
        R = '+491720000124'
        e = step(peer, 'msc', 'resume', 'begin msc 00000004 text=*7726# msisdn=%s' % R, 'continue', 'Report a number')
        e = step(peer, 'msc', 'resume', 'continue msc 00000004 %s rrl=%d:60:1' % (e['otid'] if e else '0',
                                                                                  comp(e).get('iid', 2)),
                 'continue', 'Number that called you?')
        peer.cmd('abort msc %s' % (e['otid'] if e else '0'))
        time.sleep(0.3)
        e = step(peer, 'msc', 'resume', 'begin msc 00000005 text=*7726# msisdn=%s' % R, 'continue',
                 'Number that called you?')
        check(e is not None and 'Welcome back' in comp(e).get('text', ''), 'resumed: "Welcome back." (%r)' %
              comp(e).get('text'))
        peer.cmd('abort msc %s' % (e['otid'] if e else '0'))
        time.sleep(0.2)

        # 5. the subscriber does not answer: our TC-U-ABORT after X201 (3 s here)
        e = step(peer, 'msc', 'no answer', 'begin msc 00000006 text=*7726# msisdn=+491720000125', 'continue',
                 'Report a number')
        t1 = time.time()
        e = peer.rx('msc', 8)
        took = time.time() - t1
        check(e is not None and e.get('type') == 'abort' and e.get('dtid') == '00000006' and e.get('dlg') == 'abrt'
              and e.get('abort_source') == 0 and e.get('map') == 'userAbort' and 2.5 < took < 6,
              'no answer -> TC-U-ABORT (ABRT, MAP user abort) after %.1f s: %r' % (took, e))

        # 6. protocol errors: each gets its answer, and the next dialog is still served
        peer.cmd('raw msc 6245480400000007' + '6c03')
        e = peer.rx('msc')
        check(e is not None and e.get('type') == 'abort' and e.get('pabort') == 2 and e.get('dtid') == '00000007',
              'malformed TCAP -> P-Abort badlyFormattedTransactionPortion to its otid (%r)' % e)
        peer.cmd('begin msc 00000008 text=*7726# msisdn=%s op=99' % SUB)
        e = peer.rx('msc')
        c = comp(e)
        check(e is not None and e.get('type') == 'end' and e.get('dlg') == 'aare' and c.get('c') == 'reject'
              and c.get('tag') == 'invoke' and c.get('code') == 1 and c.get('iid') == 1,
              'unknown operation -> TC-END + Reject invoke/unrecognizedOperation (%r)' % e)
        peer.cmd('continue msc 00000009 deadbeef rrl=1:60:1')
        e = peer.rx('msc')
        check(e is not None and e.get('type') == 'abort' and e.get('pabort') == 1 and e.get('dtid') == '00000009',
              'unknown transaction id -> P-Abort unrecognizedTransactionID (%r)' % e)
        peer.cmd('begin msc 0000000a text=*7726# msisdn=%s acn=04000001001201' % SUB)
        e = peer.rx('msc')
        check(e is not None and e.get('type') == 'abort' and e.get('dlg') == 'aare' and e.get('result') == 1
              and e.get('diag') == 2 and e.get('acn') == '04000001001302',
              'another application context -> TC-U-ABORT with AARE reject, acn-not-supported, offering v2 (%r)' % e)
        e = step(peer, 'msc', 'after the errors', 'begin msc 0000000b text=*7726# msisdn=%s' % SUB, 'continue',
                 'Report a number')
        peer.cmd('abort msc %s' % (e['otid'] if e else '0'))
        for _ in range(50):
            if 'Transactions: 0' in gw_vty.cmd('show map'):
                break
            time.sleep(0.1)

        # 7. the STP goes away: pushes are refused as unreachable, MO dialogs come back with the STP
        stp.terminate()
        stp.wait(timeout=5)
        ok = False
        for _ in range(50):
            if 'AS uigw: inactive' in gw_vty.cmd('show map'):
                ok = True
                break
            time.sleep(0.1)
        check(ok, 'STP gone: the gateway\'s AS is inactive')
        out = gw_vty.cmd('trigger callquality +491720000199 via map')
        check('Refused: unreachable' in out, 'STP gone: a push via map is refused as unreachable: %r' % out)
        stp = subprocess.Popen(['osmo-stp', '-c', args.stp_cfg], stdout=stp_log, stderr=subprocess.STDOUT,
                               cwd=workdir)
        t_stp = time.monotonic()
        ok = False
        for _ in range(100):
            if 'AS uigw: active' in gw_vty.cmd('show map'):
                ok = True
                break
            time.sleep(0.1)
        t_back = time.monotonic() - t_stp
        peer.drain(3.0)	# the peer's ASPs reconnect too (events "down", "up")
        check(ok, 'STP back: the gateway\'s ASP reconnected on its own')
        # X204 (1 s) in place of libosmo-sigtran's 5 s: back within a few seconds, not five or more
        check(ok and t_back < 4.0, 'STP back: reconnected %.1f s after the STP started (X204 = 1 s)' % t_back)
        e = step(peer, 'msc', 'after the STP restart', 'begin msc 0000000c text=*7726# msisdn=%s' % SUB, 'continue',
                 'Report a number')
        peer.cmd('abort msc %s' % (e['otid'] if e else '0'))

        # 8. network-initiated, through the HLR: the STP sends the gateway's messages there from now on
        stp_vty = Vty(STP_VTY)
        for c in ('configure terminal', 'cs7 instance 0', 'as uigw ipa', 'point-code override dpc 0.23.3', 'end'):
            stp_vty.cmd(c)
        stp_vty.close()
        P = '+491720000200'
        out = gw_vty.cmd('trigger callquality %s via map caller=+4930999001' % P)
        check('Triggered callquality for %s via map' % P in out, 'trigger via map accepted: %r' % out)
        e = peer.rx('hlr')
        c = comp(e)
        check(e is not None and e.get('type') == 'begin' and e.get('dlg') == 'aarq' and e.get('acn') == '04000001001302'
              and e.get('map') == 'open' and e.get('dest') == P and e.get('orig') == '+491720000999'
              and c.get('op') == 60 and 'quality of your last call' in c.get('text', ''),
              'push: TC-BEGIN to the HLR, AARQ + MAP-OpenInfo (dest %s, orig our gsmSCF), 60 (%r)' % (P, e))
        gt = e['otid'] if e else '0'
        e = step(peer, 'hlr', 'push', 'continue hlr 00000100 %s aare rrl=%d:60:4' % (gt, c.get('iid', 1)), 'continue',
                 'call you back', 60)
        e = step(peer, 'hlr', 'push', 'continue hlr 00000100 %s rrl=%d:60:1' % (gt, comp(e).get('iid', 2)), 'continue',
                 'Thank you!', 61)
        peer.cmd('end hlr %s ack=%d:61' % (gt, comp(e).get('iid', 3)))
        time.sleep(0.3)
        out = gw_vty.cmd('show feedback callquality')
        check('+4930999001' in out and 'map' in out, 'the rating is stored with the caller, channel map: %r' % out)

        # 9. a notice (61), acknowledged in the HLR's TC-END; the HLR now named by an address-book entry with a
        # global title (routed on SSN: the tshark check below finds its digits in the called party address)
        for c in ('configure terminal', 'map', 'hlr-address hlr-gt', 'end'):
            gw_vty.cmd(c)
        out = gw_vty.cmd('trigger notice +491720000201 via map')
        e = peer.rx('hlr')
        c = comp(e)
        check(e is not None and e.get('type') == 'begin' and c.get('op') == 61
              and 'Network maintenance' in c.get('text', ''), 'notice: TC-BEGIN with unstructuredSS-Notify (%r)' % e)
        peer.cmd('end hlr %s aare ack=%d:61' % (e['otid'] if e else '0', c.get('iid', 1)))
        # 10. the network refuses a push: absentSubscriber ends it
        out = gw_vty.cmd('trigger notice +491720000202 via map')
        e = peer.rx('hlr')
        peer.cmd('end hlr %s aare error=%d:27' % (e['otid'] if e else '0', comp(e).get('iid', 1)))
        time.sleep(0.5)
        out = gw_vty.cmd('show map')
        counters = {}
        for line in out.splitlines():
            p = line.split()
            if len(p) >= 2 and ':' in p[0] and p[1].isdigit():
                counters[p[0]] = int(p[1])
        check(counters.get('push:delivered', 0) >= 3 and counters.get('push:failed') == 1
              and counters.get('rx:return-error') == 1, 'show map: pushes delivered %s, failed %s' %
              (counters.get('push:delivered'), counters.get('push:failed')))
        check(counters.get('timeout:answer') == 1 and counters.get('acn:refused') == 1
              and counters.get('tx:p-abort') == 2 and counters.get('rx:unknown-tid') == 1,
              'show map counts the timeout, the refused context, the P-Aborts: %r' % counters)
        check('Transactions: 0' in out, 'no transaction left over')
        gw_vty.close()
    except Exception:
        traceback.print_exc()
        check(False, 'the test ran to its end')
    finally:
        rc = 'not started'
        if d.poll() is not None:
            check(False, 'the daemon was running at the end (it exited with %s)' % d.returncode)
        rc = stop_daemon(d)
        dlog.close()
        peer.stop()
        stp.terminate()
        try:
            stp.wait(timeout=5)
        except subprocess.TimeoutExpired:
            stp.kill()
    return finish(workdir, rc, t0, extra_logs=('peer.err',))


if __name__ == '__main__':
    sys.exit(main())
