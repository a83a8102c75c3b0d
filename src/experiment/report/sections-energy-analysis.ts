/**
 * The energy sections of report.md and report.html: start-up and run energy, the cost of
 * keeping sandboxes warm, break-even keep-alive times and the advisor at a few arrival rates.
 * Empty when the experiment had no energy step.
 */
import { htmlTable, mdTable, runtimeLabel, type ReportSection } from './kit.js';
import { advise, type Advice, type AdvisorFigure } from '../../energy/advisor.js';
import type { EnergyAnalysis } from '../analysis/energy-analysis.js';
import { fmtAboveIdle, fmtInput, fmtMs, fmtWh } from './format.js';
import type { ExperimentResult } from '../analysis/summary.js';

/** Arrival rates the reports show the advisor's answer for, per second. */
const REPORT_RATES = [0.01, 0.1, 1, 10];

/**
 * A figure above idle and its interval, `1.23 µWh [900 nWh, 1.50 µWh]`, never a bare negative: a
 * figure whose interval reaches zero (or, without one, at or below zero) is not distinguishable
 * from idle, one wholly below zero is `below idle by ...` (see `fmtAboveIdle`).
 */
export function fmtFigure(f: AdvisorFigure | null, fmt: (x: number) => string = fmtWh): string {
  if (!f) return '–';
  return fmtAboveIdle(f.value, f.ci95, fmt);
}

const fmtW = (w: number) => (Number.isFinite(w) ? `${(w * 1000).toPrecision(3)} mW` : '–');
/** A break-even keep-alive: a lower bound ("at least") when the keep-warm power is not distinguishable from idle. */
export const fmtBreakEven = (b: { seconds: number; atLeast: boolean }) =>
  b.atLeast ? `at least ${fmtS(b.seconds)} (keep-warm power not distinguishable from idle)` : fmtS(b.seconds);
const fmtPowerCi = (w: number, ci: [number, number]) => fmtAboveIdle(w, ci, fmtW);
export const fmtS = (s: number | null) =>
  s === null
    ? 'always'
    : !Number.isFinite(s)
      ? '∞'
      : s === 0
        ? '0 s'
        : s < 1
          ? fmtMs(s * 1000)
          : s < 120
            ? `${s.toPrecision(3)} s`
            : s < 7200
              ? `${(s / 60).toPrecision(3)} min`
              : `${(s / 3600).toPrecision(3)} h`;
/** A positive quantity with its interval, never a negative bound: one reaching zero is `not distinguishable from zero (± x)`. */
function fmtAboveZero(v: number, ci: [number, number] | null | undefined, fmt: (x: number) => string): string {
  if (!ci) return fmt(v);
  if (ci[0] > 0) return `${fmt(v)} [${fmt(ci[0])}, ${fmt(ci[1])}]`;
  return `not distinguishable from zero (± ${fmt(Math.max(Math.abs(ci[0]), Math.abs(ci[1])))})`;
}
const fmtMiB = (b: number | null) => (b === null || !Number.isFinite(b) ? '–' : `${(b / 1048576).toPrecision(3)} MiB`);
const rate = (r: number) => (r >= 1 ? `${r}/s` : `${r * 60}/min`);

interface Table {
  title: string;
  hint?: string;
  head: string[];
  rows: string[][];
}

