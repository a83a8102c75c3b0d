/**
 * An experiment's summary: per-cell statistics of every metric, one energy figure per cell, the
 * output check, and the comparison of each runtime against the baseline runtime. Renderers,
 * `nebula report` and `nebula compare` read this module, never the runner.
 */
import type { RuntimeKind } from '../../runtimes/index.js';
import { keyTable } from '../../own-keys.js';
import { medianRatio, summarize, type Summary } from '../../stats.js';
import type {
  Baseline,
  BatchEnergy,
  EnergyLedger,
  FunctionInfo,
  InvocationMode,
  InvocationRecord,
  InvocationResources,
} from '../../types.js';
import type { RunLoad } from '../run/machine.js';
import type { ResolvedConfig } from '../run/config.js';
import type { EnergyAnalysis } from './energy-analysis.js';
import { energyFigure, energyRatio, figureMetric, figureSource, type EnergyFigure } from './energy-figures.js';
import type { MicroResult } from '../run/micro.js';
import { checkOutputs, type OutputCheck } from './output-check.js';
import { cellKey, type Cell } from '../cell.js';
import type { RunSnapshot } from '../run/preinit-variants.js';

export interface CellSummary extends Cell {
  ok: number;
  failed: number;
  /** Failed records by error code. */
  errors: Record<string, number>;
  /** The first failed record's error: what the terminal and the reports show of a failing cell. */
  firstError?: { code: string; message: string };
  /** Successful records whose result differs from the reference (see `outputCheck`). */
  mismatched: number;
  metrics: Record<string, Summary>;
  batch?: BatchEnergy;
  /** Energy of one invocation: the one figure reports, ratios and the terminal show. */
  energy?: EnergyFigure;
}

/** The metrics compared between runtimes: the three timings, and the cells' energy figures. */
type ComparedMetric = 'startupMs' | 'execMs' | 'totalMs' | 'energy';

/** One runtime against the baseline runtime, for one cell and metric. */
export interface Comparison {
  function: string;
  mode: InvocationMode;
  input: unknown;
  metric: ComparedMetric;
  /** What the ratio divides, in words (e.g. `median startupMs per invocation`). */
  quantity: string;
  /** The runtime compared (numerator). */
  runtime: RuntimeKind;
  /** The baseline runtime (denominator). */
  baseline: RuntimeKind;
  /** `runtime` / `baseline`, with a 95% interval. */
  ratio: number;
  ci95: [number, number];
  /** `bootstrap`: percentile bootstrap of the ratio of medians; `bounds`: from both cells' 95% intervals (energy with a batch). */
  interval: 'bootstrap' | 'bounds';
  /** Energy only: the statistic each side is (`median of 20 records`, `batch mean of 880`). */
  sources?: { runtime: string; baseline: string };
}

/** Everything an experiment produced (also written as summary.json). */
export interface ExperimentResult {
  startedAt: string;
  finishedAt: string;
  /** True when the run stopped early (Ctrl-C, SIGTERM, or killed before its summary was written). */
  interrupted: boolean;
  config: ResolvedConfig;
  machine: Record<string, string | number>;
  meter: { name: string; estimate: boolean; intervalMs: number } | null;
  baseline: Baseline | null;
  notes: string[];
  cells: CellSummary[];
  comparisons: Comparison[];
  /** Whether every function gave the same output for the same input everywhere it ran. */
  outputCheck: OutputCheck;
  micro: MicroResult[];
  /** Start-up and run energy, start-up energy from batches, keep-warm cost and break-even (with a meter). */
  energy?: EnergyAnalysis;
  /** The energy of the measured runs divided up: the records' shares, unattributed, and their balance (with a meter). */
  ledger?: EnergyLedger;
  /** The functions run, with what exactly each runtime ran: path, sha256 digest, image and image id. */
  functions?: FunctionInfo[];
  /** How busy the machine was at the start and the end of the run (1-minute load average). */
  load?: RunLoad;
  /** The snapshots the run's pre-initialised functions started from, against their originals. */
  snapshots?: RunSnapshot[];
}

const METRICS = [
  'startupMs',
  'execMs',
  'totalMs',
  'cpuMs',
  'maxMemoryBytes',
  'avgPowerW',
  'isolatedPowerW',
  'energyWh',
  'isolatedEnergyWh',
  'shareWh',
] as const;
export type Metric = (typeof METRICS)[number];
const TIMINGS = ['startupMs', 'execMs', 'totalMs'] as const;

/** A metric of a record; NaN when the record lacks it (no energy, energy not settled, a figure not read). */
export function metricOf(r: InvocationRecord, m: Metric): number {
  if (m === 'startupMs' || m === 'execMs' || m === 'totalMs') return r.timing[m];
  // Records written before resources existed have none.
  if (m === 'cpuMs' || m === 'maxMemoryBytes')
    return (r.resources as InvocationResources | undefined)?.[m] ?? Number.NaN;
  if (m === 'shareWh') {
    const j = r.energy?.shareJ;
    return typeof j === 'number' ? j / 3600 : Number.NaN;
  }
  const v = (r.energy as unknown as Record<string, unknown> | null | undefined)?.[m];
  return typeof v === 'number' ? v : Number.NaN;
}

