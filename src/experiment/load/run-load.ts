/**
 * `runLoad`: open-loop load on a `Nebula` instance. Each function x runtime x mode is a series
 * swept through the rates (ascending) until a step passes the stop bounds; every arrival's record
 * is streamed to records.jsonl once its energy settles, each step summarised from its records.
 */
import { join } from 'node:path';
import { isoFromMs, nowMs } from '../../clock.js';
import { isNebulaError, NebulaError, RuntimeUnavailableError, UsageError } from '../../errors.js';
import type { Nebula } from '../../nebula.js';
import type { RuntimeKind } from '../../runtimes/index.js';
import type { Baseline, InvocationRecord } from '../../types.js';
import { machineInfo } from '../run/machine.js';
import { claimOutDir, RUN_FILES, writeJsonAtomic } from '../run-folder.js';
import { arrivalOffsets } from './arrivals.js';
import { generate, type Arrival } from './generator.js';
import { PlanTime } from './plan-time.js';
import { failedRecord, RecordStream } from './record-stream.js';
import { resolveLoadSpec, type LoadSpec, type ResolvedLoadSpec } from './spec.js';
import {
  generatorOf,
  kneeOf,
  stopReason,
  summarizeStep,
  type LoadFacts,
  type LoadRecord,
  type LoadStep,
  type StepSummary,
} from './summary.js';

/** One function x runtime x mode, swept through the rates. */
export interface SeriesSummary {
  function: string;
  input: unknown;
  runtime: RuntimeKind;
  mode: LoadStep['mode'];
  /** Highest offered rate whose p99 latency met the knee bound (and errors the stop bound), arrivals/s; null when none did. */
  knee: number | null;
  /** The step that stopped the sweep early, and why. */
  stopped?: { ratePerS: number; reason: string };
}

/** What a load run writes as run.json when it starts: enough to summarise its records alone. */
export interface LoadRunFile {
  format: 'nebula-load/1';
  startedAt: string;
  spec: ResolvedLoadSpec;
  machine: Record<string, string | number>;
  meter: { name: string; estimate: boolean; intervalMs: number } | null;
  baseline: Baseline | null;
  notes: string[];
  /** Every step planned (a sweep stopped early runs fewer). */
  steps: LoadStep[];
}

/** Everything a load run produced (also summary.json). */
export interface LoadResult extends Omit<LoadRunFile, 'format'> {
  format: 'nebula-load/1';
  finishedAt: string;
  /** True when the run was stopped (its signal aborted) before the end. */
  interrupted: boolean;
  /** The steps run, in order. */
  results: StepSummary[];
  series: SeriesSummary[];
  /** The generator's largest lag p99 over the steps, ms, and whether it fell behind in any. */
  generator: { lagP99Ms: number; behind: boolean };
}

/** Progress callbacks of {@link runLoad}. */
export interface LoadOptions {
  signal?: AbortSignal;
  /** A phase of the run started (`prepare`, `baseline`, `warmup`, `load`) with its expected size. */
  onPhase?: (phase: 'prepare' | 'baseline' | 'warmup' | 'load', total: number, unit: 'ms' | 'invocations') => void;
  /**
   * A step started: `index` of `planned` steps. `laterMs` is the time the run expects to need
   * after this step's arrivals end (ms): its settling, then each later step still planned (a sweep
   * stopped early drops the rest of its series), its duration and the settling measured so far.
   */
  onStep?: (step: LoadStep, index: number, planned: number, laterMs: number) => void;
  /** Arrivals of the current step handled so far of those scheduled. */
  onTick?: (done: number, total: number) => void;
  /** A step ended. */
  onStepEnd?: (summary: StepSummary) => void;
  /** Something the result says too (a runtime skipped, a sweep stopped, a generator that fell behind). */
  onNote?: (text: string) => void;
}

/**
 * Runs open-loop load: arrivals at their intended times whatever the engine does, latency from the
 * intended send time (queue time included), the generator's own lag measured.
 * @example
 * ```ts
 * import { runLoad } from 'nebula-faas/experiment';
 * const result = await runLoad(nebula, { functions: ['fib'], inputs: { fib: 20 }, rates: [100, 200, 400], durationMs: 10_000, outDir: 'load' });
 * for (const s of result.results) console.log(s.ratePerS, s.achievedPerS, s.latencyMs.p99.value);
 * ```
 * @throws UsageError `INVALID_CONFIG` (a field of the spec), `FUNCTION_NOT_FOUND`.
 */
