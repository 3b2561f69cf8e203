#!/usr/bin/env python3
"""SMPP integration test: the real osmo-uigw daemon against an independent SMSC (node-smpp, tests/smpp/smsc.js)
on 127.0.0.1. The SMSC logs every PDU as a JSON line; this script drives it through its stdin.

Covered: bind_transceiver with system-id/password, the three-question survey over SMS, a long UCS-2 reply in UDH
parts, concatenated MO messages (UDH and SAR), garbage / unknown / truncated PDUs answered with generic_nack while
the link keeps serving, THROTTLED answered by backing off and retrying, a dropped link that comes back with the
reply delivered once; the spam-report menu over USSD-over-SMPP in the dialects standard and its-session-end;
network-initiated pushes (campaign NAME push) answered over SMS, and over USSD as USSR / USSN; STOP and START confirmed and
the pushes after it refused; a clean SIGTERM shutdown. Ports 42930-42933.
"""
import argparse
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
from uigwtest import failures, check, log_cfg, Vty, stop_daemon, finish, numbers_in_store  # noqa: E402,F401  (shared with the other Python tests)

SMSC_PORT = 42930
VTY_PORT = 42932
CTRL_PORT = 42933
SUB = '491720000123'

class Smsc:
    def __init__(self, node, srcdir, workdir):
        self.log = open(os.path.join(workdir, 'smsc.jsonl'), 'w')
        self.p = subprocess.Popen([node, os.path.join(srcdir, 'smsc.js'), str(SMSC_PORT), 'uigw', 'secret'],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  cwd=srcdir, text=True)
        self.q = queue.Queue()
        self.t = threading.Thread(target=self._reader, daemon=True)
        self.t.start()

    def _reader(self):
        for line in self.p.stdout:
            self.log.write(line)
            self.log.flush()
            try:
                self.q.put(json.loads(line))
            except ValueError:
                self.q.put({'event': 'garbage', 'line': line})

    def cmd(self, **kw):
        self.p.stdin.write(json.dumps(kw) + '\n')
        self.p.stdin.flush()

    def wait(self, pred, timeout=10, what=''):
        """Next event matching pred within timeout (events before it are dropped), or None."""
        deadline = time.time() + timeout
        while True:
            left = deadline - time.time()
            if left <= 0:
                return None
            try:
                e = self.q.get(timeout=left)
            except queue.Empty:
                return None
            if pred(e):
                return e

    def collect(self, pred, n, timeout=10):
        out = []
        deadline = time.time() + timeout
        while len(out) < n and time.time() < deadline:
            try:
                e = self.q.get(timeout=max(0.01, deadline - time.time()))
            except queue.Empty:
                break
            if pred(e):
                out.append(e)
        return out

    def drain(self, secs=0.3):
        end = time.time() + secs
        while time.time() < end:
            try:
                self.q.get(timeout=0.05)
            except queue.Empty:
                pass

    def stop(self):
        try:
            self.cmd(cmd='quit')
        except (BrokenPipeError, OSError):
            pass
        try:
            self.p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait(timeout=5)
        self.log.close()


def is_submit(e, dest=SUB):
    return e.get('dir') == 'rx' and e.get('command') == 'submit_sm' and e.get('destination_addr') == dest


def submit_text(e):
    sm = e.get('short_message') or {}
    if isinstance(sm, dict) and sm.get('text') is not None:
        return sm['text']
    mp = e.get('message_payload') or {}
    return mp.get('text', '') if isinstance(mp, dict) else ''


def deliver(smsc, src, dst, text=None, hexdata=None, dcs=0, esm=0, **tlv):
    pdu = {'source_addr_ton': 1, 'source_addr_npi': 1, 'source_addr': src, 'dest_addr_ton': 0,
           'dest_addr_npi': 1, 'destination_addr': dst, 'esm_class': esm, 'data_coding': dcs,
           'short_message': {'hex': hexdata if hexdata is not None else text.encode('ascii').hex()}}
    pdu.update(tlv)
    smsc.cmd(cmd='deliver', pdu=pdu)


