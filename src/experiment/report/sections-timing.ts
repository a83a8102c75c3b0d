/** Report sections on timing: cold start, sandbox start-up, run time, total, and the table of every cell. */
import type { Summary } from '../../stats.js';
import { logBoxChart, type ChartRow } from './charts.js';
import { fmtInput, fmtMs } from './format.js';
import { cellLabel, colorOf, execNote, htmlTable, mdTable, runtimeLabel, type ReportSection } from './kit.js';
import type { CellSummary, ExperimentResult } from '../analysis/summary.js';

const BOX = 'Box: quartiles; thick tick: median; line: min to p95. Log scale.';

function rows(cells: CellSummary[], metric: string): ChartRow[] {
  return cells
    .filter((c) => c.metrics[metric])
    .map((c) => ({
      label: `${cellLabel(c)}${metric === 'execMs' && execNote(c.runtime) ? ' †' : ''}`,
      group: c.function,
      color: colorOf(c.runtime, c.mode),
      s: c.metrics[metric]!,
    }));
}

function chartSection(
  id: string,
  title: string,
  hint: string,
  chartTitle: string,
  cells: CellSummary[],
  metric: string,
): ReportSection | null {
  const r = rows(cells, metric);
  if (!r.length) return null;
  return { id, title, hint, html: logBoxChart(chartTitle, r), markdown: '' };
}

/** The exec notes of the runtimes present, each once, marked †. */
function execNotes(r: ExperimentResult): string[] {
  return [...new Set(r.cells.map((c) => execNote(c.runtime)).filter((n): n is string => Boolean(n)))].map(
    (n) => `† ${n}`,
  );
}

export function coldStartSection(r: ExperimentResult): ReportSection | null {
  return chartSection(
    'cold-start',
    'Cold start (cold mode only)',
    `startupMs of invocations in a fresh sandbox: from invoke() until the function's own code starts. ` +
      "Invocations run one at a time, interleaved across runtimes, so each arrives at an idle host as a FaaS request does: waking the runtime's threads and cold caches are part of it (back to back, a Wasm cold start takes tens of microseconds: docs/wasm.md). " +
      BOX,
    'cold start (startupMs), cold mode',
    r.cells.filter((c) => c.mode === 'cold'),
    'startupMs',
  );
}

export function sandboxStartSection(r: ExperimentResult): ReportSection | null {
  return chartSection(
    'sandbox-start',
    'Start-up in prewarmed and warm sandboxes (not cold starts)',
    `startupMs when the sandbox was made ahead (prewarmed) or kept from an earlier invocation (warm). ${BOX}`,
    'start-up (startupMs), prewarmed and warm modes',
    r.cells.filter((c) => c.mode !== 'cold'),
    'startupMs',
  );
}

export function runTimeSection(r: ExperimentResult): ReportSection | null {
  const notes = execNotes(r);
  return chartSection(
    'run-time',
    'Run time',
    `execMs: function start to function end. ${BOX}${notes.length ? ` ${notes.join(' ')}` : ''}`,
    'run time (execMs)',
    r.cells,
    'execMs',
  );
}

export function totalSection(r: ExperimentResult): ReportSection | null {
  return chartSection(
    'total',
    'Total',
    `totalMs: invoke() until the result is available to the caller. ${BOX}`,
    'total (totalMs)',
    r.cells,
    'totalMs',
  );
}

/** `2.42 ms [990 µs, 5.28 ms]`, the interval on its own line in HTML (`sep` = newline). */
function medianCi(s: Summary | undefined, sep: string, mark = ''): string {
  if (!s) return '–';
  return `${fmtMs(s.median)}${mark}${sep}[${fmtMs(s.ci95[0])},${sep === '\n' ? '\u00a0' : ' '}${fmtMs(s.ci95[1])}]`;
}

function failures(c: CellSummary): string {
  return c.failed
    ? `${c.failed} (${Object.entries(c.errors)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')})`
    : '0';
}

/** Every cell: medians with the distribution-free 95% interval of the median. */
export function cellsSection(r: ExperimentResult): ReportSection | null {
  if (!r.cells.length) return null;
  const small = r.cells.some((c) => (c.metrics.totalMs?.n ?? 0) > 0 && (c.metrics.totalMs?.n ?? 0) < 6);
  const hint =
    'Medians per invocation with the distribution-free 95% interval of the median (order statistics) in brackets' +
    (small ? "; with fewer than 6 runs a cell's interval is [min, max] and covers less than 95%" : '') +
    '. "differs": successful records whose output differs from the other runtimes\' (see the output check).' +
    (execNotes(r).length ? ` ${execNotes(r).join(' ')}` : '');
  const head = [
    'function',
    'input',
    'runtime',
    'mode',
    'n',
    'failed',
    'differs',
    'startup',
    'exec',
    'total',
    'total p95',
  ];
  const body = (sep: string) =>
    r.cells.map((c) => [
      c.function,
      fmtInput(c.input),
      runtimeLabel(c.runtime),
      c.mode,
      String(c.ok),
      failures(c),
      String(c.mismatched ?? 0),
      medianCi(c.metrics.startupMs, sep),
      medianCi(c.metrics.execMs, sep, execNote(c.runtime) ? ' †' : ''),
      medianCi(c.metrics.totalMs, sep),
      fmtMs(c.metrics.totalMs?.p95),
    ]);
  return {
    id: 'cells',
    title: 'All cells',
    hint,
    html: htmlTable(head, body('\n'), 4),
    markdown: mdTable(head, body(' ')),
  };
}
