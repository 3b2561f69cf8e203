#!/usr/bin/env python3
"""VTY transcript tests against the real osmo-uigw daemon.

A transcript (tests/vty/*.vty) is a console session: a line starting with a prompt ("OsmoUIGW> ",
"OsmoUIGW# ", "OsmoUIGW(config-uigw)# ") is a command; the lines after it are the output expected, exactly,
except that a line "..." matches any number of lines. Each transcript runs against a fresh daemon with an empty
database in a temporary folder, which is shut down with SIGTERM afterwards and must exit 0 with an empty talloc
report. A second mode checks that `write file` round-trips the configuration.
"""
import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

PROMPT_RE = re.compile(rb'\r?\n?(OsmoUIGW(?:\([^)]*\))?[>#] )$')
CMD_RE = re.compile(r'^(OsmoUIGW(?:\([^)]*\))?[>#]) (.*)$')
COMMENT_RE = re.compile(r'^# ')


def strip_telnet(data):
    out = bytearray()
    i = 0
    while i < len(data):
        b = data[i]
        if b == 0xFF and i + 1 < len(data):
            cmd = data[i + 1]
            if cmd in (0xFB, 0xFC, 0xFD, 0xFE) and i + 2 < len(data):
                i += 3
                continue
            if cmd == 0xFF:
                out.append(0xFF)
                i += 2
                continue
            i += 2
            continue
        out.append(b)
        i += 1
    return bytes(out)


def connect(port, timeout=20):
    """Connect to a daemon's port on 127.0.0.1, retrying while it starts (bounded)."""
    deadline = time.time() + timeout
    while True:
        try:
            return socket.create_connection(('127.0.0.1', port), timeout=5)
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.1)


class Vty:
    def __init__(self, port, timeout=20):
        self.s = connect(port, timeout)
        self.s.settimeout(30)
        self.buf = b''
        self.read_prompt()

    def read_prompt(self):
        while True:
            m = PROMPT_RE.search(strip_telnet(self.buf))
            if m:
                data = strip_telnet(self.buf)
                self.buf = b''
                return data[:m.start()], m.group(1).decode()
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError('VTY closed the connection')
            self.buf += chunk

    def cmd(self, line):
        self.s.sendall(line.encode() + b'\n')
        data, prompt = self.read_prompt()
        text = data.decode('utf-8', 'replace').replace('\r', '')
        lines = text.split('\n')
        # the first line is the echo of the command
        if lines and lines[0].strip() == line.strip():
            lines = lines[1:]
        while lines and lines[-1] == '':
            lines.pop()
        return lines, prompt

    def close(self):
        self.s.close()


def parse_transcript(path):
    steps = []
    with open(path, encoding='utf-8') as f:
        for raw in f.read().split('\n'):
            m = CMD_RE.match(raw)
            if COMMENT_RE.match(raw):
                continue
            if m:
                steps.append([m.group(1), m.group(2), []])
            elif steps:
                steps[-1][2].append(raw)
    for s in steps:
        while s[2] and s[2][-1] == '':
            s[2].pop()
    return steps


def line_eq(exp, got):
    """Exact, except that <ANY> in the expected line matches any text (timestamps, paths)."""
    if '<ANY>' not in exp:
        return exp == got
    return re.fullmatch('.*'.join(re.escape(p) for p in exp.split('<ANY>')), got) is not None


def match_lines(expected, got):
    """True if got matches expected, where a line '...' matches any run of lines."""
    if not expected:
        return not got
    if expected[0] == '...':
        return any(match_lines(expected[1:], got[i:]) for i in range(len(got) + 1))
    return bool(got) and line_eq(expected[0], got[0]) and match_lines(expected[1:], got[1:])


class Daemon:
    def __init__(self, args, cfg_text, workdir):
        self.workdir = workdir
        self.cfg = os.path.join(workdir, 'osmo-uigw.cfg')
        with open(self.cfg, 'w') as f:
            f.write(cfg_text)
        self.log = open(os.path.join(workdir, 'daemon.log'), 'w')
        self.p = subprocess.Popen([args.daemon, '-c', self.cfg, '-C', str(args.ctrl_port)], cwd=workdir,
                                  stdout=self.log, stderr=subprocess.STDOUT)

    def stop(self):
        """SIGTERM, then expect exit 0 and a clean talloc report."""
        self.p.send_signal(signal.SIGTERM)
        try:
            rc = self.p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.p.kill()
            rc = 'killed after 20 s'
        self.log.close()
        with open(os.path.join(self.workdir, 'daemon.log'), errors='replace') as f:
            log = f.read()
        return rc, log


