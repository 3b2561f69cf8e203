#!/usr/bin/env python3
"""The CTRL interface's bounds (issue 19; src/ctrl/ctrl_guard.c), against the real daemon on 127.0.0.1:
 1. a 2 MB line of text (no IPA framing) gets its connection closed at once, and another client is answered;
 2. an IPA header of another protocol extension is closed the same way;
 3. a CTRL message announced longer than what arrives (a stalled sender) closes its connection after
    `ctrl-message-timeout` (2 s here), not sooner than 1.5 s, and another client is answered meanwhile;
 4. a well-formed GET on a connection kept open is answered before and after all of it;
 5. the counter ctrl:dropped counts the three, and the daemon shuts down cleanly."""
import argparse
import os
import re
import socket
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
import uigwtest  # noqa: E402
from uigwtest import check  # noqa: E402

VTY = 45692
CTRL = 45693
SMSC = 45694	# nothing listens: the SMPP link just retries


def ctrl_msg(text):
    m = text.encode()
    return (len(m) + 1).to_bytes(2, 'big') + b'\xee\x00' + m


def get(s, i, var):
    s.sendall(ctrl_msg('GET %d %s' % (i, var)))
    d = s.recv(4096)
    return d[4:].decode(errors='replace') if len(d) > 4 else None


def closed_within(s, secs):
    """Seconds until the gateway closes s (EOF or reset), or None if it stays open that long."""
    t = time.time()
    s.settimeout(secs)
    try:
        while True:
            d = s.recv(65536)
            if not d:
                return time.time() - t
    except socket.timeout:
        return None
    except ConnectionError:
        return time.time() - t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--daemon', required=True)
    ap.add_argument('--top-srcdir', required=True)
    a = ap.parse_args()
    t0 = time.time()
    wd = tempfile.mkdtemp(prefix='uigw-ctrl-')
    cfg = os.path.join(wd, 'uigw.cfg')
    with open(cfg, 'w') as f:
        f.write(uigwtest.gw_cfg(VTY, os.path.join(a.top_srcdir, 'etc', 'campaigns'), os.path.join(wd, 'uigw.db'),
                                'ctrl-limits-secret', SMSC, uigw=' ctrl-message-timeout 2\n'))
    log = open(os.path.join(wd, 'daemon.log'), 'w')
    d = uigwtest.start_daemon(a.daemon, cfg, CTRL, wd, log, port=VTY)
    uigwtest.wait_port(CTRL)
    rc = None
    try:
        keep = socket.create_connection(('127.0.0.1', CTRL), timeout=5)
        r = get(keep, 1, 'dialogs-active')
        check(r is not None and r.startswith('GET_REPLY 1 dialogs-active '), 'a GET answered (%r)' % r)

        # 1. two megabytes of text
        g = socket.create_connection(('127.0.0.1', CTRL), timeout=5)
        try:
            g.sendall(b'A' * (2 * 1024 * 1024) + b'\n')
        except (BrokenPipeError, ConnectionError):
            pass	# closed while it was still sending: what we want
        took = closed_within(g, 5)
        print('2 MB line: closed after %s s' % ('%.2f' % took if took is not None else 'never'))
        check(took is not None and took < 2, 'the 2 MB line\'s connection closed at once')
        r = get(keep, 2, 'dialogs-active')
        check(r is not None and r.startswith('GET_REPLY 2 '), 'another client answered after it (%r)' % r)

        # 2. IPA framing, another protocol extension
        g = socket.create_connection(('127.0.0.1', CTRL), timeout=5)
        g.sendall((5).to_bytes(2, 'big') + b'\xee\x07hello')
        took = closed_within(g, 5)
        check(took is not None and took < 2, 'an IPA message of another extension closes its connection')

        # 3. a stalled message: 100 octets announced, 9 sent
        st = socket.create_connection(('127.0.0.1', CTRL), timeout=5)
        st.sendall((101).to_bytes(2, 'big') + b'\xee\x00' + b'GET 3 dia')
        time.sleep(0.5)
        r = get(keep, 4, 'dialogs-active')
        check(r is not None and r.startswith('GET_REPLY 4 '), 'another client answered while one stalls (%r)' % r)
        took = closed_within(st, 6)
        print('stalled message: closed after %s s (ctrl-message-timeout 2)' %
              ('%.1f' % (took + 0.5) if took is not None else 'never'))
        check(took is not None and 1.0 <= took + 0.5 <= 4.5, 'the stalled sender closed after ctrl-message-timeout')

        # 4. the kept connection is still served
        r = get(keep, 5, 'dialogs-active')
        check(r is not None and r.startswith('GET_REPLY 5 '), 'the kept connection still answered (%r)' % r)
        keep.close()

        # 5. counted
        vty = uigwtest.Vty(VTY)
        m = re.search(r'ctrl:dropped: +(\d+) ', vty.cmd('show rate-counters'))
        check(m is not None and int(m.group(1)) == 3, 'ctrl:dropped 3 (%s)' % (m.group(1) if m else None))
        vty.close()
    finally:
        rc = uigwtest.stop_daemon(d)
        log.close()
    return uigwtest.finish(wd, rc, t0)


if __name__ == '__main__':
    sys.exit(main())