/** The energy tables, shared by both renderers. */
function tables(e: EnergyAnalysis): Table[] {
  const est = e.estimate ? ' (ESTIMATED: CPU-utilisation model, not a measurement)' : '';
  const out: Table[] = [];
  out.push({
    title: `Start-up and run parts of each invocation${est}`,
    hint: 'Above idle, in Wh like the energy table. Medians over each cell’s records of the part of its window before the function started (start-up) and from its start to its end (run), with the interval of the median. A part with fewer than two meter samples is interpolated between samples, not measured ("measured" counts the parts that were): for invocations shorter than the meter’s interval these parts say little, and the cell’s energy figure (energy table) comes from a batch instead.',
    head: ['function', 'input', 'runtime', 'mode', 'n', 'start-up part', 'run part', 'measured start-up / run'],
    rows: e.split.map((s) => [
      s.function,
      fmtInput(s.input),
      runtimeLabel(s.runtime),
      s.mode,
      String(s.n),
      fmtFigure(s.startupWh),
      fmtFigure(s.execWh),
      `${s.startupMeasured} / ${s.execMeasured}`,
    ]),
  });
  if (e.startup.length)
    out.push({
      title: `Start-up energy${est}`,
      hint: 'The cold cell’s energy figure minus the warm cell’s (a reused sandbox: the run alone), both as the energy table shows them, with a 95% interval (half-widths added in quadrature). Where no warm cell ran, the prewarmed cell is subtracted instead, which understates it: a prewarmed pool refills in the background inside a batch. The advisor uses cold - warm only.',
      head: ['function', 'input', 'runtime', 'reference', 'start-up energy [95%]', 'from'],
      rows: e.startup.map((b) => [
        b.function,
        fmtInput(b.input),
        runtimeLabel(b.runtime),
        b.reference,
        fmtFigure(b.startupWh),
        b.startupWh.source,
      ]),
    });
  if (e.keepWarm.length)
    out.push({
      title: `Keeping sandboxes warm${est}`,
      hint: 'Power and memory with K kept-warm sandboxes; a straight line over K gives the cost per kept sandbox (95% interval). Memory is the drop in the host’s MemAvailable.',
      head: [
        'runtime',
        'K measured',
        'power per sandbox [95%]',
        'power at K = 0',
        'memory per sandbox [95%]',
        'kept after the windows',
      ],
      rows: e.keepWarm.map((k) => [
        runtimeLabel(k.runtime),
        [...new Set(k.points.map((p) => p.k))].join(', '),
        fmtPowerCi(k.wattsPerSandbox, k.wattsCi95),
        `${k.idleW.toFixed(2)} W`,
        k.bytesPerSandbox === null ? '–' : fmtAboveZero(k.bytesPerSandbox, k.bytesCi95, fmtMiB),
        `${k.reusedAfter} of ${k.heldMax}`,
      ]),
    });
  const advice = REPORT_RATES.map((r) => advise(e.inputs, r));
  if (advice[0]!.breakEven.length)
    out.push({
      title: `Break-even keep-alive${est}`,
      hint: 'Start-up energy (cold - warm, above) / keep-warm power: keeping a sandbox warm saves energy when invocations arrive more often than once per this time.',
      head: ['function', 'input', 'runtime', 'break-even'],
      rows: advice[0]!.breakEven.map((b) => [b.function, fmtInput(b.input), runtimeLabel(b.runtime), fmtBreakEven(b)]),
    });
  if (advice.some((a) => a.best.length))
    out.push({
      title: `Least energy per invocation by arrival rate${est}`,
      hint: 'The advisor (Poisson arrivals, one sandbox; docs/energy.md): the option with the least expected energy per invocation, above idle. A cold option costs exactly the cold cell’s figure in the energy table; warm mixes the cold and warm figures by the cold share and adds the kept sandbox’s power. `nebula advise DIR --rate 2/s --p99 50ms` adds a latency target.',
      head: [
        'rate',
        'function',
        'input',
        'runtime',
        'mode',
        'keep-alive',
        'cold share',
        'energy per invocation above idle',
        'p99 total',
      ],
      rows: advice.flatMap((a: Advice) =>
        a.best.map((o) => [
          rate(a.ratePerS),
          o.function,
          fmtInput(o.input),
          runtimeLabel(o.runtime),
          o.mode,
          o.mode === 'warm' ? fmtS(o.keepAliveS) : o.mode === 'prewarmed' ? 'always' : '–',
          `${(o.coldShare * 100).toFixed(o.coldShare < 0.1 ? 1 : 0)}%`,
          fmtAboveIdle(o.energyPerInvocationWh, o.ci95Wh, fmtWh),
          fmtMs(o.p99Ms ?? undefined),
        ]),
      ),
    });
  return out;
}

/** The energy step's sections (start-up and run parts, keep-warm cost, break-even, the advisor), in report order. */
export function energyAnalysisSections(r: ExperimentResult): ReportSection[] {
  if (!r.energy) return [];
  return tables(r.energy).map((t, i) => ({
    id: `energy-analysis-${i + 1}`,
    title: t.title,
    ...(t.hint ? { hint: t.hint } : {}),
    html: htmlTable(t.head, t.rows),
    markdown: mdTable(t.head, t.rows),
  }));
}
