"""The results dashboard (/ui/) in a real browser: Debian's headless Chromium driven by chromium-driver and
python3-selenium, against the real osmo-uigw daemon with answers seeded through real channels (SMS through
node-smpp, and the VTY test drive).

Covered: the files served at /ui/ (redirect from /ui, content types, the security headers, nothing but the listed
files); signing in (a bad key refused with a message, the operator's key accepted); the campaign list; the
operator's most reported numbers; a campaign's page: its counts, the charts drawn (Chart.js) with exactly the
numbers of GET /v1/campaigns/{name}/summary (answers per channel, a histogram per question) and the answers over
time from the results; a third party's key sees its own campaign only and no spam; a screenshot of the campaign
page (the one doc/ui.md shows). Ports 43000-43003.
"""
import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import time
import urllib.request

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, '..'))
sys.path.insert(0, os.path.join(here, '..', 'smpp'))
from uigwtest import check, gw_cfg, Vty, start_daemon, stop_daemon, finish, key_of  # noqa: E402
import smpp_integration as S  # noqa: E402  (the node-smpp SMSC driver)

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

SMSC_PORT = 43000
VTY_PORT = 43001
CTRL_PORT = 43002
HTTP_PORT = 43003
BASE = 'http://127.0.0.1:%d' % HTTP_PORT


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **kw):
        return None


def get(path, key=None):
    req = urllib.request.Request(BASE + path)
    if key:
        req.add_header('Authorization', 'Bearer ' + key)
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(req, timeout=10) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def survey_sms(smsc, sub, contact, rating, yes):
    S.ask(smsc, sub, '7730', 'SURVEY', 'How do you usually contact us?')
    S.ask(smsc, sub, '7730', contact, 'How satisfied')
    S.ask(smsc, sub, '7730', rating, 'recommend')
    S.ask(smsc, sub, '7730', yes, 'Thank you!')


