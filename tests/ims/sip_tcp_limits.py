#!/usr/bin/env python3
"""The SIP TCP listener under abuse (issue 19), against the real daemon on 127.0.0.1:
 1. 1,000 connections are opened at once and each gets its OPTIONS answered (200), all in under 2 s;
 2. a slow sender (a request dripped a byte every 0.3 s) is cut off after `tcp message-timeout`, while a request
    on another connection is answered at once meanwhile;
 3. idle connections are closed after `tcp idle-timeout` (every one of the 1,000 sees the gateway's FIN);
 4. `tcp max-connections-per-peer` (set at run time on the VTY): connections past it are closed at once, the others
    served;
 5. a message past `tcp max-message-size` closes its connection;
 6. a peer that sends requests and never reads the answers is dropped, once, when what waits for it passes the
    bound (tcp:stuck-closed) or, if TCP's own backoff into its full window stalls its sending first, when its
    request stays incomplete (tcp:slow-closed); other connections are served meanwhile and after;
 8. a MESSAGE that would begin a dialog while the gateway takes no new ones gets 503 with Retry-After (from
    the raw bytes: the fast path, sip_tcp.c), the running dialog's next MESSAGE 202;
 9. the same over UDP takes the fast path (raw bytes, sip_udp.c) while the operator drains the gateway: the 503's
    headers and its destination as RFC 3261 and RFC 3581 want, the dialog under way goes on, a read batch's
    refusals of one length leave in a UDP GSO group (each its own 503 at the client), `no drain` admits;
10. a new dialog's request that waited past `overload max-wait` in the kernel is refused (fast and full path),
    one of a dialog under way is not;
 7. `show sip` counts all of it (tcp:accepted, tcp:refused, tcp:idle-closed, tcp:slow-closed,
    tcp:oversize-closed, tcp:stuck-closed) and the daemon shuts down cleanly.
The client side is plain sockets (the peer here is a flood, not a SIP stack)."""
import argparse
import contextlib
import os
import re
import resource
import select
import signal
import socket
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
import uigwtest  # noqa: E402
from uigwtest import check  # noqa: E402

SIP = 45560
VTY = 45592
CTRL = 45593
SMSC = 45594	# nothing listens: the SMPP link just retries
N = 1000


@contextlib.contextmanager
def stopped(pid):
    """The daemon stopped (SIGSTOP) for the block: what is sent meanwhile waits in the kernel."""
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


def options(i, tag='x'):
    return ('OPTIONS sip:uigw@127.0.0.1:%d SIP/2.0\r\n'
            'Via: SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bK-%s-%d\r\n'
            'Max-Forwards: 70\r\n'
            'From: <sip:probe@127.0.0.1>;tag=%s%d\r\n'
            'To: <sip:uigw@127.0.0.1>\r\n'
            'Call-ID: %s-%d@127.0.0.1\r\n'
            'CSeq: 1 OPTIONS\r\n'
            'Content-Length: 0\r\n\r\n' % (SIP, tag, i, tag, i, tag, i)).encode()


def message(i, msisdn, to, body):
    body = body.encode()
    return ('MESSAGE sip:%s@127.0.0.1:%d SIP/2.0\r\n'
            'Via: SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bK-msg-%d\r\n'
            'Max-Forwards: 70\r\n'
            'From: <sip:%s@127.0.0.1>;tag=m%d\r\n'
            'To: <sip:%s@127.0.0.1>\r\n'
            'Call-ID: msg-%d@127.0.0.1\r\n'
            'CSeq: 1 MESSAGE\r\n'
            'P-Asserted-Identity: <sip:%s@127.0.0.1>\r\n'
            'Content-Type: text/plain\r\n'
            'Content-Length: %d\r\n\r\n' % (to, SIP, i, msisdn, i, to, i, msisdn, len(body))).encode() + body


def read_response(s, timeout):
    """The first response (headers) on s, or None."""
    s.settimeout(timeout)
    buf = b''
    try:
        while b'\r\n\r\n' not in buf:
            d = s.recv(4096)
            if not d:
                return None
            buf += d
    except (socket.timeout, ConnectionError):
        return None
    return buf


