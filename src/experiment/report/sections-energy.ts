/** The report section on energy per invocation: one figure per cell, as a dot with its 95% interval. */
import { logIntervalChart, type IntervalRow } from './charts.js';
import { belowIdle, fmtEnergy, figureSource } from '../analysis/energy-figures.js';
import { fmtInput, fmtW, fmtWh, tickWh } from './format.js';
import { cellLabel, colorOf, esc, htmlTable, mdTable, runtimeLabel, type ReportSection } from './kit.js';
import type { ExperimentResult } from '../analysis/summary.js';

/** The caveat of an estimating meter, printed as prominently as its figures. */
export function estimateWarning(r: ExperimentResult): string | undefined {
  if (!r.meter?.estimate) return undefined;
  return `ESTIMATE: these energy figures come from CPU utilisation (${r.meter.name}), not from a power meter. Compare runtimes on this machine with them; do not quote them as measured energy.`;
}

/** What every energy figure is, and how to read the chart. */
function legend(r: ExperimentResult): string {
  const base = r.baseline
    ? `above the idle baseline (${fmtW(r.baseline.powerW)}, measured before the runs)`
    : 'including idle power (no baseline was measured)';
  const shares = r.cells.some((c) => c.energy?.shares);
  const sharing = shares
    ? `Invocations ran ${(r.config as { concurrency?: number }).concurrency ?? 'several'} at a time, so each figure is the median of the records' shares: in each meter interval the power above idle is divided among the invocations running by their CPU time there, and what none of them used (the host, the engine, other programs) is left out; the records' window figures would count each other's power (docs/energy.md#shares). `
    : '';
  return (
    sharing +
    `Energy one invocation draws ${base}, in Wh. From a batch (mean per invocation over back-to-back invocations for a window of many meter samples) when one invocation is shorter than three meter intervals, else the median of the per-record values. ` +
    'The 95% interval: batch, Student t over sub-windows; records, order statistics of the median. ' +
    '"Not distinguishable from idle (± x)": the interval reaches zero, so the invocation drew no energy this meter can tell from idle, up to x. ' +
    '"Below idle by x": the whole interval is below zero, so the idle baseline was above the power drawn during the runs (see the note at the top). ' +
    'In report.html each figure is a dot with its interval as whiskers on a log axis (equal distances are equal ratios); a cell not distinguishable from idle is an open circle at the left edge with a dashed line to its upper bound. ' +
    '"Interpolated records": their windows were shorter than the meter\'s sampling, so their energy is interpolated between samples; batches exist to avoid that. ' +
    'Ratios between runtimes use these same figures.'
  );
}

/** The successful records' window figures (above the baseline when there is one) summed, J. */
function windowsJ(r: ExperimentResult): number {
  let wh = 0;
  for (const c of r.cells) {
    const m = c.metrics[r.baseline ? 'isolatedEnergyWh' : 'energyWh'];
    if (m) wh += m.mean * m.n;
  }
  return wh * 3600;
}

/** The books of the measured runs, in one sentence (docs/energy.md#shares). */
function ledgerText(r: ExperimentResult): string | undefined {
  const l = r.ledger;
  if (!l || !(l.aboveBaselineJ > 0) || !Number.isFinite(l.balance)) return undefined;
  const pct = (j: number) => `${((100 * j) / l.aboveBaselineJ).toFixed(1)}%`;
  return (
    `Energy ledger of the measured runs: ${fmtWh(l.aboveBaselineJ / 3600)} above the baseline, of which the ${l.invocations} records' shares ${fmtWh(l.sharesJ / 3600)} (${pct(l.sharesJ)}) ` +
    `and unattributed ${fmtWh(l.unattributedJ / 3600)} (${pct(l.unattributedJ)}: the host process, the container engine, other programs${l.withoutCpu ? `, ${l.withoutCpu} records without a CPU figure` : ''}); ` +
    `shares plus unattributed over the energy above the baseline: ${l.balance.toFixed(4)}. The successful records' window figures together: ${fmtWh(windowsJ(r) / 3600)} (each holds whatever else ran in its window).`
  );
}

export function energySection(r: ExperimentResult): ReportSection | null {
  if (!r.meter) return null;
  const cells = r.cells.filter((c) => c.energy);
  const warn = estimateWarning(r);
  if (!cells.length)
    return {
      id: 'energy',
      title: 'Energy per invocation',
      ...(warn ? { warn } : {}),
      html: '<p>No invocation has an energy figure (see the notes).</p>',
      markdown: 'No invocation has an energy figure (see the notes).',
    };
  const quantity = r.baseline ? 'energy above idle per invocation' : 'energy per invocation (idle included)';
  const chartRows: IntervalRow[] = cells.map((c) => {
    const f = c.energy!;
    return {
      label: cellLabel(c),
      group: c.function,
      color: colorOf(c.runtime, c.mode),
      value: f.valueWh,
      ci95: f.ci95Wh,
      aboveZero: f.aboveIdle,
      text: f.aboveIdle ? fmtWh(f.valueWh) : belowIdle(f) ? 'below idle' : 'not distinguishable from idle',
    };
  });
  const head = [
    'function',
    'input',
    'runtime',
    'mode',
    `${quantity}${warn ? ' (ESTIMATE)' : ''} [95% interval]`,
    'from',
    'avg power',
    'energy incl. idle',
  ];
  const body = cells.map((c) => [
    c.function,
    fmtInput(c.input),
    runtimeLabel(c.runtime),
    c.mode,
    fmtEnergy(c.energy),
    figureSource(c.energy!),
    fmtW(c.batch?.avgPowerW ?? c.metrics.avgPowerW?.median),
    fmtWh(c.batch?.energyPerInvocationWh ?? c.metrics.energyWh?.median),
  ]);
  const books = ledgerText(r);
  return {
    id: 'energy',
    title: `Energy per invocation${warn ? ' (ESTIMATE)' : ''}`,
    hint: legend(r),
    ...(warn ? { warn } : {}),
    html:
      logIntervalChart(`${quantity}${warn ? ' (ESTIMATE)' : ''}, 95% interval`, chartRows, tickWh) +
      htmlTable(head, body, 6) +
      (books ? `<p>${esc(books)}</p>` : ''),
    markdown: mdTable(head, body) + (books ? `\n\n${books}` : ''),
  };
}
