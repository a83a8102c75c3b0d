/**
 * Two recorded runs side by side (`nebula compare A B`): per cell present in both, the medians of
 * A and B, the ratio B / A with a 95% interval, and a Mann-Whitney U test of whether B's values
 * tend to differ from A's, with Holm's correction over all the tests made. The intervals and
 * tests cover the variation between invocations within each run, not what changes from one run
 * to the next, so a verdict ("B higher", "B lower") is withheld where the runs did not share
 * their conditions (machine, load, meter, idle baseline) or where a side is one batch.
 */
import { own } from '../../own-keys.js';
import { mannWhitney, medianRatio, summarize } from '../../stats.js';
import type { InvocationRecord } from '../../types.js';
import { energyRatio, figureMetric, figureSource } from './energy-figures.js';
import { fmtInput } from '../report/format.js';
import { loadRun, type LoadedRun } from '../run-folder.js';
import { cellKey, type Cell } from '../cell.js';
import { metricOf, recordCellKey, type CellSummary, type ExperimentResult } from './summary.js';

/** One cell and metric in both runs. */
export interface CompareRow extends Cell {
  metric: 'startupMs' | 'execMs' | 'totalMs' | 'energy';
  /** A's and B's figure (median per invocation; energy: the cell's energy figure), ms or Wh. */
  a: number;
  b: number;
  /** A's and B's 95% intervals of those figures. */
  aCi95: [number, number];
  bCi95: [number, number];
  nA: number;
  nB: number;
  /** B / A, with a 95% interval (`bootstrap` of the medians, or `bounds` of the two intervals when energy comes from a batch). */
  ratio: number;
  ci95: [number, number];
  interval: 'bootstrap' | 'bounds';
  /** Two-sided Mann-Whitney U p value (NaN when a side has no per-record values, e.g. a batch). */
  p: number;
  /** `p` after Holm's correction over every test of the comparison. */
  pAdjusted: number;
  /** `pAdjusted < 0.05`; where there is no test (a batch side), the interval of the ratio excludes 1. */
  significant: boolean;
  /**
   * What the row says: `higher` / `lower` (B against A, significant), `same` (no clear
   * difference), or `withheld` when the interval cannot speak for the two runs (`withheld` says why).
   */
  verdict: 'higher' | 'lower' | 'same' | 'withheld';
  withheld?: string;
  /** Energy: what each side's figure is. */
  sources?: { a: string; b: string };
}

/** Two runs compared. */
export interface RunComparison {
  a: RunInfo;
  b: RunInfo;
  rows: CompareRow[];
  /** Cells only one run has (`fib(30) wasm cold`). */
  onlyA: string[];
  onlyB: string[];
  /** What differs between the runs besides the figures (machine, meter, repetitions), and each run's own notes. */
  notes: string[];
  /** What the intervals cover, in one sentence. */
  covers: string;
}

/** What every interval and test of a comparison covers. */
const COVERS =
  "The intervals and tests cover the variation between invocations within each run (each run's records resampled), not what changes from one run to the next (machine load, temperature, background work, the meter and its idle baseline): a verdict is given only where both runs share their machine, load, meter and baseline, and never for energy from a batch, whose interval covers its own sub-windows only.";

/** Loads closer than this (1-minute load average, in runnable processes) count as the same: a quarter of the cores, at least 0.5. */
const sameLoad = (cores: number) => Math.max(0.5, cores / 4);

interface RunInfo {
  dir: string;
  startedAt: string;
  interrupted: boolean;
  records: number;
}

const TIMINGS = ['startupMs', 'execMs', 'totalMs'] as const;
const label = (c: Cell) => `${c.function}(${fmtInput(c.input)}) ${c.runtime} ${c.mode}`;

/** Holm's step-down correction of p values (NaN stays NaN and is not counted). */
export function holm(ps: number[]): number[] {
  const idx = ps
    .map((p, i) => [p, i] as const)
    .filter(([p]) => Number.isFinite(p))
    .sort((x, y) => x[0] - y[0]);
  const out = ps.map(() => Number.NaN);
  let running = 0;
  idx.forEach(([p, i], rank) => {
    running = Math.max(running, Math.min(1, (idx.length - rank) * p));
    out[i] = running;
  });
  return out;
}

