/**
 * The experiment runner: a matrix of functions x runtimes x modes x inputs, run in interleaved
 * rounds after a warm-up and a baseline, every record streamed to disk, summarised per cell.
 * Configuration lives in `config.ts`, statistics in `../analysis/summary.ts`, the folder's files in `../run-folder.ts`.
 */
import { join } from 'node:path';
import { EventEmitter } from 'eventemitter3';
import { isoFromMs, nowMs } from '../../clock.js';
import { isNebulaError, RuntimeUnavailableError, UsageError } from '../../errors.js';
import type { Nebula } from '../../nebula.js';
import { own } from '../../own-keys.js';
import { RecordLog } from '../../record-log.js';
import { descriptorOf, runtimeDescriptor, type RuntimeKind } from '../../runtimes/registry.js';
import { quantile } from '../../stats.js';
import type { Baseline, BatchEnergy, EnergyLedger, InvocationRecord } from '../../types.js';
import { resolveConfig, type ExperimentConfig, type ResolvedConfig } from './config.js';
import { loadNow, machineInfo } from './machine.js';
import { MICRO_EXPECTED_MS, microBenchmarks, microRuntimes, type MicroResult } from './micro.js';
import { claimOutDir, RUN_FILES, writeJsonAtomic, type RunFile } from '../run-folder.js';
import { cellKey, type Cell } from '../cell.js';
import { schedule } from './schedule.js';
import type { EnergyAnalysis } from '../analysis/energy-analysis.js';
import { runEnergyStep } from './energy-step.js';
import { recordCellKey, summarizeRecords, type CellSummary, type ExperimentResult } from '../analysis/summary.js';
import { applyPreinit, keepSnapshotted, snapshotsOf } from './preinit-variants.js';

/** The phases of an experiment, in the order they run. */
export const EXPERIMENT_PHASES = ['prepare', 'baseline', 'warmup', 'run', 'batch', 'keep-warm', 'micro'] as const;
export type ExperimentPhase = (typeof EXPERIMENT_PHASES)[number];

/** How much work a phase holds: invocations or runtimes counted, or milliseconds expected. */
export interface PhaseSize {
  total: number;
  unit: 'invocations' | 'runtimes' | 'ms';
  /** What the phase does, when its name does not say it all. */
  detail?: string;
  /** Set when a planned phase found nothing to do: why. */
  skipped?: string;
}

/** Where a phase stands among the phases this run plans (1-based `index` of `count`). */
export interface PhaseStep {
  index: number;
  count: number;
}

/** Progress events of an experiment. */
export interface ExperimentEvents {
  /**
   * A phase started, with its size and its place among the phases this run plans (those its
   * configuration and meter call for; one that then finds nothing to do is announced as skipped).
   */
  phase: (phase: ExperimentPhase, size: PhaseSize, step: PhaseStep) => void;
  /** Progress inside the current phase: `done` of `total` in the phase's unit. */
  tick: (phase: ExperimentPhase, done: number, total: number) => void;
  /** One measured invocation ended: `done` of `total`. */
  progress: (done: number, total: number, record: InvocationRecord) => void;
  /** Something the result will say too (a runtime skipped, a batch that failed). */
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
  private runFile: RunFile | undefined;
  private readonly pending: string[] = [];
  private planned: readonly ExperimentPhase[] = EXPERIMENT_PHASES;

  /** @throws UsageError `INVALID_CONFIG` naming the field that is wrong. */
  constructor(
    private readonly nebula: Nebula,
    config: ExperimentConfig,
  ) {
    super();
    this.config = resolveConfig(config);
  }

