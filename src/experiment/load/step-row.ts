/**
 * The row of one load step, built once: the terminal summary, report.md, report.html, steps.csv
 * and `nebula load --json` all read it, so each figure has one value and one meaning everywhere.
 * Each column has the text the tables show and the figures behind it, under the names steps.csv
 * and the JSON use.
 */
import { fmtInput, fmtJ, fmtMs, fmtW } from '../report/format.js';
import { runtimeLabel } from '../report/kit.js';
import type { LoadResult } from './run-load.js';
import type { Percentile, StepSummary } from './summary.js';

/** A figure of a row as steps.csv and the JSON hold it (null: none). */
export type Figure = string | number | boolean | null;

/** One column of the step table. */
interface StepColumn {
  /** Its heading in the tables. */
  head: string;
  /** Right-aligned in the tables (a number). */
  numeric: boolean;
  /** The names of its figures, as steps.csv's columns and the JSON's keys. */
  keys: readonly string[];
  /** The text the tables show, and the figures (in the order of `keys`). */
  cell: (s: StepSummary) => { text: string; figures: Figure[] };
}

const finite = (v: number | null | undefined): number | null => (v != null && Number.isFinite(v) ? v : null);
/** An offered or achieved rate, arrivals a second. */
export const fmtRate = (v: number) => (Number.isFinite(v) ? `${v >= 100 ? v.toFixed(0) : v.toPrecision(3)}/s` : '–');

/**
 * A value with its 95% interval, `≥` before an upper end that is only a lower bound of it (too few
 * values above the percentile to bound it).
 */
export function withInterval(p: Percentile, fmt: (v: number) => string): string {
  if (!Number.isFinite(p.value)) return '–';
  return `${fmt(p.value)} [${fmt(p.ci95[0])}, ${p.open ? '≥' : ''}${fmt(p.ci95[1])}]`;
}

/** A latency percentile's column: the value, the interval's ends, and whether the upper end is open. */
function latencyColumn(head: string, key: string, pick: (s: StepSummary) => Percentile): StepColumn {
  return {
    head: `${head} [95%]`,
    numeric: true,
    keys: [`${key}_ms`, `${key}_lo_ms`, `${key}_hi_ms`, `${key}_open`],
    cell: (s) => {
      const p = pick(s);
      return {
        text: withInterval(p, fmtMs),
        figures: [finite(p.value), finite(p.ci95[0]), finite(p.ci95[1]), p.open],
      };
    },
  };
}

