/**
 * The experiment runner: a matrix of functions x runtimes x modes x inputs, run in interleaved
 * rounds after a warm-up and a baseline, every record streamed to disk, summarised per cell.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, release, platform, arch } from 'node:os';
import { join } from 'node:path';
import { EventEmitter } from 'eventemitter3';
import { isoFromMs, nowMs } from '../clock.js';
import { isNebulaError, UsageError } from '../errors.js';
import { Nebula } from '../nebula.js';
import { RecordLog } from '../record-log.js';
import type { Baseline, BatchEnergy, InvocationMode, InvocationRecord, RuntimeKind } from '../types.js';
import { microBenchmarks, type MicroResult } from './micro.js';
import { cellKey, schedule, type Cell } from './schedule.js';
import { medianRatio, summarize, type Summary } from './stats.js';

/** What to run. Every field has a default. */
export interface ExperimentConfig {
  /** Default: every deployed function. */
  functions?: string[];
  /** Default both. */
  runtimes?: RuntimeKind[];
  /** Default `['cold']`. */
  modes?: InvocationMode[];
  /** Inputs per function. Default: {@link DEFAULT_INPUTS}. */
  inputs?: Record<string, unknown[]>;
  /** Measured invocations per cell. Default 20. */
  repetitions?: number;
  /** Unrecorded invocations per cell first. Default 2. */
  warmup?: number;
  /** Default `interleaved`. */
  order?: 'interleaved' | 'shuffled';
  /** Seed of the shuffle and the bootstrap. Default 1. */
  seed?: number;
  /** Idle power measurement before the runs, ms (only with a meter). Default 10 000. */
  baselineMs?: number;
  /** Batch energy for cells shorter than a few meter intervals; window at least this long, ms. Default 2 000; false to skip. */
  batchWindowMs?: number | false;
  /** tinybench micro-benchmarks of the engine's own per-invocation overhead. Default true. */
  micro?: boolean;
  /** Per-invocation timeout, ms. Default 60 000. */
  timeoutMs?: number;
  /** Drop a runtime that is unavailable (saying so in the result) instead of failing. Default false. */
  skipUnavailable?: boolean;
  /** Where records.jsonl and summary.json go. */
  outDir: string;
}

/** Inputs of the built-in functions when none are given. */
export const DEFAULT_INPUTS: Record<string, unknown[]> = { fib: [30], exponential: [500], factorial: [20], prime: [20000], hash: [1024] };

export interface CellSummary extends Cell {
  ok: number;
  failed: number;
  errors: Record<string, number>;
  metrics: Record<string, Summary>;
  batch?: BatchEnergy;
}

export interface Comparison {
  function: string;
  mode: InvocationMode;
  input: unknown;
  metric: string;
  /** docker median / wasm median, with a 95% bootstrap interval. */
  ratio: number;
  ci95: [number, number];
}

/** Everything an experiment produced (also written as summary.json). */
export interface ExperimentResult {
  startedAt: string;
  finishedAt: string;
  interrupted: boolean;
  config: Required<Omit<ExperimentConfig, 'inputs'>> & { inputs: Record<string, unknown[]> };
  machine: Record<string, string | number>;
  meter: { name: string; estimate: boolean; intervalMs: number } | null;
  baseline: Baseline | null;
  notes: string[];
  cells: CellSummary[];
  comparisons: Comparison[];
  micro: MicroResult[];
}

/** Progress events of an experiment. */
export interface ExperimentEvents {
  /** A phase started (`prepare`, `baseline`, `warmup`, `run`, `batch`, `micro`, `report`). */
  phase: (phase: string) => void;
  /** One measured invocation ended: `done` of `total`. */
  progress: (done: number, total: number, record: InvocationRecord) => void;
  note: (text: string) => void;
}

export const METRICS = ['startupMs', 'execMs', 'totalMs', 'avgPowerW', 'isolatedPowerW', 'energyWh', 'isolatedEnergyWh'] as const;

function metricOf(r: InvocationRecord, m: (typeof METRICS)[number]): number {
  if (m === 'startupMs' || m === 'execMs' || m === 'totalMs') return r.timing[m];
  return r.energy ? r.energy[m] : Number.NaN;
}

