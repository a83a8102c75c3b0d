/**
 * The experiment runner: a matrix of functions x runtimes x modes x inputs, run in interleaved
 * rounds after a warm-up and a baseline, every record streamed to disk, summarised per cell.
 * Configuration lives in `config.ts`, statistics in `summary.ts`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EventEmitter } from 'eventemitter3';
import { isoFromMs, nowMs } from '../clock.js';
import { isNebulaError, UsageError } from '../errors.js';
import type { Nebula } from '../nebula.js';
import { RecordLog } from '../record-log.js';
import type { Baseline, BatchEnergy, InvocationRecord } from '../types.js';
import { resolveConfig, type ExperimentConfig, type ResolvedConfig } from './config.js';
import { machineInfo } from './machine.js';
import { microBenchmarks, type MicroResult } from './micro.js';
import { schedule, type Cell } from './schedule.js';
import { runEnergyStep } from './energy-step.js';
import { summarizeRecords, type ExperimentResult } from './summary.js';

/** Progress events of an experiment. */
export interface ExperimentEvents {
  /** A phase started (`prepare`, `baseline`, `warmup`, `run`, `batch`, `keep-warm`, `micro`, `report`). */
  phase: (phase: string) => void;
  /** One measured invocation ended: `done` of `total`. */
  progress: (done: number, total: number, record: InvocationRecord) => void;
  note: (text: string) => void;
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
  private readonly config: ResolvedConfig;

  /** @throws UsageError `INVALID_CONFIG` naming the field that is wrong. */
  constructor(
    private readonly nebula: Nebula,
    config: ExperimentConfig,
  ) {
    super();
    this.config = resolveConfig(config);
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
    const summary = summarizeRecords(records, cells, { seed: cfg.seed, baseline: runtimes.includes(cfg.baseline) ? cfg.baseline : runtimes[0] });

    if (meter && cfg.batchWindowMs !== false && !signal?.aborted) {
      this.emit('phase', 'batch');
      for (const cell of summary.cells) {
        if (signal?.aborted) break;
        const median = cell.metrics.totalMs?.median;
        if (median === undefined || median > meter.intervalMs * 3) continue;
        cell.batch = await this.batch(cell, Math.max(cfg.batchWindowMs, meter.intervalMs * 20), signal);
      }
    }

    const energy = meter && !signal?.aborted
      ? await runEnergyStep(this.nebula, { records, cells: summary.cells, runtimes, keepWarm: cfg.keepWarm, timeoutMs: cfg.timeoutMs, signal, phase: (p) => this.emit('phase', p), note })
      : undefined;

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
      machine: machineInfo(),
      meter: meter ? { name: meter.name, estimate: meter.estimate, intervalMs: meter.intervalMs } : null,
      baseline,
      notes,
      cells: summary.cells,
      comparisons: summary.comparisons,
      micro,
      ...(energy ? { energy } : {}),
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
