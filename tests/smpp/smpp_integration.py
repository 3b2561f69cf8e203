#!/usr/bin/env python3
"""SMPP integration test: the real osmo-uigw daemon against an independent SMSC (node-smpp, tests/smpp/smsc.js)
on 127.0.0.1. The SMSC logs every PDU as a JSON line; this script drives it through its stdin.

Covered: bind_transceiver with system-id/password, the three-question survey over SMS, a long UCS-2 reply in UDH
parts, concatenated MO messages (UDH and SAR), garbage / unknown / truncated PDUs answered with generic_nack while
the link keeps serving, THROTTLED answered by backing off and retrying, a dropped link that comes back with the
reply delivered once, and a clean SIGTERM shutdown. Ports 42930-42933.
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

SMSC_PORT = 42930
VTY_PORT = 42932
CTRL_PORT = 42933
SUB = '491720000123'

failures = []


def check(cond, what):
    print(('ok   ' if cond else 'FAIL ') + what, flush=True)
    if not cond:
        failures.append(what)


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
    shutil.copy(os.path.join(args.top_srcdir, 'tests', 'data', 'smpp', 'longucs.conf'), camp)
    cfg = os.path.join(workdir, 'osmo-uigw.cfg')
    with open(cfg, 'w') as f:
        f.write('''log stderr
 logging filter all 1
 logging color 0
 logging print category 1
 logging print level 1
 logging level set-all notice
 logging level smpp info
line vty
 bind 127.0.0.1 %d
uigw
 campaigns-dir %s
 pseudonym-secret smpp-test-secret
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

        # enquire_link keepalive was sent (interval 1 s)
        with open(os.path.join(workdir, 'smsc.jsonl')) as f:
            enq = sum(1 for line in f if '"enquire_link"' in line and '"dir":"rx"' in line)
        check(enq >= 1, 'enquire_link keepalive (%d seen)' % enq)
    finally:
        rc = 'not started'
        if d:
            d.send_signal(signal.SIGTERM)
            try:
                rc = d.wait(timeout=20)
            except subprocess.TimeoutExpired:
                d.kill()
                rc = 'killed'
        dlog.close()
        smsc.stop()
    with open(os.path.join(workdir, 'daemon.log'), errors='replace') as f:
        log = f.read()
    check(rc == 0 and 'talloc report empty' in log, 'clean shutdown (rc %s)' % rc)
    print('took %.1f s' % (time.time() - t0))
    if failures:
        print('---- daemon log (tail)\n' + '\n'.join(log.splitlines()[-60:]))
        print('workdir kept: ' + workdir)
        return 1
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
