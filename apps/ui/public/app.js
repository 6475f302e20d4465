/* pnpm ui: the page. Plain JS, no build step. Data comes from /api and live diffs from one EventSource per sweep. */
'use strict';
const $ = (sel) => document.querySelector(sel);
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
const STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'diverged'];
let source = null; // the open EventSource
let state = null; // the sweep page's data
let selectedRun = null;
const pending = []; // diffs that arrived while the charts were being embedded

function fmtEta(sec) {
  if (sec === null || sec === undefined || !Number.isFinite(sec)) return '';
  const s = Math.round(sec);
  return s >= 3600
    ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
    : s >= 60
      ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
      : `${s}s`;
}
const fmtNum = (v, d = 4) => (v === null || v === undefined || !Number.isFinite(v) ? '' : v.toFixed(d));
const countsText = (c) =>
  STATUSES.filter((s) => c[s] > 0)
    .map((s) => `${s} ${c[s]}`)
    .join(' · ') || 'no runs';
function setLive(on, text) {
  const el = $('#live');
  el.className = on ? 'live on' : 'live';
  el.textContent = `${on ? '●' : '○'} ${text}`;
}

async function showSweeps() {
  closeSource();
  $('#crumb').textContent = '';
  const sweeps = await (await fetch('/api/sweeps')).json();
  const rows = sweeps.map(
    (s) =>
      `<tr><td><a href="#/sweep/${encodeURIComponent(s.id)}">${esc(s.id)}</a></td><td>${esc(s.file)}</td><td>${new Date(s.createdAt).toLocaleString()}</td>${STATUSES.map((st) => `<td class="num">${s.counts[st] || ''}</td>`).join('')}<td class="num">${s.counts.total}</td></tr>`,
  );
  $('#main').innerHTML =
    sweeps.length === 0
      ? '<p>No sweeps in this database yet: run <code>pnpm sweep sweeps/smoke.yaml</code>.</p>'
      : `<h1>Sweeps</h1><table id="sweeps"><thead><tr><th>sweep</th><th>file</th><th>created</th>${STATUSES.map((s) => `<th>${s}</th>`).join('')}<th>total</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
  setLive(false, 'list (reload for new sweeps)');
}

function closeSource() {
  if (source) source.close();
  source = null;
}

function runRow(r) {
  const pct = r.totalSteps ? Math.min(100, (100 * r.step) / r.totalSteps) : 0;
  const worker = [r.workerId, r.workerHost].filter(Boolean).join(' @ ');
  return `<tr class="run${r.runId === selectedRun ? ' selected' : ''}" data-run="${esc(r.runId)}">
<td class="num">${r.idx}</td><td>${esc(r.label)}</td><td class="status ${esc(r.status)}">${esc(r.status)}</td>
<td class="step"><span class="bar"><span style="width:${pct.toFixed(1)}%"></span></span><span class="stepnum">${r.step}</span>/${r.totalSteps ?? '?'}</td>
<td class="num">${fmtNum(r.loss)}</td><td class="num eta">${r.status === 'running' ? fmtEta(r.etaSec) || '…' : ''}</td>
<td>${esc(worker)}${r.backend ? ` <span class="note">${esc(r.backend)}</span>` : ''}</td><td class="num">${r.attempts}</td>
<td>${r.error ? `<div class="error">${esc(r.error)}</div>` : ''}</td></tr>`;
}

function renderRuns() {
  const rows = [...state.runs.values()].sort((a, b) => a.idx - b.idx);
  $('#runs tbody').innerHTML = rows.map(runRow).join('');
  $('#counts').textContent = `${state.totalRuns} runs — ${countsText(state.counts)}`;
  for (const tr of document.querySelectorAll('tr.run')) tr.addEventListener('click', () => showRunLog(tr.dataset.run));
}

function renderImages() {
  const byRun = new Map();
  for (const im of state.images) {
    if (!byRun.has(im.runId)) byRun.set(im.runId, []);
    byRun.get(im.runId).push(im);
  }
  const figs = [];
  for (const [, ims] of byRun) {
    for (const im of ims.filter((i) => i.kind === 'samples' || i.kind === 'mu')) {
      figs.push(
        `<figure data-run="${esc(im.runId)}" data-kind="${esc(im.kind)}"><img class="${im.kind === 'mu' ? 'mu' : 'samples'}" src="${esc(im.url)}" alt="${esc(`${im.kind} of ${im.label} at step ${im.step}`)}"><figcaption>${esc(im.label)}<br>${im.kind === 'mu' ? 'μ_c' : 'samples'}, step ${im.step}</figcaption></figure>`,
      );
    }
  }
  $('#images').innerHTML = figs.length ? figs.join('') : '<p class="note">No images yet: runs write samples and μ_c images at each eval.</p>';
}

async function embedCharts(snap) {
  const box = $('#charts');
  box.innerHTML = snap.charts
    .map((c) => `<div class="chart" id="chart-${c.key}" data-key="${c.key}" data-points="0" aria-label="${esc(c.title)}"></div>`)
    .join('');
  state.views = {};
  for (const c of snap.charts) {
    const el = document.getElementById(`chart-${c.key}`);
    const res = await vegaEmbed(el, c.spec, { actions: false, renderer: 'svg' });
    state.views[c.key] = res.view;
  }
  addPoints(snap.points);
}

function addPoints(points) {
  for (const [key, rows] of Object.entries(points || {})) {
    const view = state.views && state.views[key];
    if (!view || rows.length === 0) continue;
    view.insert('series', rows).run();
    const el = document.getElementById(`chart-${key}`);
    el.dataset.points = String(Number(el.dataset.points) + rows.length);
  }
}

async function showRunLog(runId) {
  selectedRun = runId;
  for (const tr of document.querySelectorAll('tr.run')) tr.classList.toggle('selected', tr.dataset.run === runId);
  const res = await fetch(`/api/runs/${encodeURIComponent(runId)}`);
  if (!res.ok) return;
  const d = await res.json();
  const lines = d.lines.map(
    (l) => `${l.at ? new Date(l.at).toLocaleTimeString() : '        '}  ${l.step === null ? '     ' : `step ${String(l.step).padStart(5)}`}  ${l.text}`,
  );
  $('#runlog').innerHTML = `<h2>Run ${esc(runId)} <span class="sub">${esc(d.run.status)} · in ${d.sweeps.map(esc).join(', ')}</span></h2>
<p class="note">Workers keep no per-run log file (their logs go to the worker's own terminal); these are the run's events as the recorder stored them.</p>
<div class="log" id="runlog-lines">${esc(lines.join('\n'))}</div>`;
}

async function cancelSweep() {
  if (!confirm(`Cancel sweep ${state.sweep.id} on every machine? Queued runs leave the queue, running runs stop at their next step.`)) return;
  const res = await fetch(`/api/sweeps/${encodeURIComponent(state.sweep.id)}/cancel`, { method: 'POST' });
  const body = await res.json();
  alert(res.ok ? `${body.removed} queued run(s) removed, ${body.running} running run(s) will stop at their next step` : body.error);
}

function showSweep(id) {
  closeSource();
  selectedRun = null;
  $('#crumb').textContent = `/ ${id}`;
  $('#main').innerHTML = '<p class="note">loading…</p>';
  setLive(false, 'connecting');
  source = new EventSource(`/api/sweeps/${encodeURIComponent(id)}/events`);
  source.addEventListener('snapshot', async (e) => {
    const snap = JSON.parse(e.data);
    pending.length = 0;
    state = { sweep: snap.sweep, counts: snap.counts, totalRuns: snap.totalRuns, runs: new Map(snap.runs.map((r) => [r.runId, r])), images: snap.images };
    $('#main').innerHTML = `<h1>${esc(snap.sweep.id)}</h1>
<div class="sub">${esc(snap.sweep.file)} · <span id="counts"></span>${snap.allowCancel ? ' <button class="cancel" id="cancel">Cancel sweep</button>' : ''}</div>
<h2>Runs</h2>${snap.totalRuns > snap.runs.length ? `<p class="note">The first ${snap.runs.length} of ${snap.totalRuns} runs; <code>pnpm status ${esc(snap.sweep.id)} --all</code> lists every one.</p>` : ''}
<table id="runs"><thead><tr><th>#</th><th>variant</th><th>status</th><th>step</th><th>loss</th><th>ETA</th><th>worker</th><th>attempts</th><th>error</th></tr></thead><tbody></tbody></table>
<p class="note">Click a run for its events.</p><div id="runlog"></div>
<h2>Curves</h2>${snap.chartRuns < snap.totalRuns ? `<p class="note">The first ${snap.chartRuns} runs.</p>` : ''}<div class="charts" id="charts"></div>
<h2>Newest samples and μ_c</h2><div class="images" id="images"></div>`;
    if (snap.allowCancel) $('#cancel').addEventListener('click', cancelSweep);
    renderRuns();
    renderImages();
    await embedCharts(snap);
    for (const d of pending.splice(0)) applyDiff(d);
    setLive(true, 'live');
  });
  source.addEventListener('diff', (e) => {
    const d = JSON.parse(e.data);
    if (!state || !state.views) {
      pending.push(d); // charts still being embedded: applied right after
      return;
    }
    applyDiff(d);
  });
  source.onerror = () => setLive(false, 'reconnecting');
}

function applyDiff(d) {
  if (d.runs) {
    for (const r of d.runs) state.runs.set(r.runId, r);
    if (d.counts) state.counts = d.counts;
    renderRuns();
    if (selectedRun && d.runs.some((r) => r.runId === selectedRun)) void showRunLog(selectedRun);
  }
  if (d.points) addPoints(d.points);
  if (d.images) {
    state.images = d.images;
    renderImages();
  }
}

function route() {
  const m = location.hash.match(/^#\/sweep\/(.+)$/);
  if (m) showSweep(decodeURIComponent(m[1]));
  else void showSweeps();
}
window.addEventListener('hashchange', route);
route();