def ask(smsc, src, dst, text, expect, timeout=10):
    deliver(smsc, src, dst, text)
    e = smsc.wait(lambda e: is_submit(e, src), timeout)
    got = submit_text(e) if e else None
    check(e is not None and expect in got, '"%s" -> reply containing "%s" (got %r)' % (text, expect, got))
    return e


def is_ussd(e, dest):
    return is_submit(e, dest) and e.get('service_type') == 'USSD'


def ussd_mo(smsc, src, text, op, session, seq=0, end=False, dst='*7726#'):
    deliver(smsc, src, dst, text, service_type='USSD', ussd_service_op=op,
            its_session_info={'hex': '%02x%02x' % (session, (seq << 1) | (1 if end else 0))})


def ussd_step(smsc, src, text, op, session, seq, want_op, want_end, expect, what):
    """One MO USSD message and the MT answer: op, session, end bit and text checked."""
    ussd_mo(smsc, src, text, op, session, seq)
    e = smsc.wait(lambda e: is_ussd(e, src), 10)
    got = submit_text(e) if e else None
    its = e.get('its_session_info') if e else None
    check(e is not None and expect in (got or '') and e.get('ussd_service_op') == want_op
          and its is not None and its[:2] == '%02x' % session and (int(its[2:4], 16) & 1) == (1 if want_end else 0),
          '%s: "%s" -> op %d, session %d, end %d, "%s" (got op %s, its %s, %r)' % (
              what, text, want_op, session, want_end, expect, e.get('ussd_service_op') if e else None, its, got))
    return e



