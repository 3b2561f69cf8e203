"""GET /metrics against the real osmo-uigw daemon, checked by Debian's promtool and scraped by a real Prometheus.

Covered: who may read it (401 without a key, 403 for an operator key without scope metrics and for a third
party's key even with it, 200 for the operator's metrics key; `metrics public` set at the VTY opens it to
anyone); the exposition format (Content-Type, `promtool check metrics` without a complaint); after a dialog run
over the VTY channel, the gateway's, the channel's and the campaign's counters (labels channel= and campaign=);
a Prometheus started by the test scrapes the gateway with the operator's key, and its HTTP API returns the dialog
counter after one dialog and again after a second, the target up. Ports 42960-42964.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, '..'))
from uigwtest import check, gw_cfg, Vty, start_daemon, stop_daemon, finish, key_of  # noqa: E402

SMSC_PORT = 42960  # nothing listens: the link's counters exist, labelled link="nowhere"
VTY_PORT = 42961
CTRL_PORT = 42962
HTTP_PORT = 42963
PROM_PORT = 42964
BASE = 'http://127.0.0.1:%d' % HTTP_PORT


def get(path, key=None):
    """(status, content type, body text)"""
    req = urllib.request.Request(BASE + path)
    if key:
        req.add_header('Authorization', 'Bearer ' + key)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers.get('Content-Type', ''), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get('Content-Type', ''), e.read().decode(errors='replace')


def samples(text):
    """{'name{labels}': value} of an exposition"""
    out = {}
    for line in text.splitlines():
        if line and not line.startswith('#'):
            name, _, value = line.rpartition(' ')
            out[name] = float(value)
    return out


def dialog(vty, msisdn):
    """*7727# (callquality): a rating, no callback, the closing info"""
    a = vty.cmd('subscriber %s dial *7727#' % msisdn)
    b = vty.cmd('subscriber %s send 4' % msisdn)
    c = vty.cmd('subscriber %s send 2' % msisdn)
    return a, b, c


def prom_query(q):
    url = 'http://127.0.0.1:%d/api/v1/query?query=%s' % (PROM_PORT, urllib.parse.quote(q))
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            res = json.loads(r.read())['data']['result']
            return float(res[0]['value'][1]) if res else None
    except (OSError, ValueError, KeyError, IndexError):
        return None


