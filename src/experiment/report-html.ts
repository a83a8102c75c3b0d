/** report.html: one self-contained page (inline CSS and SVG) with the charts and tables. */
import { logBarChart, logBoxChart, type ChartRow } from './charts.js';
import { runtimeDescriptor, type RuntimeKind } from '../runtimes/index.js';
import type { InvocationMode } from '../types.js';
import type { CellSummary, ExperimentResult } from './summary.js';
import { fmtInput, fmtMs, fmtRatio, fmtW, fmtWh } from './format.js';
import { energyHtml } from './report-energy.js';

/** A cell's colour: its runtime's (from the registry), lighter for prewarmed and warm. */
function colorOf(runtime: RuntimeKind, mode: InvocationMode): string {
  const base = runtimeDescriptor(runtime)?.color ?? '#555555';
  const mix = mode === 'cold' ? 0 : mode === 'prewarmed' ? 0.35 : 0.6;
  const ch = (i: number) => Math.round(parseInt(base.slice(i, i + 2), 16) * (1 - mix) + 255 * mix).toString(16).padStart(2, '0');
  return `#${ch(1)}${ch(3)}${ch(5)}`;
}
const esc = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const label = (c: CellSummary) => `${c.function}(${fmtInput(c.input)}) ${c.runtime} ${c.mode}`;

function rows(r: ExperimentResult, metric: string): ChartRow[] {
  return r.cells
    .filter((c) => c.metrics[metric])
    .map((c) => ({ label: label(c), group: c.function, color: colorOf(c.runtime, c.mode), s: c.metrics[metric]! }));
}

function table(head: string[], body: string[][]): string {
  return `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${body
    .map((row) => `<tr>${row.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

export function renderHtml(r: ExperimentResult): string {
  const energyRows = r.cells.map((c) => ({
    label: label(c),
    group: c.function,
    color: colorOf(c.runtime, c.mode),
    value: c.batch?.isolatedEnergyPerInvocationWh ?? c.metrics.isolatedEnergyWh?.median ?? c.metrics.energyWh?.median ?? Number.NaN,
  }));
  const sections: string[] = [];
  sections.push(`<section><h2>Cold start</h2><p class="hint">invoke() until the function's code starts. Box: quartiles; thick tick: median; line: min to p95. Log scale.</p>${logBoxChart('startup (startupMs)', rows(r, 'startupMs'))}</section>`);
  sections.push(`<section><h2>Run time</h2><p class="hint">Function start to function end.</p>${logBoxChart('exec (execMs)', rows(r, 'execMs'))}</section>`);
  sections.push(`<section><h2>Total</h2><p class="hint">invoke() until the result is available.</p>${logBoxChart('total (totalMs)', rows(r, 'totalMs'))}</section>`);
  if (r.meter)
    sections.push(
      `<section><h2>Energy per invocation${r.meter.estimate ? ' <span class="warn">estimate</span>' : ''}</h2><p class="hint">Above the idle baseline; from batches where one invocation is shorter than a few meter intervals.</p>${logBarChart(
        'energy above idle per invocation',
        energyRows,
        fmtWh,
      )}</section>`,
    );
  if (r.comparisons.length)
    sections.push(
      `<section><h2>Docker / Wasm</h2>${table(
        ['function', 'input', 'mode', 'metric', 'runtime / baseline', 'ratio', '95% interval'],
        r.comparisons.map((c) => [c.function, fmtInput(c.input), c.mode, c.metric, `${c.runtime} / ${c.baseline}`, fmtRatio(c.ratio), `${fmtRatio(c.ci95[0])} – ${fmtRatio(c.ci95[1])}`]),
      )}</section>`,
    );
  sections.push(
    `<section><h2>All cells</h2>${table(
      ['function', 'input', 'runtime', 'mode', 'n', 'failed', 'startup median', 'exec median', 'total median', 'total p95', 'avg power', 'energy above idle'],
      r.cells.map((c) => [
        c.function,
        fmtInput(c.input),
        c.runtime,
        c.mode,
        String(c.ok),
        String(c.failed),
        fmtMs(c.metrics.startupMs?.median),
        fmtMs(c.metrics.execMs?.median),
        fmtMs(c.metrics.totalMs?.median),
        fmtMs(c.metrics.totalMs?.p95),
        fmtW(c.metrics.avgPowerW?.median),
        fmtWh(c.batch?.isolatedEnergyPerInvocationWh ?? c.metrics.isolatedEnergyWh?.median),
      ]),
    )}</section>`,
  );
  sections.push(energyHtml(r));
  if (r.micro.length)
    sections.push(
      `<section><h2>Engine overhead (tinybench)</h2>${table(
        ['task', 'samples', 'median', 'mean', 'p99'],
        r.micro.map((t) => [t.task, String(t.samples), fmtMs(t.medianMs), fmtMs(t.meanMs), fmtMs(t.p99Ms)]),
      )}</section>`,
    );
  const machine = Object.entries(r.machine).map(([k, v]) => [k, String(v)]);
  machine.push(['meter', r.meter ? `${r.meter.name}${r.meter.estimate ? ' (estimate)' : ''}, ${r.meter.intervalMs} ms` : 'none']);
  if (r.baseline) machine.push(['baseline', `${fmtW(r.baseline.powerW)} ± ${fmtW(r.baseline.stdW)}`]);
  machine.push(['repetitions', `${r.config.repetitions} per cell, ${r.config.order} (seed ${r.config.seed}), warm-up ${r.config.warmup}`]);
  sections.push(`<section><h2>Machine and configuration</h2>${table(['', ''], machine)}</section>`);
  const seen = [...new Set(r.cells.map((c) => `${c.runtime}|${c.mode}`))];
  const legend = seen
    .map((k) => {
      const [rt, mode] = k.split('|') as [RuntimeKind, InvocationMode];
      return `<span class="key"><i style="background:${colorOf(rt, mode)}"></i>${esc(`${rt} ${mode}`)}</span>`;
    })
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>nebula-faas experiment ${esc(r.startedAt)}</title>
<style>
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:980px;padding:24px;color:#1d1d1f;background:#fafafa}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 6px}
section{background:#fff;border:1px solid #e3e3e8;border-radius:10px;padding:14px 18px;margin:14px 0;overflow-x:auto}
table{border-collapse:collapse;font-size:13px;width:100%}th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #eee;white-space:nowrap}th{background:#f3f3f7}
svg .t{font-weight:600;font-size:13px}svg .lb{font-size:12px}svg .ax{font-size:11px;fill:#666}svg .grid{stroke:#e6e6ec}svg .sep{stroke:#ccc;stroke-dasharray:3 3}
.hint{color:#666;font-size:13px;margin:0 0 8px}.warn{background:#fff3cd;color:#7a5b00;border-radius:4px;padding:1px 6px;font-size:12px}
.key{margin-right:14px;font-size:13px}.key i{display:inline-block;width:12px;height:12px;border-radius:2px;margin-right:5px;vertical-align:-1px}
.banner{background:#fde2e1;border:1px solid #f5b5b2;padding:8px 12px;border-radius:8px}
</style></head><body>
<h1>nebula-faas experiment</h1>
<div class="hint">${esc(r.startedAt)} – ${esc(r.finishedAt)} · ${esc(String(r.machine.cpu))} · ${r.cells.length} cells</div>
${r.interrupted ? '<p class="banner">Interrupted: these are the results recorded before the run was stopped.</p>' : ''}
${r.notes.map((n) => `<p class="banner">${esc(n)}</p>`).join('')}
<p>${legend}</p>
${sections.join('\n')}
</body></html>
`;
}
