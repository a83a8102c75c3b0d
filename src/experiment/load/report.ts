/**
 * The reports of a load or replay folder: report.md, report.html (tables, and charts of latency
 * and energy per invocation against offered load, or kept sandboxes over trace time) and a CSV of
 * the per-rate or per-policy rows.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fmtMs } from '../report/format.js';
import { REPORT_CSS } from '../report/html.js';
import { fmtJ } from '../report/format.js';
import { colorOf, esc, htmlTable, mdTable, runtimeLabel } from '../report/kit.js';
import { lineChart, type LineSeries } from '../report/line-chart.js';
import { RUN_FILES } from '../run-folder.js';
import type { ReplayResult } from '../replay/run-replay.js';
import type { LoadResult } from './run-load.js';
import { KNEE_HEAD, kneeCaption, kneeCells } from './knee-row.js';
import { csvText, policiesCsv, policyCells, policyHead } from './policy-row.js';
import { energyCaption, lagCaption, STEP_ALIGN, STEP_HEAD, STEP_KEYS, stepCells, stepFigures } from './step-row.js';

interface Rendered {
  markdown: string;
  html: string;
}

function page(title: string, intro: string[], sections: Array<{ title: string; html: string }>): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${esc(title)}</title><style>${REPORT_CSS}</style></head><body><h1>${esc(title)}</h1>${intro.map((p) => `<p class="hint">${esc(p)}</p>`).join('')}${sections.map((s) => `<section><h2>${esc(s.title)}</h2>${s.html}</section>`).join('')}</body></html>\n`;
}

/** The reports of a load run. */
function renderLoad(r: LoadResult): Rendered {
  const head = [...STEP_HEAD];
  const rows = r.results.map(stepCells);
  const kneeHead = [...KNEE_HEAD];
  const kneeRows = kneeCells(r);
  const series = (y: (s: LoadResult['results'][number]) => number | undefined): LineSeries[] =>
    r.series.map((s) => ({
      label: `${s.function} ${runtimeLabel(s.runtime)} ${s.mode}`,
      color: colorOf(s.runtime, s.mode),
      points: r.results
        .filter((x) => x.function === s.function && x.runtime === s.runtime && x.mode === s.mode)
        .map((x) => ({ x: x.offeredPerS, y: y(x) ?? Number.NaN })),
    }));
  const intro = [
    `${r.spec.arrivals} arrivals, ${r.spec.durationMs / 1000} s a step, at most ${r.spec.maxInFlight} in flight; latency from each invocation's intended send time, queue time included.${r.interrupted ? ' INTERRUPTED: partial results.' : ''}`,
    `${kneeCaption(r)}.`,
    energyCaption(r),
    lagCaption(r),
  ];
  const latencyChart = lineChart(
    'p99 latency against offered load',
    series((s) => s.latencyMs.p99.value),
    (v) => `${v.toFixed(0)}/s`,
    fmtMs,
  );
  const energyChart = lineChart(
    'Energy per invocation (median share above idle) against offered load',
    series((s) => s.energyJPerInvocation?.aboveIdle.value),
    (v) => `${v.toFixed(0)}/s`,
    fmtJ,
  );
  const html = page('nebula load', intro, [
    { title: 'Per rate', html: htmlTable(head, rows, STEP_ALIGN.indexOf('r')) },
    { title: 'Knee per series', html: htmlTable(kneeHead, kneeRows) },
    { title: 'Latency against offered load', html: latencyChart || '<p class="hint">No latency to chart.</p>' },
    {
      title: 'Energy per invocation against offered load',
      html: energyChart || '<p class="hint">No energy shares (no meter, or no CPU figures).</p>',
    },
    ...(r.notes.length
      ? [{ title: 'Notes', html: `<ul>${r.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` }]
      : []),
  ]);
  const markdown = [
    '# nebula load',
    '',
    ...intro.flatMap((p) => [p, '']),
    '## Per rate',
    '',
    mdTable(head, rows),
    '',
    '## Knee per series',
    '',
    mdTable(kneeHead, kneeRows),
    '',
    'Charts of latency and energy per invocation against offered load: report.html.',
    ...(r.notes.length ? ['', '## Notes', '', ...r.notes.map((n) => `- ${n}`)] : []),
    '',
  ].join('\n');
  return { markdown, html };
}