def prom_wait(q, want, timeout=40):
    deadline = time.time() + timeout
    got = None
    while time.time() < deadline:
        got = prom_query(q)
        if got == want:
            return got
        time.sleep(0.5)
    return got


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--daemon', required=True)
    ap.add_argument('--top-srcdir', required=True)
    args = ap.parse_args()

    workdir = tempfile.mkdtemp(prefix='uigw-metrics-')
    camp = os.path.join(workdir, 'campaigns')
    shutil.copytree(os.path.join(args.top_srcdir, 'etc', 'campaigns'), camp)
    cfg = os.path.join(workdir, 'osmo-uigw.cfg')
    with open(cfg, 'w') as f:
        f.write(gw_cfg(VTY_PORT, camp, os.path.join(workdir, 'test.db'), 'metrics-test-secret', SMSC_PORT,
                       smsc='nowhere') + '''api
 bind 127.0.0.1 %d
 tenant acme
''' % HTTP_PORT)
    dlog = open(os.path.join(workdir, 'daemon.log'), 'w')
    plog = open(os.path.join(workdir, 'prometheus.log'), 'w')
    t0 = time.time()
    d = prom = None
    try:
        d = start_daemon(args.daemon, cfg, CTRL_PORT, workdir, dlog, port=HTTP_PORT)
        vty = Vty(VTY_PORT)
        op_key = key_of(vty.cmd('api tenant operator key create metrics'))
        op_other = key_of(vty.cmd('api tenant operator key create campaigns results'))
        acme_key = key_of(vty.cmd('api tenant acme key create metrics results'))
        check(all((op_key, op_other, acme_key)), 'keys with and without scope metrics')

        # --- who may read it ------------------------------------------------------------------------------------
        st, _, _ = get('/metrics')
        check(st == 401, 'no key: 401 (%d)' % st)
        st, _, _ = get('/metrics', op_other)
        check(st == 403, 'an operator key without scope metrics: 403 (%d)' % st)
        st, _, body = get('/metrics', acme_key)
        check(st == 403 and 'operator' in body, 'a third party\'s key, even with scope metrics: 403 (%d)' % st)
        st, ctype, text = get('/metrics', op_key)
        check(st == 200 and ctype == 'text/plain; version=0.0.4; charset=utf-8',
              'the operator\'s metrics key: 200, %s' % ctype)
        s0 = samples(text)
        check(s0.get('uigw_dialog_begin_total') == 0 and s0.get('uigw_campaign_loaded', 0) >= 7 and
              any(k.startswith('uigw_build_info{version="') and v == 1 for k, v in s0.items()),
              'counters, stat items and build_info before any dialog')

        # --- a dialog over the VTY channel ---------------------------------------------------------------------
        a, b, c = dialog(vty, '+491720000001')
        check('call' in a.lower() and 'call you back' in b and 'Thank you' in c,
              'a dialog over the VTY channel: rating, callback question, thanks (%r)' % c[:60])
        st, _, text = get('/metrics', op_key)
        s1 = samples(text)
        want = {
            'uigw_dialog_begin_total': 1,
            'uigw_dialog_completed_total': 1,
            'uigw_channel_dialog_begin_total{channel="vty"}': 1,
            'uigw_channel_dialog_completed_total{channel="vty"}': 1,
            'uigw_channel_dialog_begin_total{channel="gsup"}': 0,
            'uigw_campaign_dialog_begin_total{campaign="callquality"}': 1,
            'uigw_campaign_dialog_completed_total{campaign="callquality"}': 1,
            'uigw_campaign_dialog_steps_total{campaign="callquality"}': 2,
        }
        bad = {k: s1.get(k) for k, v in want.items() if s1.get(k) != v}
        check(not bad, 'the gateway\'s, the channel\'s and the campaign\'s counters after it (wrong: %s)' % bad)
        check(s1.get('uigw_campaign_store_responses_total{campaign="callquality"}', 0) >= 2,
              'the campaign\'s responses counted')
        check(not any('campaign="survey"' in k for k in s1), 'a campaign without dialogs has no series yet')
        check('uigw_smpp_link_tcp_connects_total{link="nowhere"}' in s1, 'the SMPP link\'s counters, label link=')
        families = set(re.findall(r'^# TYPE (\S+) ', text, re.M))
        with open(os.path.join(workdir, 'metrics.txt'), 'w') as f:
            f.write(text)
        p = subprocess.run(['promtool', 'check', 'metrics'], input=text.encode(), capture_output=True, timeout=30)
        check(p.returncode == 0 and not p.stdout.strip() and not p.stderr.strip(),
              'promtool check metrics: no complaint (rc %d) %s' % (p.returncode,
                                                                  (p.stdout + p.stderr).decode()[:300]))

        # --- a real Prometheus scrapes it -------------------------------------------------------------------
        with open(os.path.join(workdir, 'prometheus.yml'), 'w') as f:
            f.write('''global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: uigw
    metrics_path: /metrics
    authorization:
      credentials: %s
    static_configs:
      - targets: ['127.0.0.1:%d']
''' % (op_key, HTTP_PORT))
        prom = subprocess.Popen(['prometheus', '--config.file=' + os.path.join(workdir, 'prometheus.yml'),
                                 '--storage.tsdb.path=' + os.path.join(workdir, 'tsdb'),
                                 '--web.listen-address=127.0.0.1:%d' % PROM_PORT], cwd=workdir, stdout=plog,
                                stderr=subprocess.STDOUT)
        got = prom_wait('uigw_dialog_begin_total{job="uigw"}', 1)
        check(got == 1, 'Prometheus scraped the dialog counter: %s' % got)
        check(prom_wait('up{job="uigw"}', 1) == 1, 'the target is up')
        dialog(vty, '+491720000002')
        got = prom_wait('uigw_campaign_dialog_completed_total{campaign="callquality"}', 2)
        check(got == 2, 'after a second dialog Prometheus reads 2 completed for the campaign: %s' % got)

        # --- the Grafana dashboard: every metric it names exists, every query is valid PromQL with data -------
        with open(os.path.join(args.top_srcdir, 'contrib', 'grafana', 'osmo-uigw.json')) as f:
            dash = json.load(f)
        exprs = [t['expr'] for p in dash['panels'] for t in p['targets']]
        names = set(n for e in exprs for n in re.findall(r'\buigw_[a-z0-9_]+', e))
        check(names and names <= families, 'the dashboard names only metrics the gateway exports (unknown: %s)'
              % sorted(names - families))
        bad = []
        for e in exprs:
            q = e.replace('$__rate_interval', '5s').replace('$job', 'uigw')
            url = 'http://127.0.0.1:%d/api/v1/query?query=%s' % (PROM_PORT, urllib.parse.quote(q))
            try:
                with urllib.request.urlopen(url, timeout=5) as r:
                    res = json.loads(r.read())
                if res.get('status') != 'success' or not res['data']['result']:
                    bad.append(e)
            except (OSError, ValueError) as ex:
                bad.append('%s: %s' % (e, ex))
        check(len(exprs) >= 16 and not bad, '%d dashboard queries answered by Prometheus (no data or refused: %s)'
              % (len(exprs), bad[:3]))

        # --- metrics public --------------------------------------------------------------------------------
        vty.cmd('configure terminal')
        vty.cmd('api')
        vty.cmd('metrics public')
        vty.cmd('end')
        st, _, text = get('/metrics')
        check(st == 200 and 'uigw_dialog_begin_total 2' in text, '`metrics public`: served without a key (%d)' % st)
        check(' metrics public' in vty.cmd('show running-config'), 'written in the configuration')
        vty.close()
    finally:
        if prom:
            prom.terminate()
            try:
                prom.wait(timeout=20)
            except subprocess.TimeoutExpired:
                prom.kill()
        rc = stop_daemon(d)
    return finish(workdir, rc, t0, extra_logs=('prometheus.log',))


if __name__ == '__main__':
    sys.exit(main())