def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--daemon', required=True)
    ap.add_argument('--top-srcdir', required=True)
    ap.add_argument('--srcdir', required=True)
    ap.add_argument('--node', default='node')
    args = ap.parse_args()

    workdir = tempfile.mkdtemp(prefix='uigw-smpp-')
    camp = os.path.join(workdir, 'campaigns')
    os.mkdir(camp)
    for f in os.listdir(os.path.join(args.top_srcdir, 'etc', 'campaigns')):
        shutil.copy(os.path.join(args.top_srcdir, 'etc', 'campaigns', f), camp)
    for f in ('longucs.conf', 'notice.conf'):
        shutil.copy(os.path.join(args.top_srcdir, 'tests', 'data', 'smpp', f), camp)
    cfg = os.path.join(workdir, 'osmo-uigw.cfg')
    with open(cfg, 'w') as f:
        f.write(log_cfg(smpp='info') + '''line vty
 bind 127.0.0.1 %d
uigw
 campaigns-dir %s
 pseudonym-secret smpp-test-secret
 overload loop-lag 0 0
 overload store-delay 0 0
store
 path %s
smpp
 long-messages udh
 timer reconnect 200
 timer throttle 300
 timer response 2000
 smsc test
  remote-ip 127.0.0.1
  remote-port %d
  system-id uigw
  password secret
  window 20
  enquire-interval 1
''' % (VTY_PORT, camp, os.path.join(workdir, 'test.db'), SMSC_PORT))

    smsc = Smsc(args.node, args.srcdir, workdir)
    check(smsc.wait(lambda e: e.get('event') == 'listening', 15) is not None, 'node-smpp SMSC listening')
    dlog = open(os.path.join(workdir, 'daemon.log'), 'w')
    t0 = time.time()
    d = None
    try:
        d = subprocess.Popen([args.daemon, '-c', cfg, '-C', str(CTRL_PORT)], cwd=workdir, stdout=dlog,
                             stderr=subprocess.STDOUT)
        b = smsc.wait(lambda e: e.get('dir') == 'rx' and e.get('command') == 'bind_transceiver', 15)
        check(b is not None and b.get('system_id') == 'uigw' and b.get('password') == 'secret'
              and b.get('interface_version') == 0x34, 'bind_transceiver with system-id uigw, SMPP 3.4')
        check(smsc.wait(lambda e: e.get('dir') == 'tx' and e.get('command') == 'bind_transceiver_resp', 5)
              is not None, 'bound')
        time.sleep(0.2)

        # 1. the three-question survey
        e = ask(smsc, SUB, '7730', 'SURVEY', 'How do you usually contact us?')
        check(e is not None and e.get('source_addr') == '7730' and e.get('data_coding') == 0
              and e.get('dest_addr_ton') == 1, 'reply from the short code, GSM 7-bit, to an international number')
        ask(smsc, SUB, '7730', '2', 'How satisfied')
        ask(smsc, SUB, '7730', '5', 'recommend')
        ask(smsc, SUB, '7730', 'yes', 'Thank you!')

        # 2. a long UCS-2 reply in UDH parts
        deliver(smsc, '491720000200', '7799', 'LONG')
        parts = smsc.collect(lambda e: is_submit(e, '491720000200'), 3, 10)
        check(len(parts) == 3, 'long reply in 3 parts (got %d)' % len(parts))
        if len(parts) == 3:
            udhs = [p['short_message']['udh'][0] if p['short_message']['udh'] else '' for p in parts]
            ref = udhs[0][4:6]
            check(all(p.get('data_coding') == 8 for p in parts), 'parts in UCS-2 (data_coding 8)')
            check(all(p.get('esm_class', 0) & 0x40 for p in parts), 'parts with UDHI')
            check(udhs == ['0003%s03%02x' % (ref, i + 1) for i in range(3)], 'UDH IE 00 03 ref 03 1..3: %s' % udhs)
            whole = ''.join(submit_text(p) for p in parts)
            check(whole.startswith('Здравствуйте!') and whole.endswith('Спасибо за участие!'),
                  'parts join to the whole text')

        # 3. concatenated MO: UDH, then SAR
        deliver(smsc, '491720000300', '7730', hexdata='050003420201' + 'SUR'.encode().hex(), esm=0x40)
        time.sleep(0.2)
        deliver(smsc, '491720000300', '7730', hexdata='050003420202' + 'VEY'.encode().hex(), esm=0x40)
        e = smsc.wait(lambda e: is_submit(e, '491720000300'), 10)
        check(e is not None and 'How do you usually contact us?' in submit_text(e), 'UDH-concatenated MO "SUR"+"VEY"')
        deliver(smsc, '491720000301', '7730', 'VEY', sar_msg_ref_num=0x1234, sar_total_segments=2,
                sar_segment_seqnum=2)
        deliver(smsc, '491720000301', '7730', 'SUR', sar_msg_ref_num=0x1234, sar_total_segments=2,
                sar_segment_seqnum=1)
        e = smsc.wait(lambda e: is_submit(e, '491720000301'), 10)
        check(e is not None and 'How do you usually contact us?' in submit_text(e), 'SAR-concatenated MO, parts reversed')

        # 4. bad PDUs: generic_nack, the link keeps serving
        smsc.cmd(cmd='raw', hex='00000010000000770000000000000063')
        e = smsc.wait(lambda e: e.get('dir') == 'rx' and e.get('command') == 'generic_nack', 5)
        check(e is not None and e.get('sequence_number') == 0x63 and e.get('command_status') == 3,
              'unknown command id -> generic_nack RINVCMDID')
        smsc.cmd(cmd='raw', hex='00000015000000050000000000000064' + '5553534400')
        e = smsc.wait(lambda e: e.get('dir') == 'rx' and e.get('command') == 'generic_nack', 5)
        check(e is not None and e.get('sequence_number') == 0x64, 'truncated deliver_sm -> generic_nack')
        ask(smsc, '491720000400', '7730', 'SURVEY', 'How do you usually contact us?')

        # 5. THROTTLED: the reply is retried after a pause, not lost
        smsc.drain(0.5)
        smsc.cmd(cmd='throttle', n=2)
        deliver(smsc, '491720000401', '7730', 'SURVEY')
        subs = smsc.collect(lambda e: e.get('command') == 'submit_sm_resp' and e.get('dir') == 'tx', 3, 10)
        check([s.get('command_status') for s in subs] == [0x58, 0x58, 0], 'THROTTLED twice, then accepted: %s' %
              [s.get('command_status') for s in subs])

        # 6. the SMSC drops the link; the next deliver after the rebind is answered once
        smsc.cmd(cmd='drop')
        check(smsc.wait(lambda e: e.get('dir') == 'rx' and e.get('command') == 'bind_transceiver', 10) is not None,
              'rebind after the link was dropped')
        time.sleep(0.3)
        ask(smsc, '491720000500', '7730', 'SURVEY', 'How do you usually contact us?')
        smsc.drain(1.0)

        # 7. USSD over SMPP, dialect standard: the spam-report menu (op 1 begins, op 2 continues, op 17 ends)
        U1 = '491720000600'
        ussd_step(smsc, U1, '*7726#', 1, 42, 0, 2, False, 'Report a number', 'USSD standard')
        ussd_step(smsc, U1, '1', 18, 42, 2, 2, False, 'Number that called you?', 'USSD standard')
        ussd_step(smsc, U1, '+4930111222', 18, 42, 4, 2, False, 'Report +4930111222?', 'USSD standard')
        e = ussd_step(smsc, U1, '1', 18, 42, 6, 17, True, 'Reports of +4930111222 so far: 1', 'USSD standard')
        check(e is not None and e.get('source_addr') == '*7726#' and e.get('data_coding') == 0,
              'USSD reply from the service code, GSM 7-bit')
        # a message of another session is refused; the user's release ends a running session
        ussd_step(smsc, U1, '*7726#', 1, 43, 0, 2, False, 'Report a number', 'USSD standard, second session')
        smsc.drain(0.3)
        ussd_mo(smsc, U1, '1', 18, 99, 2)
        e = smsc.wait(lambda e: e.get('dir') == 'rx' and e.get('command') == 'deliver_sm_resp', 5)
        check(e is not None and e.get('command_status') == 0x66, 'USSD of an unknown session -> ESME_RX_R_APPN')
        ussd_mo(smsc, U1, '', 18, 43, 2, end=True)
        e = smsc.wait(lambda e: e.get('dir') == 'rx' and e.get('command') == 'deliver_sm_resp', 5)
        check(e is not None and e.get('command_status') == 0, 'USSD release by the user accepted')
        ussd_mo(smsc, U1, '1', 18, 43, 4)
        e = smsc.wait(lambda e: e.get('dir') == 'rx' and e.get('command') == 'deliver_sm_resp', 5)
        check(e is not None and e.get('command_status') == 0x66, 'USSD after the release: session gone')

        # 8. dialect its-session-end, set through the VTY (applies to the sessions that begin afterwards)
        vty = Vty(VTY_PORT)
        for c in ('configure terminal', 'smpp', 'smsc test', 'dialect its-session-end', 'end'):
            vty.cmd(c)
        U2 = '491720000601'
        ussd_step(smsc, U2, '*7726#', 1, 7, 0, 2, False, 'Report a number', 'USSD its-session-end')
        ussd_step(smsc, U2, '2', 18, 7, 2, 2, False, 'Number to check?', 'USSD its-session-end')
        ussd_step(smsc, U2, '+4930111222', 18, 7, 4, 2, True, 'Reports of +4930111222 so far: 1',
                  'USSD its-session-end (end only in its_session_info)')
        out = vty.cmd('show running-config')
        check('dialect its-session-end' in out, 'running config shows the dialect')
        for c in ('configure terminal', 'smpp', 'smsc test', 'dialect standard', 'end'):
            vty.cmd(c)

        # 9. network-initiated push answered by the user over SMS
        P1 = '491720000700'
        out = vty.cmd('trigger survey +%s via smpp-sms' % P1)
        check('Triggered survey for +%s via smpp-sms' % P1 in out, 'VTY trigger via smpp-sms accepted: %r' % out)
        e = smsc.wait(lambda e: is_submit(e, P1), 10)
        check(e is not None and 'How do you usually contact us?' in submit_text(e) and e.get('source_addr') == '7730',
              'pushed survey question from the campaign\'s short code 7730')
        ask(smsc, P1, '7730', '3', 'How satisfied')
        ask(smsc, P1, '7730', '4', 'recommend')
        ask(smsc, P1, '7730', 'no', 'Thank you!')

        # 10. push over smpp-ussd: a question as USSR (op 2), a notice as USSN (op 3)
        P2 = '491720000701'
        out = vty.cmd('trigger survey +%s via smpp-ussd' % P2)
        e = smsc.wait(lambda e: is_ussd(e, P2), 10)
        check('Triggered' in out and e is not None and e.get('ussd_service_op') == 2
              and 'How do you usually contact us?' in submit_text(e), 'USSD push of a question: USSR (op 2)')
        if e is not None:
            sess = int(e['its_session_info'][:2], 16)
            ussd_step(smsc, P2, '1', 18, sess, 2, 2, False, 'How satisfied', 'USSD push answered')
        out = vty.cmd('trigger notice +%s via smpp-ussd' % P2)
        e = smsc.wait(lambda e: is_ussd(e, P2), 10)
        check(e is not None and e.get('ussd_service_op') == 3 and 'maintenance' in submit_text(e)
              and int(e['its_session_info'][2:4], 16) & 1, 'USSD push of a notice: USSN (op 3), end of session')

        # 11. STOP: the opt-out is recorded and confirmed; a push afterwards is refused, nothing is sent
        S1 = '491720000702'
        ask(smsc, S1, '7730', 'SURVEY', 'How do you usually contact us?')
        ask(smsc, S1, '7730', 'stop', 'unsubscribed')
        out = vty.cmd('trigger survey +%s via smpp-sms' % S1)
        check('Refused: opted_out' in out, 'VTY trigger after STOP refused: %r' % out)
        out = vty.cmd('trigger survey +%s via smpp-ussd' % S1)
        check('Refused: opted_out' in out, 'VTY USSD trigger after STOP refused: %r' % out)
        out = vty.cmd('trigger survey +%s' % S1)
        check('Refused: opted_out' in out, 'VTY trigger without via after STOP refused: %r' % out)
        check(smsc.wait(lambda e: is_submit(e, S1), 1.0) is None, 'nothing sent to the opted-out subscriber')
        out = vty.cmd('show subscriber +%s' % S1)
        check('opted out' in out, 'show subscriber after STOP: %r' % out)
        # START: back in, confirmed; the next push goes out again (on every channel: one list)
        ask(smsc, S1, '7730', 'Start', 'subscribed again')
        out = vty.cmd('show subscriber +%s' % S1)
        check('interactions: allowed' in out, 'show subscriber after START: %r' % out)
        out = vty.cmd('trigger survey +%s via smpp-sms' % S1)
        check('Triggered survey' in out, 'VTY trigger after START: %r' % out)
        e = smsc.wait(lambda e: is_submit(e, S1), 10)
        check(e is not None and 'How do you usually contact us?' in submit_text(e), 'the push after START sent')
        # keywords of another language: the confirmation in the language of the word the subscriber wrote
        for c in ('configure terminal', 'uigw', 'keywords fr stop ARRET', 'keywords fr start DEMARRER',
                  'keywords fr stop-reply Vous ne recevrez plus de messages.',
                  'keywords fr start-reply Vous recevrez de nouveau nos messages.', 'end'):
            vty.cmd(c)
        ask(smsc, S1, '7730', 'Arret', 'Vous ne recevrez plus de messages.')
        out = vty.cmd('trigger survey +%s via smpp-sms' % S1)
        check('Refused: opted_out' in out, 'VTY trigger after ARRET refused: %r' % out)
        ask(smsc, S1, '7730', 'DEMARRER', 'Vous recevrez de nouveau nos messages.')
        ask(smsc, S1, '7730', 'STOP', 'unsubscribed')
        ask(smsc, S1, '7730', 'START', 'subscribed again')
        out = vty.cmd('trigger nosuch +' + S1)
        check('Refused: no_campaign' in out, 'trigger of an unknown campaign: %r' % out)

        # 12. trigger parameters reach the campaign on both SMPP channels and are stored with the answers
        R1, R2 = '491720000703', '491720000704'
        out = vty.cmd('trigger callquality +%s via smpp-sms caller=+4930999001' % R1)
        check('Triggered callquality' in out, 'trigger with a parameter via smpp-sms: %r' % out)
        e = smsc.wait(lambda e: is_submit(e, R1), 10)
        check(e is not None and 'quality of your last call' in submit_text(e) and e.get('source_addr') == '7727',
              'the rating question over SMS from the campaign\'s short code 7727')
        ask(smsc, R1, '7727', '4', 'call you back')
        ask(smsc, R1, '7727', 'no', 'Thank you!')
        out = vty.cmd('trigger callquality +%s via smpp-ussd caller=+4930999002' % R2)
        e = smsc.wait(lambda e: is_ussd(e, R2), 10)
        check('Triggered' in out and e is not None and e.get('ussd_service_op') == 2
              and 'quality of your last call' in submit_text(e), 'trigger with a parameter via smpp-ussd: USSR')
        if e is not None:
            sess = int(e['its_session_info'][:2], 16)
            ussd_step(smsc, R2, '5', 18, sess, 2, 2, False, 'call you back', 'USSD rating answered')
            ussd_step(smsc, R2, '2', 18, sess, 4, 3, True, 'Thank you!', 'USSD rating ends (USSN: the network began it)')
        # without via: no IMS contact seen, a bound SMPP link: smpp-ussd comes before smpp-sms
        out = vty.cmd('trigger notice +491720000705')
        check('Triggered notice for +491720000705 via smpp-ussd' in out, 'trigger without via: %r' % out)
        out = vty.cmd('show feedback callquality')
        check('+4930999001' in out and '+4930999002' in out and 'smpp-sms' in out and 'smpp-ussd' in out,
              'the callers of both triggers are stored with the ratings: %r' % out)
        out = vty.cmd('show smpp')
        check('opt-outs 3, opt-ins 3' in out and 'USSD:' in out, 'show smpp counts USSD and opt-outs')

        # 12a. roaming from the SMSC: the VLR number in a vendor TLV (roaming-tlv 0x1501, home 49172): a subscriber
        # elsewhere is roaming (the gateway's roaming-policy deny refuses them), one at home is served; the
        # charging records keep the flag and the location
        for c in ('configure terminal', 'smpp', 'roaming-tlv 0x1501', 'roaming-home 49172', 'exit', 'uigw',
                  'roaming-policy deny', 'end'):
            vty.cmd(c)
        R3, R4 = '491720000709', '491720000710'
        deliver(smsc, R3, '7730', 'SURVEY', vendor_location='33612000001')
        e = smsc.wait(lambda e: is_submit(e, R3), 10)
        check(e is not None and 'This service is not available.' in submit_text(e),
              'a sender whose VLR is abroad (vendor TLV) is roaming: refused under roaming-policy deny')
        deliver(smsc, R4, '7730', 'SURVEY', vendor_location='491720000999')
        e = smsc.wait(lambda e: is_submit(e, R4), 10)
        check(e is not None and 'How do you usually contact us?' in submit_text(e), 'a sender at home is served')
        out = vty.cmd('show charging records 3')
        check(re.search(r'smpp-sms +survey .* rejected .* 33612000001 +refused:roaming', out) is not None,
              'the charging record keeps the roaming flag and the location: %r' % out)
        for c in ('configure terminal', 'smpp', 'no roaming-tlv', 'exit', 'uigw', 'roaming-policy allow', 'end'):
            vty.cmd(c)

        # 12b. the "stop these messages" option on a pushed USSD dialog (push-stop-option): chosen, it opts the
        # subscriber out everywhere (the same list): the next pushes over SMS and USSD are refused
        for c in ('configure terminal', 'uigw', 'push-stop-option 99 Stop these messages', 'end'):
            vty.cmd(c)
        P3 = '491720000708'
        out = vty.cmd('trigger survey +%s via smpp-ussd' % P3)
        e = smsc.wait(lambda e: is_ussd(e, P3), 10)
        check('Triggered' in out and e is not None and '99. Stop these messages' in submit_text(e),
              'the pushed USSD screen offers the stop option')
        if e is not None:
            sess = int(e['its_session_info'][:2], 16)
            ussd_step(smsc, P3, '99', 18, sess, 2, 3, True, 'unsubscribed', 'USSD stop option chosen: confirmed')
        out = vty.cmd('trigger survey +%s via smpp-sms' % P3)
        check('Refused: opted_out' in out, 'after the USSD stop option a push over SMS is refused: %r' % out)
        out = vty.cmd('trigger notice +%s via smpp-ussd' % P3)
        check('Refused: opted_out' in out, 'and one over USSD: %r' % out)
        for c in ('configure terminal', 'uigw', 'no push-stop-option', 'end'):
            vty.cmd(c)

        # 13. quiet hours (the current minute, in UTC): a push is put off to the minute they end and goes out then
        # over SMS, kept in the store meanwhile; with the action refuse another is refused; a campaign with
        # quiet_hours = false... is not among the shipped ones: the notice over USSD waits as well
        if time.gmtime().tm_sec >= 50:
            time.sleep(61 - time.gmtime().tm_sec)	# a whole minute ahead: the window is this minute
        boundary = (int(time.time()) // 60 + 1) * 60	# the first second after the quiet hours
        now, nxt = time.gmtime(boundary - 60), time.gmtime(boundary)
        for c in ('configure terminal', 'uigw', 'time-zone default UTC',
                  'quiet-hours %02d:%02d %02d:%02d' % (now.tm_hour, now.tm_min, nxt.tm_hour, nxt.tm_min), 'end'):
            vty.cmd(c)
        Q1, Q2 = '491720000706', '491720000707'
        out = vty.cmd('trigger survey +%s via smpp-sms' % Q1)
        check('Deferred survey for +%s until %04d-%02d-%02d %02d:%02d:00 UTC (quiet_hours)'
              % (Q1, nxt.tm_year, nxt.tm_mon, nxt.tm_mday, nxt.tm_hour, nxt.tm_min) in out,
              'a push inside the quiet hours put off to their end: %r' % out)
        out = vty.cmd('show deferred')
        check('1 pushes put off' in out and '+' + Q1 in out and 'quiet_hours' in out, 'show deferred: %r' % out)
        for c in ('configure terminal', 'uigw', 'quiet-hours-action refuse', 'end'):
            vty.cmd(c)
        out = vty.cmd('trigger survey +%s via smpp-sms' % Q2)
        check('Refused: quiet_hours' in out, 'with the action refuse: refused: %r' % out)
        check(smsc.wait(lambda e: is_submit(e, Q1) or is_submit(e, Q2), 1.0) is None,
              'nothing sent inside the quiet hours')
        e = smsc.wait(lambda e: is_submit(e, Q1), 75)
        check(e is not None and 'How do you usually contact us?' in submit_text(e) and time.time() >= boundary,
              'the deferred push went out over SMS when the quiet hours ended (%.1f s after)'
              % (time.time() - boundary))
        ask(smsc, Q1, '7730', '2', 'How satisfied')
        out = vty.cmd('show deferred')
        check('0 pushes put off' in out, 'nothing waits any more: %r' % out)
        check(smsc.wait(lambda e: is_submit(e, Q2), 0.5) is None, 'the refused push was never sent')
        for c in ('configure terminal', 'uigw', 'no quiet-hours', 'quiet-hours-action defer', 'end'):
            vty.cmd(c)
        vty.close()

        # enquire_link keepalive was sent (interval 1 s)
        with open(os.path.join(workdir, 'smsc.jsonl')) as f:
            enq = sum(1 for line in f if '"enquire_link"' in line and '"dir":"rx"' in line)
        check(enq >= 1, 'enquire_link keepalive (%d seen)' % enq)
    except Exception:
        # a step that cannot go on (the VTY refused, say) fails the test with its traceback; the daemon's state
        # and log below still get reported
        traceback.print_exc()
        check(False, 'the test ran to its end')
    finally:
        rc = 'not started'
        if d and d.poll() is not None:
            check(False, 'the daemon was running at the end (it exited with %s)' % d.returncode)
        rc = stop_daemon(d) if d else rc
        dlog.close()
        smsc.stop()
    if rc == 0:
        # subscriber numbers are kept only as pseudonyms, but in the operator's mapping (the callers of section 12
        # are parameters, numbers 4930...: not subscribers)
        db_path = os.path.join(workdir, 'test.db')
        where = numbers_in_store(db_path, '49172000')
        check(not where, 'no subscriber number in the store outside subscriber_map: %r' % where)
        # the same scan finds them where they are (it reads every table)
        where = numbers_in_store(db_path, '49172000', allowed=())
        # (merged from its journal when the gateway stopped: the journal is empty)
        check(where == [('subscriber_map', 'msisdn')], 'the scan finds the mapping: %r' % where)
    return finish(workdir, rc, t0)


if __name__ == '__main__':
    sys.exit(main())