/** Why no timing or energy verdict can be given for these two runs (empty when they shared their conditions). */
function unshared(a: ExperimentResult, b: ExperimentResult): { timing: string[]; energy: string[] } {
  const timing: string[] = [];
  const energy: string[] = [];
  const machineKeys = ['cpu', 'cores', 'memoryGiB', 'os'];
  if (machineKeys.some((k) => String(a.machine[k]) !== String(b.machine[k])))
    timing.push('the runs are from different machines');
  const mean = (l: ExperimentResult['load']) => (l ? (l.start + (l.end ?? l.start)) / 2 : undefined);
  const la = mean(a.load);
  const lb = mean(b.load);
  const cores = Number(a.machine.cores) || 1;
  if (la !== undefined && lb !== undefined && Math.abs(la - lb) > sameLoad(cores))
    timing.push(`the machine's load differed (load average A ${la.toFixed(1)}, B ${lb.toFixed(1)} on ${cores} cores)`);
  const meter = (r: ExperimentResult) => (r.meter ? `${r.meter.name}${r.meter.estimate ? ' (estimate)' : ''}` : 'none');
  if (meter(a) !== meter(b)) energy.push(`the meters differ (A ${meter(a)}, B ${meter(b)})`);
  const ba = a.baseline;
  const bb = b.baseline;
  if (ba && bb) {
    const noise = 2 * Math.hypot(ba.stdW || 0, bb.stdW || 0);
    const tolerance = Math.max(noise, 0.02 * Math.max(ba.powerW, bb.powerW));
    if (Math.abs(ba.powerW - bb.powerW) > tolerance)
      energy.push(`the idle baselines differ (A ${ba.powerW.toFixed(2)} W, B ${bb.powerW.toFixed(2)} W)`);
  }
  return { timing, energy: [...timing, ...energy] };
}

function differences(a: ExperimentResult, b: ExperimentResult): string[] {
  const notes: string[] = [];
  for (const k of new Set([...Object.keys(a.machine), ...Object.keys(b.machine)]))
    if (String(own(a.machine, k)) !== String(own(b.machine, k)))
      notes.push(`${k} differs: A ${own(a.machine, k) ?? '?'}, B ${own(b.machine, k) ?? '?'}.`);
  const meter = (r: ExperimentResult) => (r.meter ? `${r.meter.name}${r.meter.estimate ? ' (estimate)' : ''}` : 'none');
  if (meter(a) !== meter(b)) notes.push(`meter differs: A ${meter(a)}, B ${meter(b)}.`);
  if (a.config.repetitions !== b.config.repetitions)
    notes.push(`repetitions differ: A ${a.config.repetitions}, B ${b.config.repetitions}.`);
  if (!a.load || !b.load)
    notes.push(
      `the machine's load was not recorded for ${!a.load && !b.load ? 'either run' : !a.load ? 'A' : 'B'}: the verdicts assume it was the same.`,
    );
  else {
    const cores = Number(a.machine.cores) || 1;
    for (const [n, r] of [
      ['A', a],
      ['B', b],
    ] as const)
      if (Math.max(r.load!.start, r.load!.end ?? 0) > cores)
        notes.push(
          `${n} ran on a busy machine (load average up to ${Math.max(r.load!.start, r.load!.end ?? 0).toFixed(1)} on ${cores} cores): other programs' work moves its figures from one run to the next.`,
        );
  }
  if (a.interrupted) notes.push('A was interrupted: partial results.');
  if (b.interrupted) notes.push('B was interrupted: partial results.');
  for (const [n, r] of [
    ['A', a],
    ['B', b],
  ] as const)
    for (const t of r.notes) notes.push(`${n}: ${t}`);
  return notes;
}

/**
 * Compares run B against run A (ratios are B / A).
 * @throws UsageError `INVALID_CONFIG` when a folder holds no experiment.
 */