def make_cfg(args, workdir, extra=''):
    with open(os.path.join(args.srcdir, 'vty', 'osmo-uigw-test.cfg.in')) as f:
        t = f.read()
    return (t.replace('@PORT@', str(args.port))
             .replace('@CAMPAIGNS@', os.path.join(args.top_srcdir, 'etc', 'campaigns'))
             .replace('@DB@', os.path.join(workdir, 'test.db'))
             .replace('@CDR@', os.path.join(workdir, 'cdr')) + extra)


def run_transcript(args, path):
    workdir = tempfile.mkdtemp(prefix='uigw-vty-')
    d = Daemon(args, make_cfg(args, workdir), workdir)
    failures = []
    try:
        v = Vty(args.port)
        for prompt, command, expected in parse_transcript(path):
            got, _ = v.cmd(command)
            if not match_lines(expected, got):
                failures.append('%s: command "%s"\n--- expected\n%s\n--- got\n%s' % (
                    os.path.basename(path), command, '\n'.join(expected), '\n'.join(got)))
                if args.stop_on_fail:
                    break
        v.close()
    finally:
        rc, log = d.stop()
    if rc != 0 or 'shut down cleanly' not in log:
        failures.append('%s: daemon did not shut down cleanly (rc %s)\n%s' % (os.path.basename(path), rc,
                                                                                log[-3000:]))
    if not failures:
        shutil.rmtree(workdir)
    else:
        failures.append('(daemon folder kept: %s)' % workdir)
    return failures


