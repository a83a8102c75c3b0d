/**
 * An experiment's summary: per-cell statistics of every metric, and the comparison of each
 * runtime against the baseline runtime. Renderers and `nebula report` read this module, never
 * the runner.
 */
import type { RuntimeKind } from '../runtimes/index.js';
import { medianRatio, summarize, type Summary } from '../stats.js';
import type { Baseline, BatchEnergy, InvocationMode, InvocationRecord } from '../types.js';
import type { ResolvedConfig } from './config.js';
import type { EnergyAnalysis } from './energy-analysis.js';
import type { MicroResult } from './micro.js';
import { cellKey, type Cell } from './schedule.js';

export interface CellSummary extends Cell {
  ok: number;
  failed: number;
  errors: Record<string, number>;
  metrics: Record<string, Summary>;
  batch?: BatchEnergy;
}

/** One runtime against the baseline runtime, for one cell and metric. */
export interface Comparison {
  function: string;
  mode: InvocationMode;
  input: unknown;
  metric: string;
  /** The runtime compared (numerator). */
  runtime: RuntimeKind;
  /** The baseline runtime (denominator). */
  baseline: RuntimeKind;
  /** median of `runtime` / median of `baseline`, with a 95% bootstrap interval. */
  ratio: number;
  ci95: [number, number];
}

/** Everything an experiment produced (also written as summary.json). */
export interface ExperimentResult {
  startedAt: string;
  finishedAt: string;
  interrupted: boolean;
  config: ResolvedConfig;
  machine: Record<string, string | number>;
  meter: { name: string; estimate: boolean; intervalMs: number } | null;
  baseline: Baseline | null;
  notes: string[];
  cells: CellSummary[];
  comparisons: Comparison[];
  micro: MicroResult[];
  /** Start-up and run energy, keep-warm cost, the advisor's inputs (with a meter; `energy-analysis.ts`). */
  energy?: EnergyAnalysis;
}

export const METRICS = ['startupMs', 'execMs', 'totalMs', 'avgPowerW', 'isolatedPowerW', 'energyWh', 'isolatedEnergyWh'] as const;
export type Metric = (typeof METRICS)[number];
/** The metrics compared between runtimes. */
export const COMPARED: readonly Metric[] = ['startupMs', 'execMs', 'totalMs', 'energyWh'];

export function metricOf(r: InvocationRecord, m: Metric): number {
  if (m === 'startupMs' || m === 'execMs' || m === 'totalMs') return r.timing[m];
  return r.energy ? r.energy[m] : Number.NaN;
}

/** Summaries and baseline comparisons from raw records (also used to re-render reports). */
export function summarizeRecords(
  records: InvocationRecord[],
  cells: Cell[],
  options: { seed?: number; baseline?: RuntimeKind } = {},
): { cells: CellSummary[]; comparisons: Comparison[] } {
  const seed = options.seed ?? 1;
  const byKey = new Map<string, InvocationRecord[]>();
  for (const r of records) {
    const key = cellKey({ function: r.function, runtime: r.runtime, mode: r.mode, input: r.input });
    (byKey.get(key) ?? byKey.set(key, []).get(key)!).push(r);
  }
  const out: CellSummary[] = cells.map((c) => {
    const recs = byKey.get(cellKey(c)) ?? [];
    const ok = recs.filter((r) => r.ok);
    const errors: Record<string, number> = {};
    for (const r of recs) if (!r.ok) errors[r.error?.code ?? 'UNKNOWN'] = (errors[r.error?.code ?? 'UNKNOWN'] ?? 0) + 1;
    const metrics: Record<string, Summary> = {};
    for (const m of METRICS) {
      const s = summarize(ok.map((r) => metricOf(r, m)));
      if (s.n > 0) metrics[m] = s;
    }
    return { ...c, ok: ok.length, failed: recs.length - ok.length, errors, metrics };
  });
  const comparisons: Comparison[] = [];
  const baseline = options.baseline;
  if (baseline) {
    for (const base of cells.filter((c) => c.runtime === baseline)) {
      const others = cells.filter((c) => c.runtime !== baseline && cellKey({ ...c, runtime: baseline }) === cellKey(base));
      const a = (byKey.get(cellKey(base)) ?? []).filter((r) => r.ok);
      for (const other of others) {
        const b = (byKey.get(cellKey(other)) ?? []).filter((r) => r.ok);
        for (const metric of COMPARED) {
          const { ratio, ci95 } = medianRatio(a.map((r) => metricOf(r, metric)), b.map((r) => metricOf(r, metric)), seed);
          if (Number.isFinite(ratio))
            comparisons.push({ function: base.function, mode: base.mode, input: base.input, metric, runtime: other.runtime, baseline, ratio, ci95 });
        }
      }
    }
  }
  return { cells: out, comparisons };
}
