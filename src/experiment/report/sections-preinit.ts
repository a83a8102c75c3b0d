/**
 * The pre-initialisation section: each function run with and without its start-up work done at
 * deploy (`preinit: 'both'`) side by side (cold start, total, start-up energy, module size and
 * initial memory, the snapshot's making), and the snapshots of every pre-initialised function.
 */
import { logBoxChart, type ChartRow } from './charts.js';
import { fmtBytes, fmtInput, fmtMs, fmtRatio } from './format.js';
import { fmtFigure } from './sections-energy-analysis.js';
import { fmtEnergy } from '../analysis/energy-figures.js';
import { cellLabel, colorOf, htmlTable, mdTable, runtimeLabel, type ReportSection } from './kit.js';
import type { CellSummary, ExperimentResult } from '../analysis/summary.js';

type Where = Pick<CellSummary, 'runtime' | 'mode' | 'input'>;
const sameCell = (a: Where, b: Where) =>
  a.runtime === b.runtime && a.mode === b.mode && fmtInput(a.input) === fmtInput(b.input);

/** Each twin's cell with its function's cell on the same runtime, mode and input. */
function pairs(r: ExperimentResult): Array<{ without: CellSummary; with: CellSummary }> {
  return r.cells.flatMap((twin) => {
    if (!twin.variantOf) return [];
    const without = r.cells.find((c) => c.function === twin.variantOf && sameCell(c, twin));
    return without ? [{ without, with: twin }] : [];
  });
}

export function preinitSection(r: ExperimentResult): ReportSection | null {
  const snapshots = r.snapshots ?? [];
  const both = pairs(r);
  if (!both.length && !snapshots.length) return null;
  const startupWh = (c: CellSummary) =>
    r.energy?.split.find((s) => s.function === c.function && sameCell(s, c))?.startupWh ?? null;
  const snapshotOf = (c: CellSummary) =>
    snapshots.find((s) => s.function === c.function && s.runtime === c.runtime)?.snapshot;
  const median = (c: CellSummary, m: string) => c.metrics[m]?.median;
  const arrow = (a: string, b: string) => `${a} → ${b}`;

  const anyEnergy = both.some((p) => p.without.energy || p.with.energy);
  const parts: { html: string[]; md: string[] } = { html: [], md: [] };
  if (both.length) {
    const head = [
      'function',
      'input',
      'runtime',
      'mode',
      'cold start',
      'total',
      'total ratio',
      ...(r.energy ? ['start-up energy'] : []),
      ...(anyEnergy ? ['energy per invocation'] : []),
      'module size',
      'initial memory',
      'snapshot made in',
    ];
    const body = both.map(({ without, with: w }) => {
      const snap = snapshotOf(w);
      return [
        without.function,
        fmtInput(without.input),
        runtimeLabel(without.runtime),
        without.mode,
        arrow(fmtMs(median(without, 'startupMs')), fmtMs(median(w, 'startupMs'))),
        arrow(fmtMs(median(without, 'totalMs')), fmtMs(median(w, 'totalMs'))),
        fmtRatio((median(w, 'totalMs') ?? NaN) / (median(without, 'totalMs') ?? NaN)),
        ...(r.energy ? [arrow(fmtFigure(startupWh(without)), fmtFigure(startupWh(w)))] : []),
        ...(anyEnergy ? [arrow(fmtEnergy(without.energy, false), fmtEnergy(w.energy, false))] : []),
        snap ? arrow(fmtBytes(snap.originalBytes), fmtBytes(snap.snapshotBytes)) : '–',
        snap ? arrow(fmtBytes(snap.originalMemoryBytes), fmtBytes(snap.snapshotMemoryBytes)) : '–',
        snap ? `${fmtMs(snap.snapshotMs)} (${snap.tool})` : '–',
      ];
    });
    parts.md.push(mdTable(head, body));
    parts.html.push(htmlTable(head, body, 4));
    const rows = (metric: string): ChartRow[] =>
      both.flatMap(({ without, with: w }) =>
        [without, w]
          .filter((c) => c.metrics[metric])
          .map((c) => ({
            label: cellLabel(c),
            group: `${without.function}|${without.runtime}|${without.mode}|${fmtInput(without.input)}`,
            color: colorOf(c.runtime, c === w ? 'prewarmed' : c.mode),
            s: c.metrics[metric]!,
          })),
      );
    parts.html.push(logBoxChart('cold start (startupMs), without and with pre-initialisation', rows('startupMs')));
    parts.html.push(logBoxChart('total (totalMs), without and with pre-initialisation', rows('totalMs')));
  }
  const listed = snapshots.filter((s) => !both.some((p) => p.with.function === s.function));
  if (listed.length) {
    const head = ['function', 'runtime', 'module size', 'initial memory', 'snapshot made in', 'initialiser'];
    const body = listed.map((s) => [
      s.function,
      runtimeLabel(s.runtime),
      arrow(fmtBytes(s.snapshot.originalBytes), fmtBytes(s.snapshot.snapshotBytes)),
      arrow(fmtBytes(s.snapshot.originalMemoryBytes), fmtBytes(s.snapshot.snapshotMemoryBytes)),
      `${fmtMs(s.snapshot.snapshotMs)} (${s.snapshot.tool})`,
      s.snapshot.initFunc,
    ]);
    parts.md.push(mdTable(head, body));
    parts.html.push(htmlTable(head, body, 2));
  }
  const hint = both.length
    ? "Each function without its start-up work done at deploy (left of the arrow) and with it (right; the twin `<name>-preinit`, drawn lighter): medians of startupMs and totalMs, the total of the snapshot divided by the original's, " +
      (r.energy
        ? "the median start-up energy above idle (the start-up part of each invocation's window: a snapshot's grows with the data it copies, while the work it saves was in the run part), the energy of a whole invocation (the cell's figure), "
        : '') +
      "and the module that runs, its initial memory, and how long making the snapshot took at deploy. A snapshot's data is copied into every new instance, so its instantiation grows with the data while the function's own start-up work is gone."
    : "These functions started from a snapshot made at deploy (their start-up work done then: preinit, 'auto' by default). Run with preinit 'both' (nebula bench --preinit both) to measure each with and without.";
  return {
    id: 'preinit',
    title: 'Pre-initialisation',
    hint,
    html: parts.html.join(''),
    markdown: parts.md.join('\n\n'),
  };
}