def run_roundtrip(args):
    """Non-default settings survive write file; the written file read again writes the same file."""
    failures = []
    extra = ('uigw\n resume-window 30\n max-dialogs 5000\n busy-text Try later please\n'
             ' quiet-hours 21:30 07:45\n quiet-hours-action refuse\n defer-max 5000\n'
             ' time-zone default Europe/Berlin\n time-zone number 33 Europe/Paris\n'
             ' time-zone visited vpmn.jp Asia/Tokyo\n roaming-policy notice-only\n'
             ' keywords fr stop ARRET STOP\n keywords fr stop-reply Vous ne recevrez plus de messages.\n'
             ' keywords fr start DEMARRER\n'
             'store\n spam-window 3600\n synchronous normal\n cdr-interval 600\n cdr-max-size 64\n'
             ' cdr-subscriber msisdn\n retention cdrs 400\n'
             'uigw\n timer dialog X1 45\n timer map X201 30\n'
             # libosmo-sigtran's nodes, three deep (sccp-address / global-title), then channel map's node
             'cs7 instance 0\n point-code 0.23.2\n sccp-address hlr-gt\n  routing-indicator PC\n'
             '  point-code 0.23.3\n  subsystem-number 6\n  global-title\n   global-title-indicator 4\n'
             '   digits 491720000001\n'
             'map\n gsmscf-number +491720000999\n hlr-address hlr-gt\n home-gt 4917 4930\n'
             'gsup\n home-vlr MSC-262-01 VLR-HOME\n'
             'smpp\n roaming-tlv 0x1501\n roaming-home 49172\n'
             # the HTTP API, shut down so that no port is opened, with a third party's restrictions
             'api\n bind 127.0.0.1 42999\n idle-timeout 5\n shutdown\n tenant bank\n  push forbidden\n'
             '  channels smpp-sms ims-msg\n  rate-limit 7\n')
    texts = []	# written files, with the run's folder replaced by @WORKDIR@
    for i in range(2):
        workdir = tempfile.mkdtemp(prefix='uigw-rt-')
        cfg = make_cfg(args, workdir, extra) if i == 0 else texts[0].replace('@WORKDIR@', workdir)
        d = Daemon(args, cfg, workdir)
        try:
            v = Vty(args.port)
            v.cmd('enable')
            v.cmd('write file %s' % os.path.join(workdir, 'written.cfg'))
            v.close()
        finally:
            rc, log = d.stop()
        if rc != 0:
            failures.append('roundtrip: daemon rc %s\n%s' % (rc, log[-2000:]))
        with open(os.path.join(workdir, 'written.cfg')) as f:
            texts.append(f.read().replace(workdir, '@WORKDIR@'))
        shutil.rmtree(workdir)
    first = texts[0]
    for needle in (' resume-window 30', ' max-dialogs 5000', ' busy-text Try later please', ' spam-window 3600',
                   ' synchronous normal', ' cdr-interval 600',
                   ' cdr-max-size 64', ' cdr-subscriber msisdn', ' retention cdrs 400',
                   ' quiet-hours 21:30 07:45', ' quiet-hours-action refuse', ' defer-max 5000',
                   ' time-zone default Europe/Berlin', ' time-zone number 33 Europe/Paris',
                   ' time-zone visited vpmn.jp Asia/Tokyo', ' roaming-policy notice-only',
                   ' keywords fr stop ARRET STOP', ' keywords fr stop-reply Vous ne recevrez plus de messages.',
                   ' keywords fr start DEMARRER', ' timer dialog X1 45', ' timer map X201 30',
                   ' sccp-address hlr-gt',
                   '   digits 491720000001', ' gsmscf-number +491720000999', ' hlr-address hlr-gt',
                   ' home-gt 4917 4930', ' home-vlr MSC-262-01 VLR-HOME', ' roaming-tlv 0x1501', ' roaming-home 49172',
                   ' bind 127.0.0.1 42999', ' idle-timeout 5', ' shutdown', ' tenant bank', '  push forbidden',
                   '  channels smpp-sms ims-msg', '  rate-limit 7'):
        if needle not in first:
            failures.append('roundtrip: "%s" missing in the written file:\n%s' % (needle, first))
    for needle in (' invalid-input-retries', ' batch-max-rows', ' national-prefix'):
        if needle in first:
            failures.append('roundtrip: default "%s" written although unchanged:\n%s' % (needle, first))
    a = [l for l in first.split('\n') if not l.startswith('!')]
    b = [l for l in texts[1].split('\n') if not l.startswith('!')]
    if a != b:
        failures.append('roundtrip: second write differs:\n--- first\n%s\n--- second\n%s' % ('\n'.join(a),
                                                                                          '\n'.join(b)))
    return failures


class Ctrl:
    """A minimal Osmocom CTRL client: IPA framing, protocol 0xEE, extension 0x00."""
    def __init__(self, port, timeout=20):
        self.s = connect(port, timeout)
        self.s.settimeout(10)
        self.id = 0

    def _recv(self, n):
        b = b''
        while len(b) < n:
            c = self.s.recv(n - len(b))
            if not c:
                raise EOFError('CTRL closed the connection')
            b += c
        return b

    def cmd(self, verb, var, value=None):
        self.id += 1
        text = '%s %d %s%s' % (verb, self.id, var, '' if value is None else ' ' + value)
        payload = b'\x00' + text.encode()
        self.s.sendall(len(payload).to_bytes(2, 'big') + b'\xee' + payload)
        while True:
            hdr = self._recv(3)
            data = self._recv(int.from_bytes(hdr[:2], 'big'))
            if hdr[2] != 0xEE or data[:1] != b'\x00':
                continue
            reply = data[1:].decode()
            if reply.split(' ')[1:2] == [str(self.id)]:
                return reply


