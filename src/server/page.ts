/** The web page at GET /: invoke by hand, the latest records, a live power chart. One file, no external asset. */
import { runtimeDescriptors } from '../runtimes/registry.js';
import { INVOCATION_MODES } from '../types.js';

const options = (values: readonly string[]) => values.map((v) => `<option>${v}</option>`).join('');

/** The page, naming the runtimes registered when it is made. */
export const page = (): string => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>nebula-faas</title>
<style>
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;background:#f6f6f9;color:#1d1d1f}
header{background:#1d1b3a;color:#fff;padding:12px 24px}header h1{margin:0;font-size:20px}header span{opacity:.7;font-size:13px}
main{max-width:1100px;margin:0 auto;padding:16px 24px;display:grid;grid-template-columns:360px 1fr;gap:16px}
section{background:#fff;border:1px solid #e3e3e8;border-radius:10px;padding:14px 16px}
h2{font-size:16px;margin:0 0 10px}label{display:block;font-size:12px;color:#555;margin:8px 0 3px}
select,input,textarea{width:100%;box-sizing:border-box;font:inherit;padding:6px 8px;border:1px solid #ccc;border-radius:6px;background:#fff}
textarea{font-family:ui-monospace,monospace;height:70px}
button{margin-top:12px;width:100%;padding:8px;font:inherit;font-weight:600;color:#fff;background:#6f42c1;border:0;border-radius:6px;cursor:pointer}
button:disabled{opacity:.6}
pre{background:#f3f3f7;border-radius:6px;padding:8px;white-space:pre-wrap;word-break:break-all;font-size:12px;max-height:220px;overflow:auto}
.ok{color:#137333;font-weight:600}.fail{color:#b3261e;font-weight:600}
table{border-collapse:collapse;width:100%;font-size:12px}th,td{text-align:left;padding:4px 6px;border-bottom:1px solid #eee;white-space:nowrap}th{background:#f3f3f7}
.wide{grid-column:1/-1}.muted{color:#777;font-size:12px}
</style></head><body>
<header><h1>nebula-faas</h1><span>${runtimeDescriptors()
  .map((d) => d.label)
  .join(', ')} functions: cold start, run time, energy</span></header>
<main>
<section>
<h2>Invoke</h2>
<label for="fn">Function</label><select id="fn"></select>
<label for="runtime">Runtime</label><select id="runtime">${options(runtimeDescriptors().map((d) => d.kind))}</select>
<label for="mode">Mode</label><select id="mode">${options(INVOCATION_MODES)}</select>
<label for="input">Input (JSON)</label><textarea id="input">20</textarea>
<label for="token">Token (when the server has one)</label><input id="token" type="password" autocomplete="off">
<button id="go">Invoke</button>
<div id="status" class="muted"></div>
</section>
<section>
<h2>Result</h2>
<div id="summary" class="muted">Invoke a function to see its record.</div>
<pre id="result" hidden></pre>
<h2 style="margin-top:14px">Power <span id="meter" class="muted"></span></h2>
<div id="idle" class="muted"></div>
<svg id="chart" viewBox="0 0 600 140" width="100%" height="140" role="img" aria-label="power samples"></svg>
</section>
<section class="wide">
<h2>Latest invocations</h2>
<table><thead><tr><th>time</th><th>function</th><th>runtime</th><th>mode</th><th>input</th><th>outcome</th><th>startup</th><th>exec</th><th>total</th><th>energy</th></tr></thead><tbody id="rows"></tbody></table>
</section>
</main>
<script>
const $ = (id) => document.getElementById(id);
const tokenBox = $('token');
tokenBox.value = localStorage.getItem('nebula-token') || '';
tokenBox.addEventListener('change', () => localStorage.setItem('nebula-token', tokenBox.value));
function api(path, init = {}) {
  const headers = Object.assign({}, init.headers || {});
  if (tokenBox.value) headers.authorization = 'Bearer ' + tokenBox.value;
  return fetch(path, Object.assign({}, init, { headers })).then(async (r) => {
    const body = r.headers.get('content-type')?.includes('json') ? await r.json() : await r.text();
    if (!r.ok) throw new Error((body && body.error) ? body.error.code + ': ' + body.error.message : 'HTTP ' + r.status);
    return body;
  });
}
const ms = (v) => v == null ? '–' : v < 1 ? (v * 1000).toFixed(0) + ' µs' : v < 10000 ? v.toFixed(v < 10 ? 2 : 1) + ' ms' : (v / 1000).toFixed(1) + ' s';
const wh = (v) => v == null ? '–' : Math.abs(v) < 1e-6 ? (v * 1e9).toPrecision(3) + ' nWh' : Math.abs(v) < 1e-3 ? (v * 1e6).toPrecision(3) + ' µWh' : (v * 1e3).toPrecision(3) + ' mWh';
// A record's energy, saying which it is: above the idle baseline it was measured with, or the whole draw when there was none.
const energyText = (e) => !e ? '–' : e.baselineW > 0 ? wh(e.isolatedEnergyWh) + ' above idle' : wh(e.energyWh) + ' including idle';
const text = (v) => document.createTextNode(v);
async function loadFunctions() {
  const { functions } = await api('/functions');
  const sel = $('fn');
  sel.replaceChildren(...functions.map((f) => { const o = document.createElement('option'); o.value = f.name; o.textContent = f.name + ' (' + f.runtimes.join(', ') + ')'; return o; }));
  if (functions.some((f) => f.name === 'fib')) sel.value = 'fib';
}
$('go').addEventListener('click', async () => {
  let input;
  try { input = JSON.parse($('input').value); } catch { input = $('input').value; }
  $('go').disabled = true; $('status').textContent = 'running…';
  try {
    const rec = await api('/invoke', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ function: $('fn').value, runtime: $('runtime').value, mode: $('mode').value, input }) });
    const s = $('summary');
    s.className = rec.ok ? 'ok' : 'fail';
    s.id = 'summary';
    s.textContent = rec.ok ? 'ok: ' + JSON.stringify(rec.result) : 'failed: ' + rec.error.code + ': ' + rec.error.message;
    s.dataset.result = JSON.stringify(rec.result);
    $('result').hidden = false;
    $('result').textContent = 'startup ' + ms(rec.timing.startupMs) + ' · exec ' + ms(rec.timing.execMs) + ' · total ' + ms(rec.timing.totalMs) + '\\n' + JSON.stringify(rec, null, 2);
    $('status').textContent = '';
    refreshResults();
  } catch (e) { $('status').textContent = e.message; }
  $('go').disabled = false;
});
async function refreshResults() {
  try {
    const { results } = await api('/results?limit=15');
    $('rows').replaceChildren(...results.map((r) => {
      const tr = document.createElement('tr');
      const cells = [new Date(r.startedAt).toLocaleTimeString(), r.function, r.runtime, r.mode, JSON.stringify(r.input).slice(0, 30), r.ok ? 'ok' : r.error.code, ms(r.timing.startupMs), ms(r.timing.execMs), ms(r.timing.totalMs), energyText(r.energy)];
      for (const c of cells) { const td = document.createElement('td'); td.appendChild(text(c)); tr.appendChild(td); }
      if (!r.ok) tr.children[5].className = 'fail';
      return tr;
    }));
  } catch {}
}
let samples = [];
async function refreshPower() {
  try {
    const since = samples.length ? samples[samples.length - 1].t : Date.now() - 60000;
    const r = await api('/samples?since=' + since);
    $('meter').textContent = r.meter ? '(' + (r.meter.estimate ? 'estimated from CPU load, not measured' : r.meter.name) + ')' : '(no meter attached)';
    $('idle').textContent = !r.meter ? '' : r.baseline ? 'Energy is above the idle baseline of ' + r.baseline.powerW.toFixed(2) + ' W (records from before it was measured include idle power, and say so).' : 'No idle baseline was measured, so energy includes idle power (nebula serve --baseline 30s measures one).';
    samples = samples.concat(r.samples).filter((s) => s.t > Date.now() - 60000);
    const svg = $('chart');
    if (!samples.length) { svg.innerHTML = '<text x="10" y="70" fill="#999" font-size="13">no samples</text>'; return; }
    const t0 = Date.now() - 60000, max = Math.max(...samples.map((s) => s.powerW)) * 1.1 || 1;
    const pts = samples.map((s) => ((s.t - t0) / 60000 * 590 + 5).toFixed(1) + ',' + (130 - s.powerW / max * 120).toFixed(1)).join(' ');
    svg.innerHTML = '<polyline fill="none" stroke="#6f42c1" stroke-width="1.5" points="' + pts + '"/><text x="5" y="12" font-size="11" fill="#666">' + max.toFixed(1) + ' W</text><text x="5" y="138" font-size="11" fill="#666">last 60 s · now ' + samples[samples.length - 1].powerW.toFixed(2) + ' W</text>';
  } catch {}
}
loadFunctions().catch((e) => { $('status').textContent = e.message; });
refreshResults(); refreshPower();
setInterval(refreshResults, 3000); setInterval(refreshPower, 1000);
</script>
</body></html>
`;