export async function runLoad(nebula: Nebula, spec: LoadSpec, options: LoadOptions = {}): Promise<LoadResult> {
  const cfg = resolveLoadSpec(spec);
  const { signal } = options;
  for (const f of cfg.functions)
    if (!nebula.has(f)) throw new UsageError('FUNCTION_NOT_FOUND', `No function named "${f}" is deployed.`);
  claimOutDir(cfg.outDir);
  const meter = nebula.meter;
  const run: LoadRunFile = {
    format: 'nebula-load/1',
    startedAt: isoFromMs(nowMs()),
    spec: cfg,
    machine: machineInfo(),
    meter: meter ? { name: meter.name, estimate: meter.estimate, intervalMs: meter.intervalMs } : null,
    baseline: null,
    notes: [],
    steps: [],
  };
  const save = () => writeJsonAtomic(join(cfg.outDir, RUN_FILES.run), run);
  const note = (text: string) => {
    run.notes.push(text);
    save();
    options.onNote?.(text);
  };
  save();

  const runtimes = await prepare(nebula, cfg, note, options);
  const known = Object.fromEntries((await nebula.functions()).map((f) => [f.name, f.runtimes]));
  const series: SeriesSummary[] = [];
  for (const fn of cfg.functions)
    for (const runtime of runtimes)
      if (known[fn]?.includes(runtime))
        for (const mode of cfg.modes) series.push({ function: fn, input: cfg.inputs[fn], runtime, mode, knee: null });
  run.steps = series.flatMap((s) =>
    cfg.rates.map((ratePerS) => ({
      function: s.function,
      input: s.input,
      runtime: s.runtime,
      mode: s.mode,
      ratePerS,
      arrivals: cfg.arrivals,
      durationMs: cfg.durationMs,
    })),
  );
  save();

  if (meter && cfg.baselineMs > 0 && !signal?.aborted) {
    options.onPhase?.('baseline', cfg.baselineMs, 'ms');
    try {
      run.baseline = await nebula.measureBaseline({ durationMs: cfg.baselineMs });
    } catch (e) {
      if (!isNebulaError(e)) throw e;
      note(`no idle baseline (energy figures include idle power): ${e.message}`);
    }
    save();
  }

  const stream = new RecordStream(nebula, cfg.outDir);
  const results: StepSummary[] = [];
  const planTime = new PlanTime(run.steps);
  const dropped = (p: LoadStep) =>
    series.some((s) => s.stopped && s.function === p.function && s.runtime === p.runtime && s.mode === p.mode);
  try {
    for (const s of series) {
      if (signal?.aborted) break;
      await warmup(nebula, s, cfg, options);
      for (const ratePerS of cfg.rates) {
        if (signal?.aborted) break;
        const index = run.steps.findIndex(
          (p) => p.function === s.function && p.runtime === s.runtime && p.mode === s.mode && p.ratePerS === ratePerS,
        );
        const step = run.steps[index]!;
        options.onStep?.(step, index, run.steps.length, planTime.started(index, nowMs(), dropped));
        const summary = await runStep(nebula, step, index, cfg, stream, options);
        results.push(summary);
        options.onStepEnd?.(summary);
        if (summary.generatorBehind)
          note(
            `The generator fell behind at ${ratePerS}/s (${s.function} on ${s.runtime} ${s.mode}): its lag p99 was ${summary.lagMs.p99.toFixed(2)} ms; latencies still count from the intended times.`,
          );
        const why = stopReason(summary, cfg);
        if (why) {
          s.stopped = { ratePerS, reason: why };
          note(`${s.function} on ${s.runtime} ${s.mode}: sweep stopped at ${ratePerS}/s: ${why}.`);
          break;
        }
      }
      s.knee = kneeOf(
        results.filter((r) => r.function === s.function && r.runtime === s.runtime && r.mode === s.mode),
        cfg,
      );
    }
  } finally {
    stream.close();
  }
  const result: LoadResult = {
    ...run,
    finishedAt: isoFromMs(nowMs()),
    interrupted: signal?.aborted === true,
    results,
    series,
    generator: generatorOf(results),
  };
  writeJsonAtomic(join(cfg.outDir, RUN_FILES.summary), result);
  return result;
}