/** A stable key of a record's cell. */
export function recordCellKey(r: InvocationRecord): string {
  return cellKey({ function: r.function, runtime: r.runtime, mode: r.mode, input: r.input });
}

/** What goes into a summary beyond the records. */
export interface SummarizeOptions {
  /** Seed of the bootstrap. Default 1. */
  seed?: number;
  /** The runtime the others are divided by. */
  baseline?: RuntimeKind;
  /** Batch energy per cell, by `cellKey`. */
  batches?: ReadonlyMap<string, BatchEnergy>;
  /** True when a baseline was measured (energy figures are above idle). Default true. */
  isolated?: boolean;
  /** True when the meter only estimates. */
  estimate?: boolean;
  /** Energy figures from the records' shares (invocations overlapped: concurrency above 1). Default false. */
  shares?: boolean;
}

/** Summaries, energy figures, output check and baseline comparisons from raw records (also used to re-render reports). */
export function summarizeRecords(
  records: InvocationRecord[],
  cells: Cell[],
  options: SummarizeOptions = {},
): { cells: CellSummary[]; comparisons: Comparison[]; outputCheck: OutputCheck } {
  const seed = options.seed ?? 1;
  const byKey = new Map<string, InvocationRecord[]>();
  for (const r of records) {
    const key = recordCellKey(r);
    (byKey.get(key) ?? byKey.set(key, []).get(key)!).push(r);
  }
  const variantOf = new Map(cells.flatMap((c) => (c.variantOf ? [[c.function, c.variantOf] as const] : [])));
  const outputCheck = checkOutputs(records, options.baseline, variantOf);
  const bad = new Set(outputCheck.mismatches.flatMap((m) => m.recordIds));
  const out: CellSummary[] = cells.map((c) => {
    const recs = byKey.get(cellKey(c)) ?? [];
    const ok = recs.filter((r) => r.ok);
    const errors = keyTable<number>();
    for (const r of recs) {
      if (r.ok) continue;
      const code = String(r.error?.code ?? 'UNKNOWN');
      errors[code] = (errors[code] ?? 0) + 1;
    }
    const metrics: Record<string, Summary> = {};
    for (const m of METRICS) {
      const s = summarize(ok.map((r) => metricOf(r, m)));
      if (s.n > 0) metrics[m] = s;
    }
    const batch = options.batches?.get(cellKey(c));
    const cell: CellSummary = {
      ...c,
      ok: ok.length,
      failed: recs.length - ok.length,
      errors,
      mismatched: ok.filter((r) => bad.has(r.id)).length,
      metrics,
    };
    if (batch) cell.batch = batch;
    const failure = recs.find((r) => !r.ok)?.error;
    if (failure) cell.firstError = { code: String(failure.code), message: String(failure.message ?? '') };
    const interpolated =
      ok.filter((r) => (r.energy as { quality?: string } | null)?.quality === 'interpolated').length > ok.length / 2;
    const energy = energyFigure(
      cell,
      options.isolated ?? true,
      options.estimate ?? false,
      interpolated,
      options.shares ?? false,
    );
    if (energy) cell.energy = energy;
    return cell;
  });
  const comparisons: Comparison[] = [];
  const baseline = options.baseline;
  if (baseline) {
    const summaries = new Map(out.map((c) => [cellKey(c), c]));
    for (const base of cells.filter((c) => c.runtime === baseline)) {
      // A pre-initialised twin is compared with its function on the baseline runtime.
      const others = cells.filter(
        (c) =>
          c.runtime !== baseline &&
          cellKey({ ...c, function: c.variantOf ?? c.function, runtime: baseline }) === cellKey(base),
      );
      const a = (byKey.get(cellKey(base)) ?? []).filter((r) => r.ok);
      for (const other of others) {
        const b = (byKey.get(cellKey(other)) ?? []).filter((r) => r.ok);
        const row = { function: other.function, mode: base.mode, input: base.input, runtime: other.runtime, baseline };
        for (const metric of TIMINGS) {
          const { ratio, ci95 } = medianRatio(
            a.map((r) => metricOf(r, metric)),
            b.map((r) => metricOf(r, metric)),
            seed,
          );
          if (Number.isFinite(ratio))
            comparisons.push({
              ...row,
              metric,
              quantity: `median ${metric} per invocation`,
              ratio,
              ci95,
              interval: 'bootstrap',
            });
        }
        const num = summaries.get(cellKey(other))?.energy;
        const den = summaries.get(cellKey(base))?.energy;
        if (!num || !den) continue;
        const field = figureMetric(num);
        const e = energyRatio(num, den, {
          num: b.map((r) => metricOf(r, field)),
          den: a.map((r) => metricOf(r, field)),
          seed,
        });
        if (e)
          comparisons.push({
            ...row,
            metric: 'energy',
            quantity: `energy ${num.isolated ? 'above idle' : '(idle included)'} per invocation: ${other.runtime} ${figureSource(num)} / ${baseline} ${figureSource(den)}`,
            sources: { runtime: figureSource(num), baseline: figureSource(den) },
            ...e,
          });
      }
    }
  }
  return { cells: out, comparisons, outputCheck };
}