def run_ctrl(args):
    """The core's CTRL commands and a rate counter, against the real daemon."""
    failures = []
    workdir = tempfile.mkdtemp(prefix='uigw-ctrl-')
    d = Daemon(args, make_cfg(args, workdir), workdir)
    try:
        v = Vty(args.port)
        c = Ctrl(args.ctrl_port)
        checks = [
            (('GET', 'dialogs-active'), 'GET_REPLY 2 dialogs-active 1'),
            (('GET', 'campaigns'), None),
            (('SET', 'campaign-disable', 'spam'), 'SET_REPLY 4 campaign-disable disabled'),
            (('SET', 'campaign-disable', 'nosuch'), "ERROR 5 no campaign 'nosuch'"),
            (('SET', 'reload-campaigns', '1'), 'SET_REPLY 6 reload-campaigns 8 campaigns'),
        ]
        v.cmd('enable')
        v.cmd('subscriber +491720000001 dial *7730#')
        got = c.cmd('GET', 'rate_ctr.abs.uigw.0.dialog:begin')
        if got != 'GET_REPLY 1 rate_ctr.abs.uigw.0.dialog:begin 1':
            failures.append('ctrl: rate counter: %r' % got)
        for q, want in checks:
            got = c.cmd(*q)
            if want is None:
                if 'spam,1,enabled' not in got or 'survey,1,enabled' not in got:
                    failures.append('ctrl: campaigns: %r' % got)
            elif got != want:
                failures.append('ctrl: %s: expected %r, got %r' % (' '.join(q), want, got))
        got = c.cmd('GET', 'dialogs-active')
        if got != 'GET_REPLY 7 dialogs-active 1':
            failures.append('ctrl: dialogs-active after a dial: %r' % got)
        got = c.cmd('GET', 'campaigns')
        if 'spam,1,disabled' not in got:
            failures.append('ctrl: the disabled state must survive the reload: %r' % got)
        # the one trigger path over CTRL: parameters reach the campaign and its stored answers
        got = c.cmd('SET', 'trigger', 'callquality,+491720000009,via=vty,caller=+4930111222')
        if not re.fullmatch(r'SET_REPLY 9 trigger vty,\d+', got):
            failures.append('ctrl: trigger: %r' % got)
        v.cmd('subscriber +491720000009 send 4')
        v.cmd('subscriber +491720000009 send 2')
        fb = '\n'.join(v.cmd('show feedback callquality')[0])
        if not re.search(r'vty +\+4930111222 +1', fb):
            failures.append('ctrl: the trigger parameter is not stored: %r' % fb)
        for value, want in (('callquality,+491720000009,via=gsup', 'ERROR 10 push_not_offered: osmo-hlr 1.5.0'),
                            ('nosuch,+491720000009', 'ERROR 11 no_campaign'),
                            ('callquality,12x', 'ERROR 12 invalid_number'),
                            ('callquality,+491720000010,via=vty,calller=1', "ERROR 13 unknown_parameter: 'calller'"),
                            ('callquality,+491720000009,via=vty,caller=+4930111222', 'ERROR 14 capped: frequency cap'),
                            ('callquality', 'ERROR 15 usage: CAMPAIGN,MSISDN')):
            got = c.cmd('SET', 'trigger', value)
            if not got.startswith(want):
                failures.append('ctrl: trigger %s: expected %r..., got %r' % (value, want, got))
        c.s.close()
        v.close()
    finally:
        rc, log = d.stop()
    if rc != 0:
        failures.append('ctrl: daemon rc %s\n%s' % (rc, log[-2000:]))
    shutil.rmtree(workdir)
    return failures


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--daemon', required=True)
    ap.add_argument('--top-srcdir', required=True)
    ap.add_argument('--srcdir', required=True)
    ap.add_argument('--port', type=int, default=42900)
    ap.add_argument('--ctrl-port', type=int, default=42901)
    ap.add_argument('--stop-on-fail', action='store_true')
    ap.add_argument('--roundtrip', action='store_true')
    ap.add_argument('--ctrl', action='store_true')
    ap.add_argument('transcripts', nargs='*')
    args = ap.parse_args()

    failures = []
    n = 0
    for t in args.transcripts:
        n += 1
        f = run_transcript(args, t)
        print('%s %s' % ('FAIL' if f else 'ok  ', os.path.basename(t)))
        failures += f
    if args.roundtrip:
        n += 1
        f = run_roundtrip(args)
        print('%s write-file round trip' % ('FAIL' if f else 'ok  '))
        failures += f
    if args.ctrl:
        n += 1
        f = run_ctrl(args)
        print('%s CTRL commands' % ('FAIL' if f else 'ok  '))
        failures += f
    for f in failures:
        print(f)
    nfail = len([f for f in failures if not f.startswith('(daemon')])
    print('%d passed, %d failed' % (n - min(n, nfail), min(n, nfail)))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