/** Summaries and docker/wasm comparisons from raw records (also used to re-render reports). */
export function summarizeRecords(records: InvocationRecord[], cells: Cell[], seed = 1): { cells: CellSummary[]; comparisons: Comparison[] } {
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
  for (const w of cells.filter((c) => c.runtime === 'wasm')) {
    const d = cells.find((c) => c.runtime === 'docker' && c.function === w.function && c.mode === w.mode && cellKey({ ...c, runtime: 'wasm' }) === cellKey(w));
    if (!d) continue;
    const a = (byKey.get(cellKey(w)) ?? []).filter((r) => r.ok);
    const b = (byKey.get(cellKey(d)) ?? []).filter((r) => r.ok);
    for (const metric of ['startupMs', 'execMs', 'totalMs', 'energyWh'] as const) {
      const { ratio, ci95 } = medianRatio(a.map((r) => metricOf(r, metric)), b.map((r) => metricOf(r, metric)), seed);
      if (Number.isFinite(ratio)) comparisons.push({ function: w.function, mode: w.mode, input: w.input, metric, ratio, ci95 });
    }
  }
  return { cells: out, comparisons };
}

function machine(): Record<string, string | number> {
  const c = cpus();
  return {
    cpu: c[0]?.model ?? 'unknown',
    cores: c.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: `${platform()} ${release()} ${arch()}`,
    node: process.version,
  };
}

/**
 * Runs an experiment on a Nebula instance (its meter gives the energy figures).
 * @example
 * ```ts
 * const exp = new Experiment(nebula, { functions: ['fib'], repetitions: 10, outDir: 'out' });
 * exp.on('progress', (done, total) => console.log(done, '/', total));
 * const result = await exp.run();
 * ```
 */
export class Experiment extends EventEmitter<ExperimentEvents> {
  private readonly config: ExperimentResult['config'];

  constructor(
    private readonly nebula: Nebula,
    config: ExperimentConfig,
  ) {
    super();
    if (!config?.outDir) throw new UsageError('INVALID_CONFIG', 'An experiment needs an outDir for its records and reports.');
    const reps = config.repetitions ?? 20;
    if (!Number.isInteger(reps) || reps < 1) throw new UsageError('INVALID_CONFIG', `repetitions must be a whole number >= 1, got ${String(reps)}.`);
    this.config = {
      functions: config.functions ?? [],
      runtimes: config.runtimes ?? ['wasm', 'docker'],
      modes: config.modes ?? ['cold'],
      inputs: { ...DEFAULT_INPUTS, ...config.inputs },
      repetitions: reps,
      warmup: config.warmup ?? 2,
      order: config.order ?? 'interleaved',
      seed: config.seed ?? 1,
      baselineMs: config.baselineMs ?? 10_000,
      batchWindowMs: config.batchWindowMs ?? 2000,
      micro: config.micro ?? true,
      timeoutMs: config.timeoutMs ?? 60_000,
      skipUnavailable: config.skipUnavailable ?? false,
      outDir: config.outDir,
    };
  }

