#!/usr/bin/env python3
"""SMPP fault tests: the real osmo-uigw daemon against the node-smpp SMSC (tests/smpp/smsc.js) on 127.0.0.1.

1. A 1,000-reply burst during which the SMSC drops the link (the responses it wrote are flushed, the submits
   after them stay unanswered) and accepts the rebind: every reply is accepted exactly once.
2. Dialogs that end (answer timer) while the link is down: their queued questions are dropped and counted,
   never sent once the link is back.
3. THROTTLED for every submit during 3 s: every reply is accepted exactly once afterwards.
4. A restart: the daemon is killed (SIGKILL) with replies unanswered by the SMSC; restarted on the same
   database, it sends the final replies once and drops (and counts) the questions of dialogs that ended with
   the restart; the MT queue table is empty at the end.
5. Failover: a second SMSC link of priority 1 stands by while the first is bound, carries the replies while
   the first is down (its binds refused), and hands them back once the first is bound again.
6. An oversized PDU: the link is dropped (it cannot be resynchronised), rebinds and serves again.
7. Delivery receipts: requested (registered_delivery 1) and recorded per message: the one whose receipt came
   has its stat: value, the other stays ENROUTE.
Overload control's inputs are off (and max-wait): the SMSC holds its responses on purpose, and the MT queue it
builds is the link's queue delay, which would refuse the burst's later MOs (THROTTLED) in overload's name; overload
control has tests of its own (dialog_test, smpp_link_test, chaos.sh).
Ports 42934-42937 (a second SMSC on 42935).
"""
import argparse
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import smpp_integration as si  # noqa: E402  (the SMSC driver, the VTY client, check())
from uigwtest import log_cfg  # noqa: E402  (on the path through smpp_integration)

si.SMSC_PORT = 42934
VTY_PORT = 42936
CTRL_PORT = 42937
check = si.check


def accepted(smsc, dsts, timeout):
    """Collect 'accepted' events until every destination in dsts was seen, or timeout; then 1 s more to catch
    duplicates. Returns {dst: count} for the destinations in dsts (others are ignored)."""
    seen = {}
    want = set(dsts)
    deadline = time.time() + timeout
    extra_until = None
    while True:
        now = time.time()
        if extra_until is None and (want <= set(seen) or now > deadline):
            extra_until = now + 1.0
        if extra_until is not None and now > extra_until:
            break
        e = smsc.wait(lambda e: e.get('event') == 'accepted', 0.1)
        if e and e.get('dst') in want:
            seen[e['dst']] = seen.get(e['dst'], 0) + 1
    return seen


def count_resps(smsc, n, timeout):
    got = smsc.collect(lambda e: e.get('dir') == 'rx' and e.get('command') == 'deliver_sm_resp', n, timeout)
    return len(got)


def mt_rows(db):
    c = sqlite3.connect(db, timeout=5)
    try:
        return c.execute('SELECT count(*) FROM mt_queue').fetchone()[0]
    finally:
        c.close()


def show_counters(vty):
    out = vty.cmd('show smpp')
    m = re.search(r'MT queue: (\d+) stored, (\d+) store errors, (\d+) restored; dropped: (\d+) dialog ended, '
                  r'(\d+) restart, (\d+) expired', out)
    return out, ({k: int(v) for k, v in zip(('stored', 'store_err', 'restored', 'ended', 'restart', 'expired'),
                                             m.groups())} if m else None)


def start_daemon(args, cfg, workdir, dlog):
    d = subprocess.Popen([args.daemon, '-c', cfg, '-C', str(CTRL_PORT)], cwd=workdir, stdout=dlog,
                         stderr=subprocess.STDOUT)
    return d


def wait_bound(smsc, timeout=15):
    b = smsc.wait(lambda e: e.get('dir') == 'tx' and e.get('command') == 'bind_transceiver_resp'
                  and e.get('command_status') == 0, timeout)
    time.sleep(0.2)
    return b is not None


def vty_connect(timeout=10):
    deadline = time.time() + timeout
    while True:
        try:
            return si.Vty(VTY_PORT)
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.1)


BACKUP_PORT = 42935