def survey_vty(vty, sub, contact, rating, yes):
    vty.cmd('subscriber %s dial *7730#' % sub)
    vty.cmd('subscriber %s send %s' % (sub, contact))
    vty.cmd('subscriber %s send %s' % (sub, rating))
    return vty.cmd('subscriber %s send %s' % (sub, yes))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--daemon', required=True)
    ap.add_argument('--top-srcdir', required=True)
    ap.add_argument('--top-builddir', required=True)
    ap.add_argument('--node', default='node')
    ap.add_argument('--screenshot', help='also save the campaign page\'s screenshot here')
    args = ap.parse_args()
    S.SMSC_PORT = SMSC_PORT

    workdir = tempfile.mkdtemp(prefix='uigw-ui-')
    camp = os.path.join(workdir, 'campaigns')
    shutil.copytree(os.path.join(args.top_srcdir, 'etc', 'campaigns'), camp)
    shutil.copy(os.path.join(args.top_srcdir, 'tests', 'data', 'api', 'acme.conf'), camp)
    ui = os.path.join(workdir, 'ui')
    os.mkdir(ui)
    for f in ('index.html', 'app.js', 'style.css'):
        shutil.copy(os.path.join(args.top_srcdir, 'src', 'ui', f), ui)
    shutil.copy(os.path.join(args.top_builddir, 'src', 'ui', 'chart.umd.js'), ui)
    cfg = os.path.join(workdir, 'osmo-uigw.cfg')
    with open(cfg, 'w') as f:
        f.write(gw_cfg(VTY_PORT, camp, os.path.join(workdir, 'test.db'), 'ui-test-secret', SMSC_PORT,
                       reconnect_ms=200) + '''api
 bind 127.0.0.1 %d
 summary-cache 0
 ui-dir %s
 tenant acme
''' % (HTTP_PORT, ui))
    smsc = S.Smsc(args.node, os.path.join(args.top_srcdir, 'tests', 'smpp'), workdir)
    check(smsc.wait(lambda e: e.get('event') == 'listening', 15) is not None, 'node-smpp SMSC listening')
    dlog = open(os.path.join(workdir, 'daemon.log'), 'w')
    t0 = time.time()
    d = drv = None
    try:
        d = start_daemon(args.daemon, cfg, CTRL_PORT, workdir, dlog, port=HTTP_PORT)
        check(smsc.wait(lambda e: e.get('dir') == 'tx' and e.get('command') == 'bind_transceiver_resp', 15)
              is not None, 'the gateway bound to the SMSC')
        time.sleep(0.2)
        vty = Vty(VTY_PORT)
        op = key_of(vty.cmd('api tenant operator key create campaigns results spam'))
        acme = key_of(vty.cmd('api tenant acme key create campaigns results'))
        check(op and acme, 'keys for the operator and acme')

        # --- answers through real channels ------------------------------------------------------------------
        survey_sms(smsc, '491720001001', '1', '5', 'yes')
        survey_sms(smsc, '491720001002', '2', '4', 'yes')
        survey_sms(smsc, '491720001003', '1', '5', 'no')
        out = survey_vty(vty, '+491720001004', '4', '3', 'yes')
        check('Thank you' in out, 'a survey over the VTY test drive')
        survey_vty(vty, '+491720001005', '3', '5', 'yes')
        vty.cmd('subscriber +491720001006 dial *7726#')
        vty.cmd('subscriber +491720001006 send 1')
        vty.cmd('subscriber +491720001006 send +4930999888')
        vty.cmd('subscriber +491720001006 send 1')
        vty.cmd('subscriber +491720001007 dial *7730#')   # left open: a live dialog
        time.sleep(0.3)
        st, _, body = get('/v1/campaigns/survey/summary', op)
        summary = json.loads(body)
        check(st == 200 and summary['responses'] == 15 and summary['channels'] == {'smpp-sms': 9, 'vty': 6} and
              summary['active_dialogs'] == 1, 'seeded: 15 answers over SMS and the VTY, one dialog running (%s)'
              % {k: summary.get(k) for k in ('responses', 'channels', 'active_dialogs')})

        # --- the files -------------------------------------------------------------------------------------
        st, h, _ = get('/ui')
        check(st == 301 and h.get('Location') == '/ui/', '/ui redirects to /ui/ (%d %s)' % (st, h.get('Location')))
        st, h, body = get('/ui/')
        check(st == 200 and h.get('Content-Type', '').startswith('text/html') and b'app.js' in body and
              "default-src 'self'" in h.get('Content-Security-Policy', '') and h.get('X-Frame-Options') == 'DENY'
              and h.get('X-Content-Type-Options') == 'nosniff', '/ui/: the page, no key needed, with CSP, no frames')
        st, h, body = get('/ui/chart.umd.js')
        check(st == 200 and h.get('Content-Type', '').startswith('text/javascript') and b'Chart' in body[:2000]
              and len(body) > 100000, 'the chart library from npm (%d bytes)' % len(body))
        for p in ('/ui/../osmo-uigw.cfg', '/ui/nosuch.js', '/ui/ui', '/ui/%2e%2e/test.db'):
            st, _, _ = get(p)
            check(st == 404, '%s: 404 (%d)' % (p, st))

        # --- a real browser ---------------------------------------------------------------------------------
        o = webdriver.ChromeOptions()
        o.binary_location = shutil.which('chromium') or '/usr/bin/chromium'
        for a in ('--headless=new', '--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu',
                  '--window-size=1280,1400', '--no-first-run', '--disable-extensions'):
            o.add_argument(a)
        drv = webdriver.Chrome(service=Service(shutil.which('chromedriver') or '/usr/bin/chromedriver'), options=o)
        drv.set_page_load_timeout(30)
        wait = WebDriverWait(drv, 20)
        drv.get(BASE + '/ui/')
        wait.until(lambda x: x.find_element(By.ID, 'key').is_displayed())
        drv.find_element(By.ID, 'key').send_keys('uk_' + '0' * 64)
        drv.find_element(By.CSS_SELECTOR, '#signin-form button').click()
        ok = wait.until(lambda x: x.find_element(By.ID, 'signin-error').text)
        check('not valid' in ok, 'a bad key: "%s"' % ok)
        drv.find_element(By.ID, 'key').clear()
        drv.find_element(By.ID, 'key').send_keys(op)
        drv.find_element(By.CSS_SELECTOR, '#signin-form button').click()
        wait.until(lambda x: x.find_elements(By.CSS_SELECTOR, '#campaign-list a[data-campaign]'))
        names = [a.get_attribute('data-campaign') for a in drv.find_elements(By.CSS_SELECTOR, '#campaign-list a')]
        check('survey' in names and 'acme-survey' in names and 'callquality' in names,
              'the operator\'s campaigns listed (%s)' % names)
        wait.until(lambda x: x.execute_script("return !document.getElementById('spam').hidden && "
                                              "Chart.getChart('chart-spam') !== undefined"))
        spam = drv.execute_script("const c = Chart.getChart('chart-spam'); return [c.data.labels, "
                                  "c.data.datasets[0].data];")
        check(spam == [['+4930999888'], [1]], 'the most reported numbers drawn (%s)' % spam)

        drv.find_element(By.CSS_SELECTOR, '#campaign-list a[data-campaign="survey"]').click()
        wait.until(lambda x: x.execute_script("return document.body.dataset.loaded") == 'survey')
        wait.until(lambda x: x.execute_script("return Chart.getChart('chart-time') !== undefined"))
        drawn = drv.execute_script("""
            const d = (id) => { const c = Chart.getChart(id); return c ? {type: c.config.type,
                labels: c.data.labels, data: c.data.datasets[0].data} : null; };
            const qs = {};
            for (const cv of document.querySelectorAll('#questions canvas'))
                qs[cv.dataset.question] = d(cv.id);
            const stats = {};
            for (const s of document.querySelectorAll('#campaign-stats [data-stat]'))
                stats[s.dataset.stat] = s.querySelector('dd').textContent;
            return {channels: d('chart-channels'), time: d('chart-time'), questions: qs, stats: stats};""")
        st, _, body = get('/v1/campaigns/survey/summary', op)
        summary = json.loads(body)
        ch = drawn['channels']
        check(ch and ch['type'] == 'bar' and dict(zip(ch['labels'], ch['data'])) == summary['channels'],
              'answers per channel drawn as the summary says (%s)' % ch)
        bad = []
        for q in summary['questions']:
            c = drawn['questions'].get(q['question'])
            if not c or c['type'] != 'bar' or dict(zip(c['labels'], c['data'])) != q['histogram']:
                bad.append((q['question'], c, q['histogram']))
        check(len(summary['questions']) == 3 and not bad and len(drawn['questions']) == 3,
              'a histogram per question, with the summary\'s numbers (wrong: %s)' % bad)
        t = drawn['time']
        check(t and t['type'] == 'line' and sum(t['data']) == summary['responses'],
              'answers over time: %s in %d minutes' % (sum(t['data']) if t else None, len(t['labels']) if t else 0))
        check(drawn['stats'].get('Answers') == str(summary['responses']) and
              drawn['stats'].get('Live dialogs') == '1' and
              drawn['stats'].get('Dialogs completed') == str(summary['dialogs']['completed']),
              'the counts shown: %s' % drawn['stats'])
        shot = os.path.join(workdir, 'ui-campaign.png')
        drv.save_screenshot(shot)
        check(os.path.getsize(shot) > 20000, 'screenshot saved (%d bytes)' % os.path.getsize(shot))
        if args.screenshot:
            shutil.copy(shot, args.screenshot)

        # the page follows new answers (refresh every 5 s)
        survey_vty(vty, '+491720001008', '1', '2', 'no')
        ok = WebDriverWait(drv, 15).until(lambda x: x.execute_script(
            "const c = Chart.getChart('chart-channels'); return c.data.datasets[0].data.reduce((a, b) => a + b, 0);")
            == summary['responses'] + 3)
        check(ok, 'three new answers appear without reloading the page')

        # --- a third party ------------------------------------------------------------------------------------
        drv.find_element(By.ID, 'signout').click()
        wait.until(lambda x: x.find_element(By.ID, 'key').is_displayed())
        drv.find_element(By.ID, 'key').send_keys(acme)
        drv.find_element(By.CSS_SELECTOR, '#signin-form button').click()
        wait.until(lambda x: x.find_elements(By.CSS_SELECTOR, '#campaign-list a[data-campaign]'))
        time.sleep(0.5)
        names = [a.get_attribute('data-campaign') for a in drv.find_elements(By.CSS_SELECTOR, '#campaign-list a')]
        hidden = drv.execute_script("return document.getElementById('spam').hidden")
        check(names == ['acme-survey'] and hidden, 'acme sees its own campaign only, no spam numbers (%s)' % names)
        drv.get(BASE + '/ui/#/campaign/survey')
        wait.until(lambda x: x.find_element(By.ID, 'campaign-title').text)
        title = drv.find_element(By.ID, 'campaign-title').text
        check('no campaign' in title, 'another\'s campaign is not found (%r)' % title)
        vty.close()
    finally:
        if drv:
            drv.quit()
        smsc.stop()
        rc = stop_daemon(d)
    return finish(workdir, rc, t0)


if __name__ == '__main__':
    sys.exit(main())