  /**
   * Runs it. With `signal` aborted midway, stops after the current invocation and keeps what was
   * recorded. Writes run.json at the start, records.jsonl as it goes, summary.json at the end.
   * @throws UsageError `FUNCTION_NOT_FOUND`; `INVALID_CONFIG` when `outDir` is not empty (runs are never mixed).
   * @throws NebulaError `METER_UNAVAILABLE` or `METER_PROTOCOL` when the Nebula instance has a meter that
   * cannot be read, before anything runs (to run without energy, give the instance `meter: null`).
   */
  async run(signal?: AbortSignal): Promise<ExperimentResult> {
    const cfg = this.config;
    const names = cfg.functions.length ? cfg.functions : (await this.nebula.functions()).map((f) => f.name);
    for (const n of names)
      if (!this.nebula.has(n)) throw new UsageError('FUNCTION_NOT_FOUND', `No function named "${n}" is deployed.`);
    const meter = this.nebula.meter;
    // Energy was asked for: a meter that cannot be read fails the run now, not as figures missing at its end.
    if (meter) await this.nebula.checkMeter();
    claimOutDir(cfg.outDir);
    this.planned = this.plannedPhases(names);
    this.runFile = {
      format: 'nebula-run/1',
      startedAt: isoFromMs(nowMs()),
      config: cfg,
      machine: machineInfo(),
      meter: meter ? { name: meter.name, estimate: meter.estimate, intervalMs: meter.intervalMs } : null,
      baseline: null,
      notes: this.pending.splice(0),
      cells: [],
      load: { start: loadNow(), end: null },
    };
    this.save();

    const variants = await applyPreinit(this.nebula, names, cfg.preinit, (t) => this.note(t));
    try {
      return await this.runAll(names, variants.twins, signal);
    } finally {
      await variants.restore();
    }
  }

  /** The run after the functions were deployed as `preinit` asks; `twins` maps each pre-initialised twin to its function. */
  private async runAll(names: string[], twins: Map<string, string>, signal?: AbortSignal): Promise<ExperimentResult> {
    const cfg = this.config;
    const run = this.runFile!;
    const meter = this.nebula.meter;
    // Each twin right after its function, so reports show the two together.
    const withTwins = (list: string[]) =>
      list.flatMap((n) => [n, ...[...twins].filter(([, of]) => of === n).map(([twin]) => twin)]);
    const runtimes = await this.prepare(withTwins(names));
    await keepSnapshotted(this.nebula, twins, (t) => this.note(t));
    const all = withTwins(names);
    if (runtimes.length > 1)
      for (const rt of runtimes) {
        const { sideEffect, label } = descriptorOf(rt);
        if (sideEffect) this.note(`${label} beside other runtimes: ${sideEffect}`);
      }
    const infos = await this.nebula.functions();
    const known = new Map(infos.map((f) => [f.name, f.runtimes]));
    const cells: Cell[] = [];
    for (const fn of all) {
      const variantOf = twins.get(fn);
      for (const runtime of runtimes)
        if (known.get(fn)?.includes(runtime))
          for (const mode of cfg.modes)
            for (const input of own(cfg.inputs, variantOf ?? fn) ?? [null])
              cells.push({ function: fn, runtime, mode, input, ...(variantOf ? { variantOf } : {}) });
    }
    const baselineRuntime = runtimes.includes(cfg.baseline) ? cfg.baseline : runtimes[0]!;
    run.cells = cells;
    run.functions = (await this.nebula.functions())
      .filter((f) => names.includes(f.name))
      .map((f) => ({
        ...f,
        runtimes: f.runtimes.filter((k) => runtimes.includes(k)),
        artifacts: Object.fromEntries(Object.entries(f.artifacts).filter(([k]) => runtimes.includes(k as RuntimeKind))),
      }));
    run.config = { ...cfg, runtimes, baseline: baselineRuntime };
    const snapshots = snapshotsOf(infos, all);
    if (snapshots.length) run.snapshots = snapshots;
    this.save();

    run.baseline = await this.measureBaseline(signal);
    this.save();
    if (cfg.concurrency > 1)
      this.note(
        `Invocations ran ${cfg.concurrency} at a time: each record's energy figure is its share (energy.shareJ), the power above idle divided among the invocations running by their CPU time, not its window's, which holds the others' power too (docs/energy.md#shares).`,
      );
    await this.warmup(cells, signal);
    const records = await this.measure(cells, signal);
    const ledger = await this.ledger(records);
    const batches = await this.batches(cells, records, signal);

    const summary = summarizeRecords(records, cells, {
      seed: cfg.seed,
      baseline: baselineRuntime,
      batches,
      isolated: run.baseline !== null,
      estimate: meter?.estimate ?? false,
      shares: cfg.concurrency > 1,
    });
    const energy =
      meter && !signal?.aborted ? await this.energyStep(records, summary.cells, runtimes, signal) : undefined;
    const micro = await this.micro(runtimes, names, signal);
    const result: ExperimentResult = {
      startedAt: run.startedAt,
      finishedAt: isoFromMs(nowMs()),
      interrupted: signal?.aborted === true,
      config: run.config,
      machine: run.machine,
      meter: run.meter,
      baseline: run.baseline,
      notes: run.notes,
      cells: summary.cells,
      comparisons: summary.comparisons,
      outputCheck: summary.outputCheck,
      micro,
      ...(energy ? { energy } : {}),
      ...(ledger ? { ledger } : {}),
      functions: run.functions,
      load: { start: run.load!.start, end: loadNow() },
      ...(run.snapshots ? { snapshots: run.snapshots } : {}),
    };
    run.load = result.load;
    this.save();
    writeJsonAtomic(join(cfg.outDir, RUN_FILES.summary), result);
    return result;
  }