def start_backup(args, workdir):
    """A second node-smpp SMSC on BACKUP_PORT, logging into its own folder."""
    bdir = os.path.join(workdir, 'backup')
    os.makedirs(bdir, exist_ok=True)
    port = si.SMSC_PORT
    si.SMSC_PORT = BACKUP_PORT
    try:
        return si.Smsc(args.node, args.srcdir, bdir)
    finally:
        si.SMSC_PORT = port


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--daemon', required=True)
    ap.add_argument('--top-srcdir', required=True)
    ap.add_argument('--srcdir', required=True)
    ap.add_argument('--node', default='node')
    args = ap.parse_args()

    workdir = tempfile.mkdtemp(prefix='uigw-smpp-faults-')
    camp = os.path.join(workdir, 'campaigns')
    os.mkdir(camp)
    shutil.copy(os.path.join(args.top_srcdir, 'etc', 'campaigns', 'survey.conf'), camp)
    shutil.copy(os.path.join(args.top_srcdir, 'tests', 'data', 'smpp', 'burst.conf'), camp)
    db = os.path.join(workdir, 'test.db')
    cfg = os.path.join(workdir, 'osmo-uigw.cfg')
    with open(cfg, 'w') as f:
        f.write(log_cfg() + '''line vty
 bind 127.0.0.1 %d
uigw
 campaigns-dir %s
 pseudonym-secret smpp-test-secret
 overload loop-lag 0 0
 overload store-delay 0 0
 overload queue-delay 0 0
 overload max-wait 0
store
 path %s
smpp
 timer reconnect 100
 timer throttle 200
 timer response 2000
 smsc test
  remote-ip 127.0.0.1
  remote-port %d
  system-id uigw
  password secret
  window 20
  enquire-interval 5
''' % (VTY_PORT, camp, db, si.SMSC_PORT))

    smsc = si.Smsc(args.node, args.srcdir, workdir)
    dlog = open(os.path.join(workdir, 'daemon.log'), 'w')
    t0 = time.time()
    d = None
    backup = None
    try:
        d = start_daemon(args, cfg, workdir, dlog)
        check(wait_bound(smsc), 'bound')
        vty = vty_connect()

        # 1. a 1,000-reply burst, the link dropped after 400 accepted replies
        smsc.cmd(cmd='hold', on=True)
        subs = ['4917300%05d' % i for i in range(1000)]
        for s in subs:
            si.deliver(smsc, s, '7790', 'BURST')
        n = count_resps(smsc, 1000, 30)
        check(n == 1000, '1,000 MOs acknowledged (deliver_sm_resp): %d' % n)
        smsc.cmd(cmd='drop_after', n=400)
        smsc.cmd(cmd='hold', on=False)
        seen = accepted(smsc, subs, 60)
        dup = [s for s, c in seen.items() if c > 1]
        missing = [s for s in subs if s not in seen]
        check(not missing and not dup, 'burst with a link drop: %d of 1000 replies accepted, %d missing, '
              '%d twice' % (len(seen), len(missing), len(dup)))
        out, c = show_counters(vty)
        check(c is not None and c['stored'] >= 1000, 'show smpp: MT queue counters (%s)' % (c,))
        check(re.search(r'disconnects [1-9]', out) is not None, 'show smpp counts the link drop')
        time.sleep(0.5)
        check(mt_rows(db) == 0, 'mt_queue empty once every reply was accepted (%d rows)' % mt_rows(db))

        # 2. dialogs that end while the link is down: their questions are dropped, never sent late
        for cmd in ('configure terminal', 'uigw', 'timer dialog X2 2', 'end'):
            vty.cmd(cmd)
        _, before = show_counters(vty)
        smsc.cmd(cmd='hold', on=True)
        late = ['4917310%05d' % i for i in range(30)]
        for s in late:
            si.deliver(smsc, s, '7730', 'SURVEY')
        n = count_resps(smsc, 30, 10)
        check(n == 30, '30 survey MOs acknowledged: %d' % n)
        smsc.cmd(cmd='refuse', on=True)
        smsc.cmd(cmd='drop')
        time.sleep(3.5)		# the answer timer (2 s) ends the 30 dialogs while the link is down
        smsc.cmd(cmd='hold', on=False)
        smsc.cmd(cmd='refuse', on=False)
        check(wait_bound(smsc, 20), 'rebound after the refused binds')
        seen = accepted(smsc, late, 3)
        check(not seen, 'no question of an ended dialog sent after the link came back (%d sent)' % len(seen))
        _, after = show_counters(vty)
        check(after is not None and before is not None and after['ended'] - before['ended'] == 30,
              'show smpp counts 30 dropped as "dialog ended" (%s -> %s)' % (before, after))
        for cmd in ('configure terminal', 'uigw', 'timer dialog X2 3600', 'end'):
            vty.cmd(cmd)

        # 3. THROTTLED for 3 s: no reply lost, none twice
        smsc.cmd(cmd='throttle_ms', ms=3000)
        thr = ['4917320%05d' % i for i in range(50)]
        for s in thr:
            si.deliver(smsc, s, '7790', 'BURST')
        seen = accepted(smsc, thr, 20)
        check(len(seen) == 50 and all(c == 1 for c in seen.values()),
              'THROTTLED for 3 s: %d of 50 replies accepted, each once' % len(seen))
        out, _ = show_counters(vty)
        m = re.search(r'throttled (\d+)', out)
        check(m is not None and int(m.group(1)) > 0, 'show smpp counts the THROTTLED answers (%s)' %
              (m.group(1) if m else None))

        # 4. restart: killed with replies unanswered, sent once after the restart
        smsc.cmd(cmd='hold', on=True)
        rst = ['4917330%05d' % i for i in range(20)]
        q = ['4917340%05d' % i for i in range(5)]
        for s in rst:
            si.deliver(smsc, s, '7790', 'BURST')
        for s in q:
            si.deliver(smsc, s, '7730', 'SURVEY')
        n = count_resps(smsc, 25, 10)
        check(n == 25, '25 MOs acknowledged before the kill: %d' % n)
        time.sleep(1.0)		# group commit
        rows = mt_rows(db)
        check(rows == 25, 'mt_queue holds the 25 unanswered replies before the kill (%d rows)' % rows)
        vty.close()
        d.send_signal(signal.SIGKILL)
        d.wait(timeout=10)
        smsc.cmd(cmd='hold', on=False)
        d = start_daemon(args, cfg, workdir, dlog)
        check(wait_bound(smsc), 'bound after the restart')
        seen = accepted(smsc, rst + q, 10)
        check(all(seen.get(s) == 1 for s in rst), 'after the restart each of the 20 final replies accepted '
              'once (%d)' % sum(1 for s in rst if seen.get(s) == 1))
        check(not any(s in seen for s in q), 'questions of dialogs that ended with the restart not sent')
        vty = vty_connect()
        _, c = show_counters(vty)
        check(c is not None and c['restored'] == 20 and c['restart'] == 5,
              'show smpp: 20 restored, 5 dropped at the restart (%s)' % (c,))
        time.sleep(0.5)
        check(mt_rows(db) == 0, 'mt_queue empty at the end (%d rows)' % mt_rows(db))

        # 5. failover to a standby link of priority 1, and back
        backup = start_backup(args, workdir)
        for cmd in ('configure terminal', 'smpp', 'smsc backup', 'remote-ip 127.0.0.1',
                    'remote-port %d' % BACKUP_PORT, 'system-id uigw', 'password secret', 'priority 1',
                    'no shutdown', 'end'):
            vty.cmd(cmd)
        check(wait_bound(backup), 'standby link bound')
        fo1 = ['4917350%05d' % i for i in range(100)]	# more than the window of 20
        for s in fo1:
            si.deliver(smsc, s, '7790', 'BURST')
        seen = accepted(smsc, fo1, 10)
        seen_b = accepted(backup, fo1, 0.5)
        check(len(seen) == 100 and not seen_b, 'both bound: 100 replies go over priority 0 only (%d / %d)' %
              (len(seen), len(seen_b)))
        smsc.cmd(cmd='refuse', on=True)
        smsc.cmd(cmd='drop')
        time.sleep(0.5)
        fo2 = ['4917360%05d' % i for i in range(20)]
        for s in fo2:
            si.deliver(backup, s, '7790', 'BURST')
        seen_b = accepted(backup, fo2, 10)
        check(len(seen_b) == 20 and all(v == 1 for v in seen_b.values()),
              'priority 0 down: the standby link carries the 20 replies (%d)' % len(seen_b))
        smsc.cmd(cmd='refuse', on=False)
        check(wait_bound(smsc, 20), 'priority 0 bound again')
        fo3 = ['4917370%05d' % i for i in range(100)]
        for s in fo3:
            si.deliver(backup, s, '7790', 'BURST')
        seen = accepted(smsc, fo3, 10)
        seen_b = accepted(backup, fo3, 0.5)
        check(len(seen) == 100 and not seen_b, 'priority 0 back: it carries the replies again (%d / %d)' %
              (len(seen), len(seen_b)))
        out = vty.cmd('show smpp')
        check('smsc backup' in out and 'smsc test' in out, 'show smpp lists both links')

        # 6. an oversized PDU (command_length 1 MiB) cannot be skipped: the link is dropped, rebinds and serves
        smsc.drain(0.3)
        smsc.cmd(cmd='raw', hex='00100000' + '00000004' + '00000000' + '00000077' + '00' * 64)
        e = smsc.wait(lambda e: e.get('event') == 'close', 10)
        check(e is not None, 'oversized PDU: the gateway drops the link')
        check(wait_bound(smsc, 20), 'oversized PDU: rebound')
        big = ['4917380%05d' % i for i in range(5)]
        for s in big:
            si.deliver(smsc, s, '7790', 'BURST')
        seen = accepted(smsc, big, 10)
        check(len(seen) == 5, 'after the oversized PDU the link serves again (%d of 5)' % len(seen))

        # 7. delivery receipts: requested on every MT, recorded per message with the state of its receipt
        for cmd in ('configure terminal', 'smpp', 'delivery-receipts on', 'end'):
            vty.cmd(cmd)
        smsc.drain(0.3)
        ids = {}
        for s in ('491739000001', '491739000002'):
            si.deliver(smsc, s, '7790', 'BURST')
            e = smsc.wait(lambda e: e.get('event') == 'accepted' and e.get('dst') == s, 10)
            check(e is not None and e.get('registered_delivery') == 1, 'MT to %s with registered_delivery 1' % s)
            ids[s] = e.get('id') if e else None
        si.deliver(smsc, '491739000001', '7790', 'id:%s sub:001 dlvrd:001 submit date:2611230000 done '
                   'date:2611230001 stat:DELIVRD err:000 text:Thanks' % ids['491739000001'], esm=0x04)
        e = smsc.wait(lambda e: e.get('dir') == 'rx' and e.get('command') == 'deliver_sm_resp', 5)
        check(e is not None and e.get('command_status') == 0, 'receipt acknowledged')
        time.sleep(0.5)
        c = sqlite3.connect(db, timeout=5)
        states = dict(c.execute('SELECT message_id, state FROM mt_receipt WHERE message_id IN (?, ?)',
                                (ids['491739000001'], ids['491739000002'])).fetchall())
        c.close()
        check(states.get(ids['491739000001']) == 'DELIVRD' and states.get(ids['491739000002']) == 'ENROUTE',
              'receipts recorded per message: %s' % states)
        out = vty.cmd('show smpp')
        check(re.search(r'Delivery receipts \(requested; per message state\):.* DELIVRD 1', out) is not None,
              'show smpp counts the receipt states')
        vty.close()

        d.send_signal(signal.SIGTERM)
        rc = d.wait(timeout=15)
        check(rc == 0, 'clean shutdown (rc %d)' % rc)
        d = None
    finally:
        if d is not None:
            d.kill()
            d.wait()
        if backup is not None:
            backup.stop()
        smsc.stop()
        dlog.close()
        print('took %.1f s' % (time.time() - t0))
        if si.failures:
            print('--- daemon log (tail)')
            with open(os.path.join(workdir, 'daemon.log')) as f:
                print(''.join(f.readlines()[-60:]))
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    if si.failures:
        print('%d check(s) failed' % len(si.failures))
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