  /** Runs it. With `signal` aborted midway, stops after the current invocation and keeps what was recorded. */
  async run(signal?: AbortSignal): Promise<ExperimentResult> {
    const cfg = this.config;
    const startedAt = isoFromMs(nowMs());
    const notes: string[] = [];
    const note = (t: string) => {
      notes.push(t);
      this.emit('note', t);
    };
    mkdirSync(cfg.outDir, { recursive: true });
    const names = cfg.functions.length ? cfg.functions : (await this.nebula.functions()).map((f) => f.name);
    for (const n of names) if (!this.nebula.has(n)) throw new UsageError('FUNCTION_NOT_FOUND', `No function named "${n}" is deployed.`);
    const known = Object.fromEntries((await this.nebula.functions()).map((f) => [f.name, f.runtimes]));

    this.emit('phase', 'prepare');
    let runtimes = [...cfg.runtimes];
    for (const rt of [...runtimes]) {
      try {
        await this.nebula.prepare(names.filter((n) => known[n]?.includes(rt)), [rt]);
      } catch (e) {
        if (cfg.skipUnavailable && isNebulaError(e) && e.code === 'RUNTIME_UNAVAILABLE') {
          runtimes = runtimes.filter((r) => r !== rt);
          note(`${rt} skipped: ${e.message}`);
        } else throw e;
      }
    }
    const cells: Cell[] = [];
    for (const fn of names)
      for (const runtime of runtimes)
        if (known[fn]?.includes(runtime))
          for (const mode of cfg.modes) for (const input of cfg.inputs[fn] ?? [null]) cells.push({ function: fn, runtime, mode, input });

    let baseline: Baseline | null = null;
    const meter = this.nebula.meter;
    if (meter && !signal?.aborted) {
      this.emit('phase', 'baseline');
      baseline = await this.nebula.measureBaseline({ durationMs: cfg.baselineMs });
    }

    this.emit('phase', 'warmup');
    for (const c of cells) for (let i = 0; i < cfg.warmup && !signal?.aborted; i++) await this.invoke(c);

    this.emit('phase', 'run');
    const log = new RecordLog(join(cfg.outDir, 'records.jsonl'));
    const records: InvocationRecord[] = [];
    const order = schedule(cells, cfg.repetitions, cfg.order, cfg.seed);
    try {
      for (const c of order) {
        if (signal?.aborted) break;
        const rec = await this.invoke(c);
        log.append(rec);
        records.push(rec);
        this.emit('progress', records.length, order.length, rec);
      }
    } finally {
      log.close();
    }
    const summary = summarizeRecords(records, cells, cfg.seed);

    if (meter && cfg.batchWindowMs !== false && !signal?.aborted) {
      this.emit('phase', 'batch');
      for (const cell of summary.cells) {
        if (signal?.aborted) break;
        const median = cell.metrics.totalMs?.median;
        if (median === undefined || median > meter.intervalMs * 3) continue;
        cell.batch = await this.batch(cell, Math.max(cfg.batchWindowMs, meter.intervalMs * 20), signal);
      }
    }

    let micro: MicroResult[] = [];
    if (cfg.micro && runtimes.includes('wasm') && names.includes('fib') && !signal?.aborted) {
      this.emit('phase', 'micro');
      micro = await microBenchmarks(this.nebula);
    }

    const result: ExperimentResult = {
      startedAt,
      finishedAt: isoFromMs(nowMs()),
      interrupted: signal?.aborted === true,
      config: { ...cfg, runtimes },
      machine: machine(),
      meter: meter ? { name: meter.name, estimate: meter.estimate, intervalMs: meter.intervalMs } : null,
      baseline,
      notes,
      cells: summary.cells,
      comparisons: summary.comparisons,
      micro,
    };
    writeFileSync(join(cfg.outDir, 'summary.json'), JSON.stringify(result, null, 2) + '\n');
    return result;
  }

  private invoke(c: Cell): Promise<InvocationRecord> {
    return this.nebula.invoke(c.function, c.input, { runtime: c.runtime, mode: c.mode, timeoutMs: this.config.timeoutMs, waitForEnergy: true });
  }

  /** Back-to-back invocations for at least `windowMs`, energy divided by their number. */
  private async batch(cell: Cell, windowMs: number, signal?: AbortSignal): Promise<BatchEnergy | undefined> {
    const opts = { runtime: cell.runtime, mode: cell.mode, timeoutMs: this.config.timeoutMs, waitForEnergy: false };
    // Let the meter take a sample first: work on this thread (summaries) may have delayed its timer.
    await new Promise((r) => setTimeout(r, (this.nebula.meter?.intervalMs ?? 0) * 1.5));
    const from = nowMs();
    let n = 0;
    while (nowMs() - from < windowMs && !signal?.aborted) {
      await this.nebula.invoke(cell.function, cell.input, opts);
      n++;
    }
    const to = nowMs();
    try {
      return await this.nebula.attributeBatch(from, to, n);
    } catch (e) {
      this.emit('note', `batch energy of ${cell.function} on ${cell.runtime}: ${(e as Error).message}`);
      return undefined;
    }
  }
}