  /** Keep-warm power and memory (when configured) and the energy analysis of the run. */
  private energyStep(
    records: InvocationRecord[],
    cells: CellSummary[],
    runtimes: RuntimeKind[],
    signal?: AbortSignal,
  ): Promise<EnergyAnalysis | undefined> {
    return runEnergyStep(this.nebula, {
      records,
      cells,
      runtimes,
      keepWarm: this.config.keepWarm,
      timeoutMs: this.config.timeoutMs,
      ...(signal ? { signal } : {}),
      phase: (p, totalMs, detail) => this.announce(p as ExperimentPhase, { total: totalMs, unit: 'ms', detail }),
      tick: (doneMs, totalMs) => this.emit('tick', 'keep-warm', doneMs, totalMs),
      skipped: (why) => this.skip('keep-warm', why, signal),
      note: (text) => this.note(text),
    });
  }

  /**
   * The phases this run will go through, from its configuration and meter: the baseline with a
   * meter and a baseline length, the warm-up with warm-up invocations, batches with a meter,
   * keep-warm with a meter and a runtime that keeps sandboxes, micro-benchmarks with fib and a
   * runtime that gives a floor.
   */
  private plannedPhases(names: string[]): ExperimentPhase[] {
    const cfg = this.config;
    const meter = this.nebula.meter !== undefined;
    const wanted: Record<ExperimentPhase, boolean> = {
      prepare: true,
      baseline: meter && cfg.baselineMs > 0,
      warmup: cfg.warmup > 0,
      run: true,
      batch: meter && cfg.batchWindowMs !== false,
      'keep-warm': meter && cfg.keepWarm !== false && cfg.runtimes.some((r) => runtimeDescriptor(r)?.keepsWarm),
      micro: cfg.micro && microRuntimes(cfg.runtimes).length > 0 && names.includes('fib'),
    };
    return EXPERIMENT_PHASES.filter((p) => wanted[p]);
  }

  /** Announces a phase with its place in the plan. */
  private announce(phase: ExperimentPhase, size: PhaseSize): void {
    const index = this.planned.indexOf(phase) + 1;
    this.emit('phase', phase, size, { index, count: this.planned.length });
  }

  /** A planned phase that has nothing to do: said once, so the numbering stays whole. */
  private skip(phase: ExperimentPhase, why: string, signal?: AbortSignal): void {
    if (this.planned.includes(phase) && !signal?.aborted) this.announce(phase, { total: 0, unit: 'ms', skipped: why });
  }

  private save(): void {
    if (this.runFile) writeJsonAtomic(join(this.config.outDir, RUN_FILES.run), this.runFile);
  }

  /** Adds a note to the result (and run.json); before `run()`, it is kept for the run. */
  note(text: string): void {
    if (!this.runFile) return void this.pending.push(text);
    this.runFile.notes.push(text);
    this.save();
    this.emit('note', text);
  }

