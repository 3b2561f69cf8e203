/* osmo-uigw results dashboard: reads the HTTP API v1 with the key its user signs in with (kept in this tab's
 * sessionStorage) and draws with Chart.js (npm chart.js, pinned in package-lock.json). No chart code of its own:
 * each chart is one Chart.js configuration fed with the API's numbers. */
'use strict';

const REFRESH_MS = 5000;
const $ = (id) => document.getElementById(id);
const charts = {};
let timer = null;

function key() { return sessionStorage.getItem('uigw-key'); }

async function api(path) {
  const r = await fetch(path, { headers: { Authorization: 'Bearer ' + key() }, cache: 'no-store' });
  let body = null;
  try { body = await r.json(); } catch (e) { /* an empty or non-JSON answer */ }
  return { status: r.status, body };
}

function show(id) {
  for (const s of ['signin', 'campaigns', 'campaign'])
    $(s).hidden = s !== id;
  $('signout').hidden = id === 'signin';
}

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {}))
    if (k === 'text') e.textContent = v; else e.setAttribute(k, v);
  for (const c of children) e.append(c);
  return e;
}

/* one chart per canvas id: created once, its data replaced on refresh */
function chart(canvas, type, labels, values, label, extra) {
  const id = canvas.id;
  if (charts[id] && charts[id].canvas === canvas) {
    charts[id].data.labels = labels;
    charts[id].data.datasets[0].data = values;
    charts[id].update('none');
    return charts[id];
  }
  if (charts[id]) charts[id].destroy();
  charts[id] = new Chart(canvas, {
    type,
    data: { labels, datasets: [{ label, data: values, backgroundColor: '#0b6bcb99', borderColor: '#0b6bcb',
                                 borderWidth: 1, tension: 0.2, fill: type === 'line' }] },
    options: Object.assign({ responsive: true, maintainAspectRatio: false, animation: false,
                             plugins: { legend: { display: false } },
                             scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }, extra || {}),
  });
  return charts[id];
}

async function signIn(k) {
  sessionStorage.setItem('uigw-key', k);
  const r = await api('/v1/campaigns');
  if (r.status !== 200) {
    sessionStorage.removeItem('uigw-key');
    $('signin-error').textContent = r.status === 401 ? 'This key is not valid.' :
      r.status === 403 ? 'This key may not read campaigns (scope campaigns).' : 'The gateway answered ' + r.status + '.';
    return false;
  }
  return true;
}

async function listCampaigns() {
  const r = await api('/v1/campaigns');
  if (r.status === 401) return signOut();
  const ul = $('campaign-list');
  ul.replaceChildren();
  for (const c of (r.body && r.body.campaigns) || []) {
    const title = typeof c.title === 'string' ? c.title : (c.title && (c.title.en || Object.values(c.title)[0])) || '';
    ul.append(el('li', {}, el('a', { href: '#/campaign/' + encodeURIComponent(c.name), 'data-campaign': c.name },
      el('div', { class: 'name', text: c.name }),
      el('div', { class: 'meta', text: [title, c.state, (c.channels || []).join(' ')].filter(Boolean).join(' · ') }))));
  }
  show('campaigns');
  /* the operator's keys with scope spam: the most reported numbers */
  const s = await api('/v1/spam/numbers?limit=10');
  $('spam').hidden = s.status !== 200;
  if (s.status === 200) {
    const nums = s.body.numbers || [];
    chart($('chart-spam'), 'bar', nums.map((n) => n.number), nums.map((n) => n.reports), 'reports',
          { indexAxis: 'y', scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } });
  }
}

/* the answers of a campaign per minute, from the results (oldest first, at most 10 pages of 1000) */
async function answersOverTime(name) {
  const per = new Map();
  let after = 0;
  for (let page = 0; page < 10; page++) {
    const r = await api('/v1/campaigns/' + encodeURIComponent(name) + '/results?limit=1000&after=' + after);
    if (r.status !== 200) break;
    for (const a of r.body.results) {
      const m = a.time.slice(0, 16);	/* YYYY-MM-DDTHH:MM */
      per.set(m, (per.get(m) || 0) + 1);
    }
    if (r.body.next === null) break;
    after = r.body.next;
  }
  const labels = [...per.keys()].sort();
  return { labels: labels.map((l) => l.slice(11) + 'Z'), values: labels.map((l) => per.get(l)) };
}

async function showCampaign(name) {
  const r = await api('/v1/campaigns/' + encodeURIComponent(name) + '/summary');
  if (r.status === 401) return signOut();
  if (r.status !== 200) {
    $('campaign-title').textContent = name + ': ' + ((r.body && r.body.message) || r.status);
    show('campaign');
    return;
  }
  const s = r.body;
  $('campaign-title').textContent = s.campaign + ' (version ' + s.version + ')';
  const stats = [['Answers', s.responses], ['Live dialogs', s.active_dialogs]];
  for (const [k, v] of Object.entries(s.dialogs)) stats.push(['Dialogs ' + k, v]);
  $('campaign-stats').replaceChildren(...stats.map(([k, v]) =>
    el('div', { 'data-stat': k }, el('dt', { text: k }), el('dd', { text: String(v) }))));
  const ch = Object.keys(s.channels).sort();
  chart($('chart-channels'), 'bar', ch, ch.map((c) => s.channels[c]), 'answers');
  const t = await answersOverTime(name);
  chart($('chart-time'), 'line', t.labels, t.values, 'answers');

  /* one histogram per question; the canvases stay while the questions do */
  const box = $('questions');
  const want = s.questions.map((q) => 'q-' + q.question);
  if ([...box.querySelectorAll('canvas')].map((c) => c.id).join() !== want.join()) {
    box.replaceChildren(...s.questions.map((q) => el('figure', { class: 'chart' },
      el('figcaption', { 'data-caption': q.question }),
      el('canvas', { id: 'q-' + q.question, 'data-question': q.question, 'aria-label': q.question }))));
  }
  for (const q of s.questions) {
    const values = Object.keys(q.histogram).sort((a, b) => (isNaN(a) || isNaN(b)) ? a.localeCompare(b) : a - b);
    box.querySelector('[data-caption="' + CSS.escape(q.question) + '"]').textContent =
      q.question + ': ' + q.count + ' answers' + (q.mean !== null ? ', mean ' + q.mean : '');
    chart($('q-' + q.question), 'bar', values, values.map((v) => q.histogram[v]), q.question);
  }
  $('as-of').textContent = 'As of ' + s.as_of + '; refreshed every ' + REFRESH_MS / 1000 + ' s.';
  document.body.dataset.loaded = s.campaign;
  show('campaign');
}

async function route() {
  clearTimeout(timer);
  if (!key()) { show('signin'); return; }
  $('who').textContent = 'signed in with ' + key().slice(0, 7) + '…';
  const m = location.hash.match(/^#\/campaign\/(.+)$/);
  try {
    if (m) await showCampaign(decodeURIComponent(m[1])); else await listCampaigns();
  } finally {
    if (key()) timer = setTimeout(route, REFRESH_MS);
  }
}

function signOut() {
  sessionStorage.removeItem('uigw-key');
  for (const id of Object.keys(charts)) { charts[id].destroy(); delete charts[id]; }
  location.hash = '#/';
  show('signin');
}

$('signin-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  $('signin-error').textContent = '';
  if (await signIn($('key').value.trim())) { $('key').value = ''; route(); }
});
$('signout').addEventListener('click', signOut);
window.addEventListener('hashchange', route);
route();
