"""What the Python integration tests share: check() with the list of failures, and a bounded VTY client.
Imported by tests/smpp/*.py and tests/map/*.py (their folder's parent on sys.path)."""
import os
import re
import shutil
import socket
import subprocess
import time

failures = []


def log_cfg(**levels):
    """The logging header of a test configuration (as uigw_log_cfg in lib.sh): stderr, no colour, category and
    level printed, everything at notice; levels: extra categories, e.g. log_cfg(map='info')."""
    return ('log stderr\n logging filter all 1\n logging color 0\n logging print category 1\n'
            ' logging print level 1\n logging level set-all notice\n' +
            ''.join(' logging level %s %s\n' % kv for kv in levels.items()))


def check(cond, what):
    """Print one result line; a failed check is remembered in failures. Returns cond."""
    print(('ok   ' if cond else 'FAIL ') + what, flush=True)
    if not cond:
        failures.append(what)
    return cond


class Vty:
    """A bounded telnet-less VTY client: enable, then one command at a time."""

    def __init__(self, port, timeout=5):
        self.s = socket.create_connection(('127.0.0.1', port), timeout=timeout)
        self.s.settimeout(timeout)
        self._until(('> ',))
        self.cmd('enable')

    def _until(self, prompts):
        buf = b''
        deadline = time.time() + 10
        while time.time() < deadline:
            chunk = self.s.recv(4096)
            if not chunk:
                break
            buf += chunk
            text = buf.decode(errors='replace')
            if any(text.endswith(p) for p in prompts):
                return text
        return buf.decode(errors='replace')

    def cmd(self, line):
        self.s.sendall((line + '\n').encode())
        out = self._until(('# ', '> '))
        # drop the echoed command and the prompt
        lines = out.replace('\r', '').split('\n')
        return '\n'.join(lines[1:-1]) if len(lines) > 1 else out

    def close(self):
        self.s.close()


def key_of(vty_out):
    """The key printed by `api tenant NAME key create ...` at the VTY, or None."""
    m = re.search(r'^key (uk_[0-9a-f]{64})$', vty_out, re.M)
    return m.group(1) if m else None


def wait_port(port, timeout=10):
    """Wait until something accepts TCP connections on 127.0.0.1:port. Returns whether it did."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(('127.0.0.1', port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.1)
    return False


def start_daemon(binary, cfg, ctrl_port, workdir, log, port=None):
    """Start osmo-uigw with cfg (its output to the open file log) and, if port is given, wait until it accepts
    TCP connections there. Returns the Popen."""
    d = subprocess.Popen([binary, '-c', cfg, '-C', str(ctrl_port)], cwd=workdir, stdout=log,
                         stderr=subprocess.STDOUT)
    if port:
        wait_port(port)
    return d


def stop_daemon(d, timeout=20):
    """SIGTERM, then wait (SIGKILL after timeout s). Returns the exit code, 'killed' or None (never started)."""
    if d is None:
        return None
    d.terminate()
    try:
        return d.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        d.kill()
        d.wait()
        return 'killed'


def gw_cfg(vty_port, campaigns, db, secret, smsc_port, smsc='test', reconnect_ms=None, uigw='', gsup=False,
           test_results=True, **levels):
    """The start of the daemon's configuration the Python tests share: logging (log_cfg(**levels)), the VTY on
    \a vty_port, node uigw (campaigns folder, pseudonym secret, the \a uigw lines), the store in \a db, GSUP
    disabled unless \a gsup, and node smpp with one SMSC link named \a smsc to \a smsc_port. The test appends
    its own nodes (api, sip, ...). The tests are subscribers through the operator's test drive: its dialogs count
    in results, summaries, webhooks and counters (test-drive-results include) unless \a test_results is False.
    Overload control's load-driven inputs, the loop's lag and the store's delay, are off: these tests check what
    the daemon does, and a machine busy with other tests (a sanitized daemon starved for a few hundred ms) must not
    turn a dialog into a busy refusal; overload control has tests of its own (dialog_test, chaos.sh, the \a uigw
    lines of a test may set the inputs again)."""
    out = log_cfg(**levels) + 'line vty\n bind 127.0.0.1 %d\n' % vty_port
    out += 'uigw\n campaigns-dir %s\n pseudonym-secret %s\n overload loop-lag 0 0\n overload store-delay 0 0\n%s' % (
        campaigns, secret, uigw)
    if test_results:
        out += ' test-drive-results include\n'
    out += 'store\n path %s\n' % db
    if not gsup:
        out += 'gsup\n disable\n'
    out += 'smpp\n'
    if reconnect_ms is not None:
        out += ' timer reconnect %d\n' % reconnect_ms
    out += (' smsc %s\n  remote-ip 127.0.0.1\n  remote-port %d\n  system-id uigw\n  password secret\n'
            % (smsc, smsc_port))
    return out


def numbers_in_store(db_path, digits, allowed=('subscriber_map', 'subscriber_new')):
    """Where the store holds a subscriber number (any value containing \a digits, e.g. '49172000'), outside
    the tables where the number is the object of the record (the operator's mapping and its journal of new
    subscribers). Returns [(table, column)]."""
    import sqlite3
    db = sqlite3.connect('file:%s?mode=ro' % db_path, uri=True)
    found = set()
    tables = [('main', t) for (t,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    # the charging records' own database beside it (PATH.db -> PATH-cdr.db), where there is one
    cdr = db_path[:-3] + '-cdr.db' if db_path.endswith('.db') else db_path + '-cdr'
    if os.path.exists(cdr):
        db.execute("ATTACH DATABASE ? AS charging", ('file:%s?mode=ro' % cdr,))
        tables += [('charging', t) for (t,) in db.execute("SELECT name FROM charging.sqlite_master WHERE type = 'table'")]
    try:
        for schema, table in tables:
            if table in allowed:
                continue
            cur = db.execute('SELECT * FROM %s."%s"' % (schema, table))
            cols = [c[0] for c in cur.description]
            for row in cur:
                for col, v in zip(cols, row):
                    if isinstance(v, bytes):
                        v = v.decode('latin-1')
                    if isinstance(v, str) and digits in v:
                        found.add((table, col))
    finally:
        db.close()
    return sorted(found)


def finish(workdir, rc, t0, what='', extra_logs=()):
    """The common end of a test: the daemon must have shut down cleanly (exit 0, empty talloc report in
    workdir/daemon.log); on failures print the log tails (daemon.log and extra_logs, names in workdir) and keep
    the folder, else remove it. Returns the exit code of the test."""
    with open(os.path.join(workdir, 'daemon.log'), errors='replace') as f:
        log = f.read()
    check(rc == 0 and 'talloc report empty' in log, 'clean shutdown (rc %s)' % rc)
    print('took %.1f s%s' % (time.time() - t0, what))
    if failures:
        print('---- daemon log (tail)\n' + '\n'.join(log.splitlines()[-60:]))
        for name in extra_logs:
            path = os.path.join(workdir, name)
            if os.path.exists(path):
                with open(path, errors='replace') as f:
                    print('---- %s (tail)\n%s' % (name, ''.join(f.readlines()[-20:])))
        print('workdir kept: ' + workdir)
        return 1
    shutil.rmtree(workdir, ignore_errors=True)
    return 0