  /**
   * Takes the engine's set-up (`nebula.ready()`), then prepares every function on every runtime; an
   * unavailable runtime is dropped with a note when the config allows.
   */
  private async prepare(names: string[]): Promise<RuntimeKind[]> {
    const cfg = this.config;
    await this.nebula.ready();
    const known = new Map((await this.nebula.functions()).map((f) => [f.name, f.runtimes]));
    this.announce('prepare', { total: cfg.runtimes.length, unit: 'runtimes' });
    let runtimes = [...cfg.runtimes];
    let done = 0;
    for (const rt of cfg.runtimes) {
      try {
        await this.nebula.prepare(
          names.filter((n) => known.get(n)?.includes(rt)),
          [rt],
        );
      } catch (e) {
        if (cfg.skipUnavailable && isNebulaError(e) && e.code === 'RUNTIME_UNAVAILABLE') {
          runtimes = runtimes.filter((r) => r !== rt);
          this.note(`${rt} skipped: ${e.message}`);
        } else throw e;
      }
      this.emit('tick', 'prepare', ++done, cfg.runtimes.length);
    }
    if (!runtimes.length)
      throw new RuntimeUnavailableError(
        `No runtime of ${cfg.runtimes.join(', ')} is available: ${this.runFile?.notes.join(' ')}`,
      );
    return runtimes;
  }

  /**
   * Idle power before the runs; none without a meter or with `baselineMs: 0`. A meter that fails
   * here costs the baseline (a note says so, and energy figures then include idle), not the run.
   */
  private async measureBaseline(signal?: AbortSignal): Promise<Baseline | null> {
    const ms = this.config.baselineMs;
    if (!this.nebula.meter || ms === 0 || signal?.aborted) return null;
    try {
      return await this.timed('baseline', ms, this.nebula.measureBaseline({ durationMs: ms }));
    } catch (e) {
      if (!isNebulaError(e) || (e.code !== 'METER_UNAVAILABLE' && e.code !== 'METER_PROTOCOL')) throw e;
      this.note(`no idle baseline (energy figures include idle power): ${e.message}`);
      return null;
    }
  }

  private async warmup(cells: Cell[], signal?: AbortSignal): Promise<void> {
    const total = cells.length * this.config.warmup;
    if (!total) return;
    this.announce('warmup', { total, unit: 'invocations' });
    let done = 0;
    for (const c of cells)
      for (let i = 0; i < this.config.warmup && !signal?.aborted; i++) {
        await this.invoke(c);
        this.emit('tick', 'warmup', ++done, total);
      }
  }

  /** The measured invocations, each appended to records.jsonl as it ends (with concurrency, as its group settles). */
  private async measure(cells: Cell[], signal?: AbortSignal): Promise<InvocationRecord[]> {
    const cfg = this.config;
    const order = schedule(cells, cfg.repetitions, cfg.order, cfg.seed);
    const total = order.length * cfg.concurrency;
    this.announce('run', { total, unit: 'invocations' });
    const log = new RecordLog(join(cfg.outDir, RUN_FILES.records));
    const records: InvocationRecord[] = [];
    try {
      for (const c of order) {
        if (signal?.aborted) break;
        // The previous invocation's sandbox is removed before this one starts, so its clean-up
        // (a container removal, seconds of engine work) never overlaps this measurement.
        await this.nebula.cleanedUp(cfg.timeoutMs);
        for (const rec of cfg.concurrency > 1 ? await this.invokeTogether(c) : [await this.invoke(c)]) {
          log.append(rec);
          records.push(rec);
          this.emit('progress', records.length, total, rec);
          this.emit('tick', 'run', records.length, total);
        }
      }
    } finally {
      log.close();
    }
    return records;
  }

  /**
   * The ledger of the measured runs (with a meter): from the first invocation to the last one's
   * end, how the energy above the baseline divides into the records' shares and the unattributed
   * rest. A span the meter did not cover whole is a note, not a failure.
   */
  private async ledger(records: InvocationRecord[]): Promise<EnergyLedger | undefined> {
    const meter = this.nebula.meter;
    if (!meter || !records.length) return undefined;
    let from = Number.POSITIVE_INFINITY;
    let to = Number.NEGATIVE_INFINITY;
    for (const r of records) {
      from = Math.min(from, r.timing.requestAt + r.timing.prepareMs);
      to = Math.max(to, r.timing.functionEndAt);
    }
    try {
      return await this.nebula.energyLedger({ from: from - meter.intervalMs, to: to + meter.intervalMs });
    } catch (e) {
      this.note(`no energy ledger of the measured runs: ${(e as Error).message}`);
      return undefined;
    }
  }