const COLUMNS: readonly StepColumn[] = [
  { head: 'function', numeric: false, keys: ['function'], cell: (s) => ({ text: s.function, figures: [s.function] }) },
  {
    head: 'input',
    numeric: false,
    keys: ['input'],
    cell: (s) => ({ text: fmtInput(s.input), figures: [JSON.stringify(s.input) ?? null] }),
  },
  {
    head: 'runtime',
    numeric: false,
    keys: ['runtime'],
    cell: (s) => ({ text: runtimeLabel(s.runtime), figures: [s.runtime] }),
  },
  { head: 'mode', numeric: false, keys: ['mode'], cell: (s) => ({ text: s.mode, figures: [s.mode] }) },
  {
    head: 'offered',
    numeric: true,
    keys: ['offered_per_s', 'arrivals', 'scheduled'],
    cell: (s) => ({ text: fmtRate(s.offeredPerS), figures: [finite(s.offeredPerS), s.arrivals, s.scheduled] }),
  },
  {
    head: 'achieved',
    numeric: true,
    keys: ['achieved_per_s', 'ok'],
    cell: (s) => ({ text: fmtRate(s.achievedPerS), figures: [finite(s.achievedPerS), s.ok] }),
  },
  latencyColumn('p50', 'p50', (s) => s.latencyMs.p50),
  latencyColumn('p90', 'p90', (s) => s.latencyMs.p90),
  latencyColumn('p99', 'p99', (s) => s.latencyMs.p99),
  latencyColumn('p99.9', 'p999', (s) => s.latencyMs.p999),
  {
    head: 'max',
    numeric: true,
    keys: ['max_ms'],
    cell: (s) => ({ text: fmtMs(s.latencyMs.max), figures: [finite(s.latencyMs.max)] }),
  },
  {
    head: 'errors',
    numeric: false,
    keys: ['failed', 'errors'],
    cell: (s) => {
      const text = Object.entries(s.errors)
        .map(([code, n]) => `${code} ${n}`)
        .join(', ');
      return { text: text || '0', figures: [s.failed, text] };
    },
  },
  {
    head: 'cold',
    numeric: true,
    keys: ['cold_share'],
    cell: (s) => ({
      text: Number.isFinite(s.coldShare) ? `${(s.coldShare * 100).toFixed(0)}%` : '–',
      figures: [finite(s.coldShare)],
    }),
  },
  {
    head: 'in flight: peak (mean)',
    numeric: true,
    keys: ['in_flight_peak', 'in_flight_mean'],
    cell: (s) => ({
      text: `${Number.isFinite(s.inFlight.peak) ? s.inFlight.peak : '–'} (${Number.isFinite(s.inFlight.mean) ? s.inFlight.mean.toFixed(1) : '–'})`,
      figures: [finite(s.inFlight.peak), finite(s.inFlight.mean)],
    }),
  },
  {
    head: 'sandboxes made',
    numeric: true,
    keys: ['sandboxes_made', 'sandboxes_fresh', 'sandboxes_prewarmed'],
    cell: ({ sandboxes: b }) => ({
      text: b.prewarmed ? `${b.made} (${b.prewarmed} prewarmed)` : String(b.made),
      figures: [b.made, b.fresh, b.prewarmed],
    }),
  },
  {
    head: 'sandboxes used',
    numeric: true,
    keys: ['sandboxes_used'],
    cell: (s) => ({
      text: s.sandboxes.used === null ? 'not reported' : String(s.sandboxes.used),
      figures: [s.sandboxes.used],
    }),
  },
  {
    head: 'cpu/inv',
    numeric: true,
    keys: ['cpu_ms_per_invocation'],
    cell: (s) => ({
      text: s.cpuMsPerInvocation === null ? '–' : fmtMs(s.cpuMsPerInvocation),
      figures: [finite(s.cpuMsPerInvocation)],
    }),
  },
  {
    head: 'energy/inv [95%]',
    numeric: true,
    keys: [
      'energy_j_per_invocation',
      'energy_j_per_invocation_lo',
      'energy_j_per_invocation_hi',
      'energy_j_per_invocation_open',
      'energy_j_per_invocation_with_idle',
      'energy_j_per_invocation_mean',
      'energy_records',
    ],
    cell: (s) => {
      const e = s.energyJPerInvocation;
      if (!e) return { text: '–', figures: [null, null, null, null, null, null, 0] };
      return {
        text: withInterval(e.aboveIdle, fmtJ),
        figures: [
          finite(e.aboveIdle.value),
          finite(e.aboveIdle.ci95[0]),
          finite(e.aboveIdle.ci95[1]),
          e.aboveIdle.open,
          finite(e.withIdle.value),
          finite(e.meanAboveIdle),
          e.n,
        ],
      };
    },
  },
  {
    head: 'power',
    numeric: true,
    keys: ['power_w', 'power_above_idle_w'],
    cell: (s) => ({
      text: s.powerW ? fmtW(s.powerW.mean) : '–',
      figures: [finite(s.powerW?.mean), finite(s.powerW?.aboveIdle)],
    }),
  },
  {
    head: 'lag p99',
    numeric: true,
    keys: ['lag_p99_ms', 'generator_behind'],
    cell: (s) => ({
      text: `${fmtMs(s.lagMs.p99)}${s.generatorBehind ? ' BEHIND' : ''}`,
      figures: [finite(s.lagMs.p99), s.generatorBehind],
    }),
  },
];

/** The headings of the step table, and which columns are numbers (`l`/`r` per column, as `textTable` takes it). */
export const STEP_HEAD: readonly string[] = COLUMNS.map((c) => c.head);
export const STEP_ALIGN = COLUMNS.map((c) => (c.numeric ? 'r' : 'l')).join('');
/** The columns of steps.csv, which are the keys of each step in `nebula load --json`'s `steps`. */
export const STEP_KEYS: readonly string[] = COLUMNS.flatMap((c) => c.keys);

/** A step's row: the text of each column, in the order of {@link STEP_HEAD}. */
export function stepCells(s: StepSummary): string[] {
  return COLUMNS.map((c) => c.cell(s).text);
}

/** A step's figures, in the order of {@link STEP_KEYS}. */
export function stepFigures(s: StepSummary): Figure[] {
  return COLUMNS.flatMap((c) => c.cell(s).figures);
}

/** A step's figures by name: one entry of `nebula load --json`'s `steps`, one line of steps.csv. */
export function stepRecord(s: StepSummary): Record<string, Figure> {
  const figures = stepFigures(s);
  return Object.fromEntries(STEP_KEYS.map((k, i) => [k, figures[i] ?? null]));
}

/** What the energy column holds, and whether the meter only estimated the power it shares out. */
export function energyCaption(r: LoadResult): string {
  if (!r.meter) return 'Energy per invocation: none (the run had no meter).';
  return `Energy per invocation: the median of the records' shares of the power above idle (docs/energy.md#shares), [95% interval]${r.meter.estimate ? '; the meter only estimates power' : ''}.`;
}

/** The generator's largest lag over the steps (the lag column's), and whether it fell behind its schedule. */
export function lagCaption(r: LoadResult): string {
  return `The generator's own lag: p99 at most ${fmtMs(r.generator.lagP99Ms)} over the steps${r.generator.behind ? ' (it FELL BEHIND its schedule in some step; latencies still count from the intended times)' : ''}.`;
}