/** The reports of a replay. */
function renderReplay(r: ReplayResult): Rendered {
  const head = policyHead();
  const rows = r.results.map(policyCells);
  const palette = ['#888888', '#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e'];
  const keptChart = lineChart(
    'Idle sandboxes kept over trace time',
    r.results.map((p, i) => ({
      label: `${p.policy} (${runtimeLabel(p.runtime)})`,
      color: palette[i % palette.length]!,
      points: p.kept.map((k) => ({ x: k.atMs / 60_000, y: k.kept })),
    })),
    (v) => `${v.toFixed(0)} min`,
    (v) => v.toFixed(0),
    false,
  );
  const fnHead = ['function', 'runs', ...r.results.map((p) => `${p.policy} (${p.runtime})`)];
  const fnRows = r.trace.functions.map((f, i) => [
    `f${i + 1}`,
    r.mapping[f]?.function ?? '–',
    ...r.results.map((p) => `${p.perFunction[f]?.coldStarts ?? 0} / ${p.perFunction[f]?.invocations ?? 0}`),
  ]);
  const intro = [
    `${r.trace.arrivals} invocations of ${r.trace.functions.length} trace functions (${r.trace.format}) over ${(r.trace.spanMs / 60_000).toFixed(1)} min of trace, replayed at ${r.speed}x.${r.interrupted ? ' INTERRUPTED: partial results.' : ''}`,
    "Keep-warm energy: power per kept sandbox x kept sandbox time, over the trace time; invocation energy: the sum of the invocations' shares of the power above idle.",
  ];
  const html = page('nebula replay', intro, [
    { title: 'Policies side by side', html: htmlTable(head, rows, 2) },
    { title: 'Cold starts per trace function (cold / invocations)', html: htmlTable(fnHead, fnRows, 2) },
    { title: 'Sandboxes kept over time', html: keptChart || '<p class="hint">No sandbox was kept.</p>' },
    ...(r.notes.length
      ? [{ title: 'Notes', html: `<ul>${r.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` }]
      : []),
  ]);
  const markdown = [
    '# nebula replay',
    '',
    ...intro.flatMap((p) => [p, '']),
    '## Policies side by side',
    '',
    mdTable(head, rows),
    '',
    '## Cold starts per trace function (cold / invocations)',
    '',
    mdTable(fnHead, fnRows),
    '',
    'The chart of sandboxes kept over time: report.html.',
    ...(r.notes.length ? ['', '## Notes', '', ...r.notes.map((n) => `- ${n}`)] : []),
    '',
  ].join('\n');
  return { markdown, html };
}

/** The CSV of a load run (a line per step) or of a replay (a line per policy, and per trace function), as written beside the reports. */
export function loadCsv(r: LoadResult | ReplayResult): string {
  return r.format === 'nebula-load/1' ? csvText([...STEP_KEYS], r.results.map(stepFigures)) : policiesCsv(r);
}

/** Writes report.md, report.html and the CSV (`steps.csv` for a load run, `policies.csv` for a replay) into `dir`. */
export function writeLoadReports(dir: string, r: LoadResult | ReplayResult): Record<string, string> {
  const rendered = r.format === 'nebula-load/1' ? renderLoad(r) : renderReplay(r);
  const csvName = r.format === 'nebula-load/1' ? RUN_FILES.steps : RUN_FILES.policies;
  const files: Record<string, string> = {
    [RUN_FILES.markdown]: join(dir, RUN_FILES.markdown),
    [RUN_FILES.html]: join(dir, RUN_FILES.html),
    [csvName]: join(dir, csvName),
  };
  writeFileSync(join(dir, RUN_FILES.markdown), rendered.markdown);
  writeFileSync(join(dir, RUN_FILES.html), rendered.html);
  writeFileSync(join(dir, csvName), loadCsv(r));
  return files;
}