  /** Batch energy for cells shorter than three meter intervals (their records alone are too short to measure). */
  private async batches(
    cells: Cell[],
    records: InvocationRecord[],
    signal?: AbortSignal,
  ): Promise<Map<string, BatchEnergy>> {
    const out = new Map<string, BatchEnergy>();
    const meter = this.nebula.meter;
    const window = this.config.batchWindowMs;
    if (!meter || window === false || signal?.aborted) return out;
    if (this.config.concurrency > 1) {
      this.note(
        "No batches: a batch measures invocations one after another, and these ran several at a time; every cell's figure is its records' shares.",
      );
      return out;
    }
    const totals = new Map<string, number[]>();
    for (const r of records)
      if (r.ok)
        (totals.get(recordCellKey(r)) ?? totals.set(recordCellKey(r), []).get(recordCellKey(r))!).push(
          r.timing.totalMs,
        );
    const short = cells.filter((c) => {
      const t = totals.get(cellKey(c));
      return (
        t &&
        quantile(
          [...t].sort((a, b) => a - b),
          0.5,
        ) <=
          meter.intervalMs * 3
      );
    });
    const windowMs = Math.max(window, meter.intervalMs * 20);
    const each = windowMs + meter.intervalMs * 1.5;
    if (!short.length) {
      this.skip('batch', 'every cell ran for three meter intervals or more, so its own records measure it', signal);
      return out;
    }
    this.announce('batch', { total: short.length * each, unit: 'ms' });
    let done = 0;
    for (const cell of short) {
      if (signal?.aborted) break;
      const b = await this.timed('batch', each, this.batch(cell, windowMs, signal), done, short.length * each);
      if (b) out.set(cellKey(cell), b);
      done += each;
    }
    return out;
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
      this.note(`batch energy of ${cell.function} on ${cell.runtime} ${cell.mode}: ${(e as Error).message}`);
      return undefined;
    }
  }

  /** The micro-benchmarks of an invocation back to back, on the runtimes run that give a floor and have fib. */
  private async micro(runtimes: RuntimeKind[], names: string[], signal?: AbortSignal): Promise<MicroResult[]> {
    if (!this.config.micro || !names.includes('fib') || signal?.aborted) return [];
    const fib = (await this.nebula.functions()).find((f) => f.name === 'fib')?.runtimes ?? [];
    const on = microRuntimes(runtimes.filter((r) => fib.includes(r)));
    if (!on.length) {
      this.skip('micro', 'no runtime that ran gives a floor to measure against', signal);
      return [];
    }
    return this.timed('micro', MICRO_EXPECTED_MS * on.length, microBenchmarks(this.nebula, on));
  }

  /**
   * Awaits `work` while ticking `phase` by the clock (every 250 ms) up to `expectedMs`; announces
   * the phase unless `offset`/`total` say it is one step of a phase already announced.
   */
  private async timed<T>(
    phase: ExperimentPhase,
    expectedMs: number,
    work: Promise<T>,
    offset?: number,
    total?: number,
  ): Promise<T> {
    if (offset === undefined) this.announce(phase, { total: expectedMs, unit: 'ms' });
    const all = total ?? expectedMs;
    const start = nowMs();
    const timer = setInterval(
      () => this.emit('tick', phase, (offset ?? 0) + Math.min(expectedMs, nowMs() - start), all),
      250,
    );
    try {
      return await work;
    } finally {
      clearInterval(timer);
      this.emit('tick', phase, (offset ?? 0) + expectedMs, all);
    }
  }

  /** `concurrency` invocations of a cell at once; resolves once all have ended and their energy (their shares) settled. */
  private async invokeTogether(c: Cell): Promise<InvocationRecord[]> {
    const opts = { runtime: c.runtime, mode: c.mode, timeoutMs: this.config.timeoutMs };
    const recs = await Promise.all(
      Array.from({ length: this.config.concurrency }, () => this.nebula.invoke(c.function, c.input, opts)),
    );
    await this.nebula.settled();
    return recs;
  }

  private invoke(c: Cell): Promise<InvocationRecord> {
    return this.nebula.invoke(c.function, c.input, {
      runtime: c.runtime,
      mode: c.mode,
      timeoutMs: this.config.timeoutMs,
      waitForEnergy: true,
    });
  }
}