def read_status(s, timeout):
    """The status code of the first response on s, or None (EOF or timeout)."""
    buf = read_response(s, timeout)
    m = re.match(rb'SIP/2\.0 (\d{3})', buf) if buf else None
    return int(m.group(1)) if m else None


def closed_by_peer(s, timeout):
    """Whether the gateway closes s (EOF or reset) within timeout seconds."""
    s.settimeout(timeout)
    try:
        while True:
            d = s.recv(65536)
            if not d:
                return True
    except socket.timeout:
        return False
    except ConnectionError:
        return True


def counters(vty):
    out = vty.cmd('show sip')
    return {m.group(1): int(m.group(2)) for m in re.finditer(r'^ (tcp:[a-z-]+)\s+(\d+)$', out, re.M)}, out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--daemon', required=True)
    ap.add_argument('--top-srcdir', required=True)
    a = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    t0 = time.time()
    wd = tempfile.mkdtemp(prefix='uigw-siptcp-')
    cfg = os.path.join(wd, 'uigw.cfg')
    with open(cfg, 'w') as f:
        f.write(uigwtest.gw_cfg(VTY, os.path.join(a.top_srcdir, 'etc', 'campaigns'), os.path.join(wd, 'uigw.db'),
                                'siptcp-secret', SMSC, sip='notice'))
        f.write('sip\n local-port %d\n trusted-peer 127.0.0.1\n tcp max-connections 1500\n'
                ' tcp max-connections-per-peer 1200\n tcp idle-timeout 4\n tcp message-timeout 2\n'
                ' tcp max-message-size 4096\n' % SIP)
    log = open(os.path.join(wd, 'daemon.log'), 'w')
    d = uigwtest.start_daemon(a.daemon, cfg, CTRL, wd, log, port=VTY)
    uigwtest.wait_port(SIP)
    vty = uigwtest.Vty(VTY)
    rc = None
    try:
        # 1. a thousand connections, each served
        t = time.time()
        socks = []
        for i in range(N):
            s = socket.create_connection(('127.0.0.1', SIP), timeout=5)
            socks.append(s)
        for i, s in enumerate(socks):
            s.sendall(options(i, 'm'))
        pending = {s.fileno(): s for s in socks}
        bufs = {}
        ok = 0
        deadline = time.time() + 10
        while pending and time.time() < deadline:
            r, _, _ = select.select(list(pending.values())[:1000], [], [], 0.5)
            for s in r:
                data = s.recv(4096)
                bufs[s.fileno()] = bufs.get(s.fileno(), b'') + data
                if not data or b'\r\n\r\n' in bufs[s.fileno()]:
                    if data and bufs[s.fileno()].startswith(b'SIP/2.0 200'):
                        ok += 1
                    del pending[s.fileno()]
        took = time.time() - t
        print('%d connections opened and served (200 to OPTIONS): %d in %.2f s' % (N, ok, took))
        check(ok == N, 'every one of %d connections answered 200 (%d)' % (N, ok))
        check(took < 2.0, '%d connections opened and served in under 2 s (%.2f s)' % (N, took))
        c, out = counters(vty)
        check(re.search(r'TCP connections: %d open' % N, out) is not None, 'show sip: %d open' % N)

        # 2. a slow sender is cut off; others are served meanwhile
        slow = socket.create_connection(('127.0.0.1', SIP), timeout=5)
        msg = options(1, 'slow')
        t = time.time()
        other_times = []
        i = 0
        cut = False
        while time.time() - t < 6 and i < len(msg):
            try:
                slow.send(msg[i:i + 1])
            except (BrokenPipeError, ConnectionError):
                cut = True
                break
            i += 1
            o = socket.create_connection(('127.0.0.1', SIP), timeout=5)
            t1 = time.time()
            o.sendall(options(i, 'fast'))
            code = read_status(o, 2)
            other_times.append((time.time() - t1, code))
            o.close()
            r, _, _ = select.select([slow], [], [], 0.3)
            if r:
                try:
                    cut = slow.recv(100) == b''
                except ConnectionError:
                    cut = True
                if cut:
                    break
        cut_after = time.time() - t
        if not cut:
            cut = closed_by_peer(slow, 2)
            cut_after = time.time() - t
        worst = max(x[0] for x in other_times) if other_times else 0
        print('slow sender: %d bytes dripped, cut after %.1f s; %d requests on other connections meanwhile, '
              'slowest answer %.0f ms' % (i, cut_after, len(other_times), worst * 1000))
        check(cut and 1.9 <= cut_after <= 4, 'the slow sender cut off after tcp message-timeout 2 s (%.1f s)'
              % cut_after)
        check(other_times and all(code == 200 for _, code in other_times),
              'the other connections answered 200 meanwhile')
        check(worst < 0.5, 'no other request delayed by the slow sender (slowest %.0f ms)' % (worst * 1000))
        slow.close()

        # 3. the thousand, silent since step 1, are closed by the idle timeout (4 s)
        t = time.time()
        open_ = {s.fileno(): s for s in socks}
        closed = 0
        while open_ and time.time() - t < 10:
            r, _, _ = select.select(list(open_.values()), [], [], 0.5)
            for s in r:
                try:
                    data = s.recv(4096)
                except ConnectionError:
                    data = b''
                if not data:
                    closed += 1
                    del open_[s.fileno()]
        print('idle: %d of %d connections closed by the gateway within %.1f s of step 2' % (closed, N,
                                                                                            time.time() - t))
        check(closed == N, 'every idle connection closed (%d of %d)' % (closed, N))
        for s in socks:
            s.close()

        # 4. the per-peer bound, changed at run time
        vty.cmd('configure terminal')
        vty.cmd('sip')
        vty.cmd('tcp max-connections-per-peer 5')
        vty.cmd('end')
        few = [socket.create_connection(('127.0.0.1', SIP), timeout=5) for _ in range(10)]
        time.sleep(0.3)
        served = refused = 0
        for i, s in enumerate(few):
            try:
                s.sendall(options(i, 'peer'))
            except (BrokenPipeError, ConnectionError):
                refused += 1
                continue
            code = read_status(s, 2)
            if code == 200:
                served += 1
            else:
                refused += 1
        print('per peer: 10 connections, %d served, %d closed at once' % (served, refused))
        check(served == 5 and refused == 5, 'max-connections-per-peer 5: 5 served, 5 closed')
        for s in few:
            s.close()
        time.sleep(0.2)

        # 5. a message past max-message-size
        big = socket.create_connection(('127.0.0.1', SIP), timeout=5)
        body = b'x' * 6000
        req = options(0, 'big').replace(b'Content-Length: 0', b'Content-Length: %d' % len(body)) + body
        try:
            big.sendall(req)
        except ConnectionError:
            pass
        check(closed_by_peer(big, 3), 'a 6 KB message past tcp max-message-size 4096 closes its connection')
        big.close()

        # 6. a peer that never reads: dropped when what waits for it passes the bound
        vty.cmd('configure terminal')
        vty.cmd('sip')
        vty.cmd('tcp max-connections-per-peer 512')
        vty.cmd('end')
        before, _ = counters(vty)
        dropped_by = lambda c: (c.get('tcp:stuck-closed', 0) - before.get('tcp:stuck-closed', 0) +
                                c.get('tcp:slow-closed', 0) - before.get('tcp:slow-closed', 0))
        deaf = socket.create_connection(('127.0.0.1', SIP), timeout=5)
        deaf.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        deaf.setblocking(False)
        sent = 0
        dropped = False
        t = time.time()
        chunk = b''.join(options(i, 'deaf') for i in range(100))
        rest = b''
        stalled_since = None
        while time.time() - t < 20 and sent < 200000:
            try:
                if not rest:
                    rest = chunk
                    sent += 100
                n = deaf.send(rest)
                rest = rest[n:]
                stalled_since = None
            except BlockingIOError:
                # our side waits: the gateway dropped us, or is about to (its buffer for us full: stuck; or our
                # retransmissions into a full window left a message of ours incomplete too long: slow)
                stalled_since = stalled_since or time.time()
                time.sleep(0.01)
            except (BrokenPipeError, ConnectionError):
                dropped = True
                break
            if sent % 5000 == 0 and not rest:
                o = socket.create_connection(('127.0.0.1', SIP), timeout=5)
                o.sendall(options(sent, 'alive'))
                check(read_status(o, 2) == 200, 'served while a deaf peer floods (%d requests sent)' % sent)
                o.close()
            if stalled_since and time.time() - stalled_since > 0.5:
                c, _ = counters(vty)
                if dropped_by(c):
                    dropped = True
                    break
        o = socket.create_connection(('127.0.0.1', SIP), timeout=5)
        o.sendall(options(sent, 'after'))
        check(read_status(o, 2) == 200, 'served after the deaf peer')
        o.close()
        c, out = counters(vty)
        print('deaf peer: %d requests sent, dropped after %.1f s (tcp:stuck-closed +%d, tcp:slow-closed +%d)'
              % (sent, time.time() - t, c.get('tcp:stuck-closed', 0) - before.get('tcp:stuck-closed', 0),
                 c.get('tcp:slow-closed', 0) - before.get('tcp:slow-closed', 0)))
        check(dropped and dropped_by(c) == 1, 'a peer that never reads is dropped by the gateway, once')
        deaf.close()

        # 8. a MESSAGE that would begin a dialog while the gateway takes no new ones: 503 with Retry-After (here
        #    max-dialogs 1 with one dialog running; overload control refuses the same way); the subscriber
        #    whose dialog runs goes on
        vty.cmd('configure terminal')
        vty.cmd('uigw')
        vty.cmd('max-dialogs 1')
        vty.cmd('overload retry-after 7')
        vty.cmd('end')
        m = socket.create_connection(('127.0.0.1', SIP), timeout=5)
        m.sendall(message(1, '+491720009001', '7726', 'spam'))
        first = read_status(m, 3)
        m.sendall(message(2, '+491720009002', '7726', 'spam'))
        resp = read_response(m, 3)
        m.sendall(message(3, '+491720009001', '7726', '1'))
        cont = read_status(m, 3)
        print('max-dialogs 1: first MESSAGE %s, a second subscriber: %s, the first again: %s'
              % (first, resp.split(b'\r\n')[0].decode(errors='replace') if resp else None, cont))
        check(first == 202, 'the first subscriber\'s MESSAGE accepted (202)')
        check(resp is not None and resp.startswith(b'SIP/2.0 503') and b'\r\nRetry-After: 7\r\n' in resp,
              'a new dialog refused with 503 and Retry-After: 7')
        check(cont == 202, 'the running dialog\'s next MESSAGE accepted (202)')
        m.close()
        c, out = counters(vty)
        check('msg:busy-503' in out and re.search(r'msg:busy-503\s+1$', out, re.M) is not None,
              'show sip: msg:busy-503 1')
        # ... refused by the fast path over TCP as well: from the raw bytes, answered on its connection
        m = re.search(r'msg:busy-503-raw\s+(\d+)$', out, re.M)
        check(m is not None and int(m.group(1)) == 1, 'show sip: msg:busy-503-raw 1, the TCP refusal took the fast '
              'path (%s)' % (m.group(1) if m else None))
        check(resp is not None and b'\r\nVia: SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bK-msg-2' in resp and
              b'\r\nCall-ID: msg-2@127.0.0.1\r\n' in resp and re.search(rb'\r\nTo: <sip:7726@127\.0\.0\.1>;tag=',
                                                                   resp) is not None,
              'the TCP 503: Via, Call-ID copied, To with a tag')
        vty.cmd('configure terminal')
        vty.cmd('uigw')
        vty.cmd('max-dialogs 100000')
        vty.cmd('end')

        # 9. over UDP the same refusal takes the fast path (the raw bytes, no parse, no transaction): with the
        #    operator's drain every new dialog gets 503, exactly the headers RFC 3261 8.2.6.2 wants, sent where
        #    18.2.2 / RFC 3581 say; the dialog under way goes on; `no drain` admits again
        def udp_message(i, msisdn, body, via_host, via_port, rport):
            raw = message(i, msisdn, '7726', body).replace(
                b'Via: SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bK-msg-%d' % i,
                b'Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK-udp-%d%s' % (via_host.encode(), via_port, i,
                                                                     b';rport' if rport else b''))
            return raw.replace(b'Call-ID: msg-', b'Call-ID: udp-')

        def udp_read(s, timeout=3):
            s.settimeout(timeout)
            try:
                return s.recv(65536)
            except socket.timeout:
                return None

        def status(resp):
            m = re.match(rb'SIP/2\.0 (\d{3})', resp) if resp else None
            return int(m.group(1)) if m else None

        ua = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        ua.bind(('127.0.0.1', 0))
        ua_port = ua.getsockname()[1]
        other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)	# where a Via without rport says to answer
        other.bind(('127.0.0.1', 0))
        other_port = other.getsockname()[1]
        ua.sendto(udp_message(101, '+491720009101', 'spam', '127.0.0.1', ua_port, False), ('127.0.0.1', SIP))
        before_drain = status(udp_read(ua))
        vty.cmd('enable')
        out = vty.cmd('drain')
        check('Draining' in out, 'drain: %s' % out.strip()[:80])
        check('DRAINING' in vty.cmd('show overload'), 'show overload says DRAINING')
        # a new subscriber, its Via a NATed address with rport: 503 back to the source port, Via fixed
        ua.sendto(udp_message(102, '+491720009102', 'spam', '10.9.9.9', 5062, True), ('127.0.0.1', SIP))
        r1 = udp_read(ua)
        # the same request again (a retransmission): refused again, statelessly
        ua.sendto(udp_message(102, '+491720009102', 'spam', '10.9.9.9', 5062, True), ('127.0.0.1', SIP))
        r2 = udp_read(ua)
        # a Via without rport naming another port of this host: the answer goes there, not to the source
        ua.sendto(udp_message(103, '+491720009103', 'spam', '127.0.0.1', other_port, False), ('127.0.0.1', SIP))
        r3 = udp_read(other)
        # the dialog under way: its answer is taken
        ua.sendto(udp_message(104, '+491720009101', '1', '127.0.0.1', ua_port, False), ('127.0.0.1', SIP))
        cont = status(udp_read(ua))
        print('drain over UDP: before %s; new subscriber %r; again %s; Via without rport -> %s; the dialog under '
              'way %s' % (before_drain, r1.split(b'\r\n')[0] if r1 else None, status(r2), status(r3), cont))
        check(before_drain == 202, 'the first subscriber\'s MESSAGE accepted before the drain (202)')
        check(r1 is not None and r1.startswith(b'SIP/2.0 503 Service Unavailable\r\n'), 'a new dialog refused: 503')
        check(r1 is not None and b'\r\nVia: SIP/2.0/UDP 10.9.9.9:5062;branch=z9hG4bK-udp-102;rport=%d;'
              b'received=127.0.0.1\r\n' % ua_port in r1, 'its top Via with rport=%d;received=127.0.0.1' % ua_port)
        check(r1 is not None and re.search(rb'\r\nTo: <sip:7726@127\.0\.0\.1>;tag=[0-9a-f]+\r\n', r1) is not None,
              'its To with a tag')
        check(r1 is not None and b'\r\nFrom: <sip:+491720009102@127.0.0.1>;tag=m102\r\n' in r1 and
              b'\r\nCall-ID: udp-102@127.0.0.1\r\n' in r1 and b'\r\nCSeq: 1 MESSAGE\r\n' in r1 and
              b'\r\nRetry-After: 7\r\n' in r1 and r1.endswith(b'\r\nContent-Length: 0\r\n\r\n'),
              'From, Call-ID, CSeq copied; Retry-After: 7; no body')
        check(status(r2) == 503, 'the retransmission refused again')
        check(status(r3) == 503, 'a Via without rport: the 503 went to its sent-by port')
        check(cont == 202, 'the dialog under way goes on while draining (202)')
        m = re.search(r'dialog:busy-drain: +(\d+) ', vty.cmd('show rate-counters'))
        check(m is not None and int(m.group(1)) == 3, 'dialog:busy-drain 3 (%s)' % (m.group(1) if m else None))
        m = re.search(r'msg:busy-503-raw\s+(\d+)$', vty.cmd('show sip'), re.M)
        check(m is not None and int(m.group(1)) == 4, 'show sip: msg:busy-503-raw 4 (3 of them over UDP), the fast '
              'path (%s)' % (m.group(1) if m else None))
        # ... and the refusals of one read batch of one length to one address leave as one UDP GSO send: the
        #     daemon stopped while eight new subscribers' MESSAGEs of one length queue up, each gets its own 503
        with stopped(d.pid):
            for i in range(120, 128):
                ua.sendto(udp_message(i, '+4917200091%02d' % (i % 100), 'spam', '127.0.0.1', ua_port, False),
                          ('127.0.0.1', SIP))
            time.sleep(0.1)
        batch = {}
        for _ in range(8):
            r = udp_read(ua)
            m = re.search(rb'\r\nCall-ID: udp-(\d+)@', r) if r else None
            if m:
                batch[int(m.group(1))] = (status(r), r.endswith(b'\r\nContent-Length: 0\r\n\r\n'))
        m = re.search(r'Refusals sent in UDP GSO groups[^:]*: (\d+)', vty.cmd('show sip'))
        print('a batch of eight refusals: %s; show sip: %s sent in GSO groups' % (batch, m.group(1) if m else None))
        check(batch == {i: (503, True) for i in range(120, 128)}, 'each of the batch got its own whole 503')
        check(m is not None and int(m.group(1)) >= 4, 'show sip: at least four of them went in a UDP GSO group')
        vty.cmd('no drain')
        check('DRAINING' not in vty.cmd('show overload'), 'no drain: not draining')
        ua.sendto(udp_message(105, '+491720009102', 'spam', '127.0.0.1', ua_port, False), ('127.0.0.1', SIP))
        check(status(udp_read(ua)) == 202, 'after no drain the refused subscriber is admitted (202)')

        # 10. overload max-wait (300 ms): the gateway admits everything, but requests that waited longer in the
        #     kernel (here: the daemon stopped for 0.6 s) are refused at once if they would begin a dialog — on
        #     the fast path and on the full one (a folded header line) — while the dialog under way goes on
        with stopped(d.pid):
            ua.sendto(udp_message(106, '+491720009106', 'spam', '127.0.0.1', ua_port, False), ('127.0.0.1', SIP))
            folded = udp_message(107, '+491720009107', 'spam', '127.0.0.1', ua_port, False).replace(
                b'Max-Forwards: 70\r\n', b'Max-Forwards: 70\r\nSubject: a late\r\n request\r\n')
            ua.sendto(folded, ('127.0.0.1', SIP))
            ua.sendto(udp_message(108, '+491720009102', '4', '127.0.0.1', ua_port, False), ('127.0.0.1', SIP))
            time.sleep(0.6)
        late = {}
        for _ in range(3):
            r = udp_read(ua)
            m = re.search(rb'\r\nCall-ID: udp-(\d+)@', r) if r else None
            if m:
                late[int(m.group(1))] = status(r)
        ua.sendto(udp_message(109, '+491720009109', 'spam', '127.0.0.1', ua_port, False), ('127.0.0.1', SIP))
        fresh = status(udp_read(ua))
        out = vty.cmd('show overload')
        m = re.search(r'dialog:busy-late: +(\d+) ', vty.cmd('show rate-counters'))
        print('max-wait: answers after 0.6 s in the kernel %s; a fresh request then %s' % (late, fresh))
        check(late.get(106) == 503, 'a new dialog that waited 0.6 s refused with 503 (fast path)')
        check(late.get(107) == 503, 'the same with a folded header line (full path)')
        check(late.get(108) == 202, 'the dialog under way goes on although its request waited (202)')
        check(fresh == 202, 'a request that did not wait is admitted (202)')
        check(m is not None and int(m.group(1)) == 2, 'dialog:busy-late 2 (%s)' % (m.group(1) if m else None))
        check('Requests refused for their wait in the kernel (max-wait 300 ms): 2' in out,
              'show overload counts them')

        # 11. receive drops: the daemon stopped while far more datagrams come than its UDP socket's buffer holds
        #     (keep-alive CRLFs, read and ignored): the kernel drops the rest and says how many with the next one
        #     read (SO_RXQ_OVFL); the channel counts them and overload control takes them as pressure at once.
        #     The loop-lag input is off here: the stop itself would be the lag that begins the episode.
        for c in ('configure terminal', 'uigw', 'overload loop-lag 0 0', 'end'):
            vty.cmd(c)

        def kernel_drops():
            # the kernel's own figure for the socket (the last column of /proc/net/udp): the oracle
            return sum(int(l.split()[-1]) for l in open('/proc/net/udp').read().splitlines()[1:]
                       if l.split()[1].endswith(':%04X' % SIP))

        with stopped(d.pid):
            # until the kernel drops some (however large the buffer), 400,000 at most
            for _ in range(40):
                for _ in range(10000):
                    ua.sendto(b'\r\n\r\n', ('127.0.0.1', SIP))
                if kernel_drops() >= 1000:
                    break
        # the count comes with the first datagram queued after the drops: more once the queue is read (10 s at most)
        kernel = kernel_drops()
        for _ in range(20):
            time.sleep(0.5)
            ua.sendto(b'\r\n\r\n', ('127.0.0.1', SIP))
            time.sleep(0.1)
            sip_out = vty.cmd('show sip')
            m = re.search(r'Datagrams the kernel dropped at the UDP socket, its receive buffer full: (\d+)', sip_out)
            if m and int(m.group(1)) >= kernel:
                break
        ovl_out = vty.cmd('show overload')
        m2 = re.search(r'rx:kernel-dropped\s+(\d+)$', sip_out, re.M)
        m3 = re.search(r'Receive drops: \d+/s in the last tick, (\d+) in all', ovl_out)
        print('receive drops: kernel %d, show sip %s, rx:kernel-dropped %s, show overload %s; %s' % (
            kernel, m.group(1) if m else None, m2.group(1) if m2 else None, m3.group(1) if m3 else None,
            ovl_out.splitlines()[0] if ovl_out else None))
        check(kernel > 0 and m is not None and int(m.group(1)) == kernel,
              'show sip counts the datagrams the kernel dropped (%d in /proc/net/udp)' % kernel)
        check(m2 is not None and m is not None and m2.group(1) == m.group(1), 'rx:kernel-dropped the same')
        check(m3 is not None and m is not None and m3.group(1) == m.group(1), 'show overload: the same, in all')
        check('(began by receive drops)' in ovl_out, 'an overload episode began by the receive drops')
        for c in ('configure terminal', 'uigw', 'overload loop-lag 250 50', 'end'):
            vty.cmd(c)
        ua.close()
        other.close()

        # 7. the counters
        c, out = counters(vty)
        print(' '.join('%s=%d' % kv for kv in sorted(c.items())))
        check(c.get('tcp:accepted', 0) >= N + 5, 'tcp:accepted counts the connections')
        check(c.get('tcp:refused', 0) == 5, 'tcp:refused 5')
        check(c.get('tcp:idle-closed', 0) >= N, 'tcp:idle-closed >= %d' % N)
        check(c.get('tcp:slow-closed', 0) >= 1, 'tcp:slow-closed counts the slow sender')
        check(re.search(r'TCP connections: 0 open', out) is not None, 'show sip: no connection left open')
        check(c.get('tcp:oversize-closed', 0) >= 1, 'tcp:oversize-closed counts the large message')
        vty.close()
    finally:
        rc = uigwtest.stop_daemon(d)
        log.close()
    return uigwtest.finish(wd, rc, t0)


if __name__ == '__main__':
    sys.exit(main())