/** Takes the engine's set-up (`nebula.ready()`), then prepares each runtime's functions; one that cannot run here is dropped with a note when the spec allows. */
async function prepare(
  nebula: Nebula,
  cfg: ResolvedLoadSpec,
  note: (text: string) => void,
  options: LoadOptions,
): Promise<RuntimeKind[]> {
  options.onPhase?.('prepare', cfg.runtimes.length, 'invocations');
  await nebula.ready();
  const known = Object.fromEntries((await nebula.functions()).map((f) => [f.name, f.runtimes]));
  const kept: RuntimeKind[] = [];
  for (const rt of cfg.runtimes) {
    try {
      await nebula.prepare(
        cfg.functions.filter((f) => known[f]?.includes(rt)),
        [rt],
      );
      kept.push(rt);
    } catch (e) {
      if (!cfg.skipUnavailable || !isNebulaError(e) || e.code !== 'RUNTIME_UNAVAILABLE') throw e;
      note(`${rt} skipped: ${e.message}`);
    }
  }
  if (!kept.length) throw new RuntimeUnavailableError(`No runtime of ${cfg.runtimes.join(', ')} is available.`);
  return kept;
}

async function warmup(nebula: Nebula, s: SeriesSummary, cfg: ResolvedLoadSpec, options: LoadOptions): Promise<void> {
  if (!cfg.warmup) return;
  options.onPhase?.('warmup', cfg.warmup, 'invocations');
  for (let i = 0; i < cfg.warmup && !options.signal?.aborted; i++) {
    await nebula.invoke(s.function, s.input, { runtime: s.runtime, mode: s.mode, timeoutMs: cfg.timeoutMs });
    options.onTick?.(i + 1, cfg.warmup);
  }
  await nebula.settled();
  await nebula.cleanedUp(cfg.timeoutMs);
}

/** One step: the generator sends the arrivals; each record gets its load facts and is written once settled. */
async function runStep(
  nebula: Nebula,
  step: LoadStep,
  index: number,
  cfg: ResolvedLoadSpec,
  stream: RecordStream,
  options: LoadOptions,
): Promise<StepSummary> {
  const offsets = arrivalOffsets(step.arrivals, step.ratePerS, step.durationMs, cfg.seed + index);
  const records: LoadRecord[] = [];
  let handled = 0;
  const tick = () => {
    handled++;
    if (handled % 50 === 0 || handled === offsets.length) options.onTick?.(handled, offsets.length);
  };
  const facts = (a: Arrival, latencyMs: number, givenUp = false): LoadFacts => ({
    step: index,
    intendedAt: a.intendedAt,
    lagMs: a.lagMs,
    queueMs: (Number.isFinite(a.sentAt) ? a.sentAt : nowMs()) - (a.intendedAt + a.lagMs),
    latencyMs,
    ...(givenUp ? { givenUp } : {}),
  });
  const invokeOptions = { runtime: step.runtime, mode: step.mode, timeoutMs: cfg.timeoutMs };
  const gen = await generate({
    offsets,
    maxInFlight: cfg.maxInFlight,
    queueTimeoutMs: cfg.timeoutMs,
    signal: options.signal,
    send: async (a) => {
      let rec: InvocationRecord;
      try {
        rec = await nebula.invoke(step.function, step.input, invokeOptions);
      } catch (e) {
        rec = failedRecord(step, a.sentAt, e, 'RUNTIME_ERROR');
      }
      const load = rec as LoadRecord;
      load.load = facts(a, rec.timing.requestAt + rec.timing.totalMs - a.intendedAt);
      records.push(load);
      stream.add(load);
      tick();
    },
    giveUp: (a, at) => {
      const rec = failedRecord(
        step,
        at,
        new NebulaError('TIMEOUT', `Waited ${(at - a.intendedAt).toFixed(0)} ms in the queue, over the timeout.`),
        'TIMEOUT',
      ) as LoadRecord;
      rec.load = facts(a, at - a.intendedAt, true);
      records.push(rec);
      stream.add(rec);
      tick();
    },
  });
  await nebula.settled();
  let ledger;
  if (nebula.meter && records.length) {
    const end = Math.max(...records.map((r) => r.load.intendedAt + r.load.latencyMs));
    try {
      ledger = await nebula.energyLedger({ from: gen.startAt, to: Math.max(end, gen.startAt + 1) });
    } catch (e) {
      options.onNote?.(`no energy ledger of the step at ${step.ratePerS}/s: ${(e as Error).message}`);
    }
  }
  await nebula.cleanedUp(cfg.timeoutMs);
  return summarizeStep(index, step, records, { ...gen, scheduled: offsets.length }, ledger);
}
