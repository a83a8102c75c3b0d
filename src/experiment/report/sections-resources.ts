/** The report section on what each cell's sandboxes used: CPU time and peak memory, from the kernel. */
import { runtimeDescriptor } from '../../runtimes/registry.js';
import type { Summary } from '../../stats.js';
import { logBoxChart, type ChartRow } from './charts.js';
import { fmtBytes, fmtInput, fmtMs } from './format.js';
import { cellLabel, colorOf, htmlTable, mdTable, runtimeLabel, type ReportSection } from './kit.js';
import type { ExperimentResult } from '../analysis/summary.js';

/** `12.3 ms [11.9 ms, 12.8 ms]`, the interval on its own line in HTML (`sep` = newline). */
function medianCi(s: Summary | undefined, fmt: (v: number) => string, sep: string): string {
  if (!s) return '–';
  return `${fmt(s.median)}${sep}[${fmt(s.ci95[0])},${sep === '\n' ? '\u00a0' : ' '}${fmt(s.ci95[1])}]`;
}

/** Where each runtime of the run takes its figures from, as its descriptor says. */
function sources(r: ExperimentResult): string {
  const notes = [...new Set(r.cells.map((c) => c.runtime))]
    .map((k) => [runtimeLabel(k), runtimeDescriptor(k)?.resourcesNote] as const)
    .filter((n): n is readonly [string, string] => Boolean(n[1]))
    .map(([label, note]) => `${label}: ${note}.`);
  return notes.length ? `CPU time is user + system. ${notes.join(' ')} ` : 'CPU time is user + system. ';
}

export function resourcesSection(r: ExperimentResult): ReportSection | null {
  const cells = r.cells.filter((c) => c.metrics.cpuMs || c.metrics.maxMemoryBytes);
  if (!cells.length) return null;
  const rows: ChartRow[] = cells
    .filter((c) => c.metrics.cpuMs)
    .map((c) => ({ label: cellLabel(c), group: c.function, color: colorOf(c.runtime, c.mode), s: c.metrics.cpuMs! }));
  const head = ['function', 'input', 'runtime', 'mode', 'n', 'CPU time', 'peak memory'];
  const body = (sep: string) =>
    cells.map((c) => [
      c.function,
      fmtInput(c.input),
      runtimeLabel(c.runtime),
      c.mode,
      String(c.metrics.cpuMs?.n ?? c.metrics.maxMemoryBytes?.n ?? 0),
      medianCi(c.metrics.cpuMs, fmtMs, sep),
      medianCi(c.metrics.maxMemoryBytes, fmtBytes, sep),
    ]);
  return {
    id: 'resources',
    title: 'CPU time and peak memory',
    hint:
      "What each invocation's own sandbox used, as the kernel counted it: medians per invocation with the distribution-free 95% interval of the median. " +
      sources(r) +
      'A reused sandbox reports the most it held since it was made (docs/timing.md#resources). Box: quartiles; thick tick: median; line: min to p95. Log scale.',
    html: (rows.length ? logBoxChart('CPU time per invocation', rows) : '') + htmlTable(head, body('\n'), 4),
    markdown: mdTable(head, body(' ')),
  };
}