export function compareRuns(dirA: string, dirB: string, seed = 1): RunComparison {
  const A = loadRun(dirA);
  const B = loadRun(dirB);
  const group = (run: LoadedRun) => {
    const m = new Map<string, InvocationRecord[]>();
    for (const r of run.records)
      if (r.ok) (m.get(recordCellKey(r)) ?? m.set(recordCellKey(r), []).get(recordCellKey(r))!).push(r);
    return m;
  };
  const ra = group(A);
  const rb = group(B);
  const cellsB = new Map(B.result.cells.map((c) => [cellKey(c), c]));
  const keysA = new Set(A.result.cells.map(cellKey));
  const rows: CompareRow[] = [];
  for (const ca of A.result.cells) {
    const cb = cellsB.get(cellKey(ca));
    if (!cb) continue;
    const xa = ra.get(cellKey(ca)) ?? [];
    const xb = rb.get(cellKey(ca)) ?? [];
    const cell: Cell = { function: ca.function, input: ca.input, runtime: ca.runtime, mode: ca.mode };
    for (const metric of TIMINGS) {
      const va = xa.map((r) => metricOf(r, metric));
      const vb = xb.map((r) => metricOf(r, metric));
      const sa = summarize(va);
      const sb = summarize(vb);
      if (!sa.n || !sb.n) continue;
      const { ratio, ci95 } = medianRatio(va, vb, seed);
      rows.push({
        ...cell,
        metric,
        a: sa.median,
        b: sb.median,
        aCi95: sa.ci95,
        bCi95: sb.ci95,
        nA: sa.n,
        nB: sb.n,
        ratio,
        ci95,
        interval: 'bootstrap',
        p: mannWhitney(va, vb).p,
        pAdjusted: Number.NaN,
        significant: false,
        verdict: 'same',
      });
    }
    const row = energyRow(cell, ca, cb, xa, xb, seed);
    if (row) rows.push(row);
  }
  const adjusted = holm(rows.map((r) => r.p));
  const why = unshared(A.result, B.result);
  rows.forEach((r, i) => {
    r.pAdjusted = adjusted[i]!;
    r.significant = Number.isFinite(r.pAdjusted) ? r.pAdjusted < 0.05 : r.ci95[0] > 1 || r.ci95[1] < 1;
    const reasons = r.metric === 'energy' ? [...why.energy] : why.timing;
    if (r.metric === 'energy' && r.interval === 'bounds')
      reasons.push('a side is one batch, whose interval covers its own sub-windows, not run-to-run variation');
    if (reasons.length) {
      r.verdict = 'withheld';
      r.withheld = reasons.join('; ');
    } else r.verdict = r.significant ? (r.ratio > 1 ? 'higher' : 'lower') : 'same';
  });
  const info = (dir: string, run: LoadedRun): RunInfo => ({
    dir,
    startedAt: run.result.startedAt,
    interrupted: run.result.interrupted,
    records: run.records.length,
  });
  return {
    a: info(dirA, A),
    b: info(dirB, B),
    rows,
    onlyA: A.result.cells.filter((c) => !cellsB.has(cellKey(c))).map(label),
    onlyB: B.result.cells.filter((c) => !keysA.has(cellKey(c))).map(label),
    notes: differences(A.result, B.result),
    covers: COVERS,
  };
}

function energyRow(
  cell: Cell,
  ca: CellSummary,
  cb: CellSummary,
  xa: InvocationRecord[],
  xb: InvocationRecord[],
  seed: number,
): CompareRow | undefined {
  const fa = ca.energy;
  const fb = cb.energy;
  if (!fa || !fb || fa.isolated !== fb.isolated || Boolean(fa.shares) !== Boolean(fb.shares)) return undefined;
  const field = figureMetric(fa);
  const va = xa.map((r) => metricOf(r, field));
  const vb = xb.map((r) => metricOf(r, field));
  const e = energyRatio(fb, fa, { num: vb, den: va, seed });
  if (!e) return undefined;
  const bothRecords = fa.source === 'records' && fb.source === 'records';
  return {
    ...cell,
    metric: 'energy',
    a: fa.valueWh,
    b: fb.valueWh,
    aCi95: fa.ci95Wh,
    bCi95: fb.ci95Wh,
    nA: fa.n,
    nB: fb.n,
    ...e,
    p: bothRecords ? mannWhitney(va, vb).p : Number.NaN,
    pAdjusted: Number.NaN,
    significant: false,
    verdict: 'same',
    sources: { a: figureSource(fa), b: figureSource(fb) },
  };
}
