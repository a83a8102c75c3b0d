/**
 * `runReplay`: a workload trace replayed on a `Nebula` instance under each keep-alive policy in
 * turn. Every trace function is its own function (its own sandboxes) running the spec it is
 * mapped to; arrivals are sent open-loop at their trace times divided by the speed; after each
 * invocation the policy's decision is enforced on the function's sandboxes through the runtime's
 * keeper (kept, removed, made again ahead). Per policy: cold starts, latency, sandboxes kept over
 * time, keep-warm energy, invocation energy and their total.
 */
import { join } from 'node:path';
import { isoFromMs, nowMs } from '../../clock.js';
import { isNebulaError, NebulaError, UsageError } from '../../errors.js';
import type { Nebula } from '../../nebula.js';
import { RecordLog } from '../../record-log.js';
import { descriptorOf, runtimeDescriptors, specFor, type RuntimeKind } from '../../runtimes/registry.js';
import type { SandboxKeeper } from '../../runtimes/runtime.js';
import type { Baseline, FunctionSpec, InvocationRecord } from '../../types.js';
import { generate } from '../load/generator.js';
import { PlanTime } from '../load/plan-time.js';
import { failedRecord, RecordStream } from '../load/record-stream.js';
import { measureKeepWarm } from '../run/keep-warm.js';
import { machineInfo } from '../run/machine.js';
import { claimOutDir, RUN_FILES, writeJsonAtomic } from '../run-folder.js';
import {
  HistogramKeepAlive,
  parsePolicy,
  policyOnTrace,
  type KeepAliveDecision,
  type KeepAlivePolicy,
} from './policies.js';
import type { Trace } from './trace.js';
import { summarizePolicy, type PolicySummary, type ReplayRecord } from './summary.js';

/** A replay. */
export interface ReplaySpec {
  /** The parsed trace (`parseTrace`), already cut to its window. */
  trace: Trace;
  /** What each trace function runs: a function spec (its name is replaced) and its input. */
  mapping: Record<string, { spec: FunctionSpec; input: unknown }>;
  /** Runtimes replayed on, each under every policy. */
  runtimes: RuntimeKind[];
  /** Policies by name (`none`, `fixed:10m`, `histogram`, ...). Default `['none', 'fixed:10m', 'histogram']`. */
  policies?: string[];
  /** Trace time / real time: 60 replays an hour in a minute. Default 60. */
  speed?: number;
  /** Invocations in flight at once at most. Default 256. */
  maxInFlight?: number;
  /** Per invocation, ms. Default 30 000. */
  timeoutMs?: number;
  /** Idle power measured first, ms (0: none). Default 5 000. */
  baselineMs?: number;
  /**
   * Power drawn per kept sandbox, W, by runtime (e.g. from an experiment's keep-warm step). A runtime
   * without it is measured first by a short keep-warm step when there is a meter.
   */
  keepWarmWattsPerSandbox?: Partial<Record<RuntimeKind, number>>;
  /** False: do not measure the keep-warm power (keep-warm energy is then given only where set above). Default true. */
  measureKeepWarm?: boolean;
  /** A new or empty folder. */
  outDir: string;
}

/** What a replay writes as run.json when it starts. */
export interface ReplayRunFile {
  format: 'nebula-replay/1';
  startedAt: string;
  trace: { format: Trace['format']; functions: string[]; arrivals: number; spanMs: number };
  mapping: Record<string, { function: string; input: unknown }>;
  runtimes: RuntimeKind[];
  policies: string[];
  speed: number;
  machine: Record<string, string | number>;
  meter: { name: string; estimate: boolean; intervalMs: number } | null;
  baseline: Baseline | null;
  keepWarmWattsPerSandbox: Partial<Record<RuntimeKind, number>>;
  notes: string[];
}

/** Everything a replay produced (also summary.json). */
export interface ReplayResult extends ReplayRunFile {
  finishedAt: string;
  interrupted: boolean;
  /** One per runtime x policy, in the order run. */
  results: PolicySummary[];
}

/** Progress callbacks of {@link runReplay}. */
export interface ReplayOptions {
  signal?: AbortSignal;
  /**
   * A policy's replay on a runtime started (or the keep-warm step before them, as policy
   * `keep-warm`): `index` of `count`, taking about `expectedMs`; `laterMs` is what the run expects
   * to need after it (the policies still planned, each its replay time plus the settling measured
   * between them), for an ETA of the whole run.
   */
  onPolicy?: (
    policy: string,
    runtime: RuntimeKind,
    index: number,
    count: number,
    expectedMs: number,
    laterMs: number,
  ) => void;
  onTick?: (done: number, total: number) => void;
  onNote?: (text: string) => void;
}

/** The keep-warm step before a replay: power with 0 and 4 sandboxes kept, one window of 3 s each. */
const KEEP_WARM = { counts: [0, 4], windowMs: 3000, repeats: 1, function: 'fib', input: 1 };

/**
 * Checks, before anything runs, that every runtime can enforce every policy that keeps sandboxes:
 * each mapped function is deployed and prepared once and its keeper asked for.
 * @throws UsageError `INVALID_ARGUMENT` naming the runtime that offers no control of its sandboxes.
 */
async function checkKeepers(nebula: Nebula, spec: ReplaySpec, policies: KeepAlivePolicy[]): Promise<void> {
  const keeping = policies.find((p) => p.name !== 'none');
  if (!keeping) return;
  const specs = new Map(Object.values(spec.mapping).map((m) => [m.spec.name, m.spec]));
  for (const runtime of spec.runtimes) {
    const d = descriptorOf(runtime);
    if (!d.keepsWarm?.keeper)
      throw new UsageError(
        'INVALID_ARGUMENT',
        `The ${runtime} runtime ${d.keepsWarm ? 'offers no control of its kept sandboxes' : 'keeps no sandboxes'}, so the policy ${keeping.name} cannot be enforced on it; replay it under "none" only, or choose a runtime that keeps sandboxes under control (${keepingRuntimes().join(', ') || 'none is registered'}).`,
      );
    for (const fnSpec of specs.values()) {
      const { builtin: _builtin, ...own } = specFor(fnSpec, [runtime]);
      const name = 'replay-check';
      await nebula.deploy({ ...own, name });
      try {
        if (!(await nebula.keeper(name, runtime)))
          throw new NebulaError(
            'RUNTIME_ERROR',
            `The ${runtime} runtime's descriptor says it offers a keeper, but its prepared function has none.`,
          );
      } finally {
        await nebula.undeploy(name);
      }
    }
  }
}

/** The registered runtimes whose kept sandboxes a keep-alive policy can steer. */
export function keepingRuntimes(): RuntimeKind[] {
  return runtimeDescriptors()
    .filter((d) => d.keepsWarm?.keeper)
    .map((d) => d.kind);
}

/** How often the kept sandboxes are counted, in trace time, ms. */
const KEPT_SAMPLE_MS = 15_000;

/**
 * The file beside records.jsonl to which each count of kept sandboxes is appended as it is taken
 * (`{ run, atMs, kept }`, one a line), so a replay killed midway still has its series.
 */
export const KEPT_FILE = RUN_FILES.kept;

/** One count of the idle sandboxes a policy kept: the run (runtime x policy), trace ms from the first arrival, the count. */
export interface KeptSample {
  run: number;
  atMs: number;
  kept: number;
}

/**
 * Replays a trace under each policy on each runtime.
 * @throws UsageError `INVALID_CONFIG` (a bad spec), `INVALID_ARGUMENT` (a policy's name, a runtime
 * without keep-alive control for a policy that keeps sandboxes).
 */
export async function runReplay(nebula: Nebula, spec: ReplaySpec, options: ReplayOptions = {}): Promise<ReplayResult> {
  const policies = (spec.policies ?? ['none', 'fixed:10m', 'histogram']).map(parsePolicy);
  const speed = spec.speed ?? 60;
  if (!(speed > 0) || !Number.isFinite(speed))
    throw new UsageError('INVALID_CONFIG', `Replay: speed must be a number above 0, got ${String(speed)}.`);
  for (const fn of spec.trace.functions)
    if (!spec.mapping[fn]) throw new UsageError('INVALID_CONFIG', `Replay: trace function ${fn} is mapped to nothing.`);
  const { trace } = spec;
  const first = trace.arrivals[0]!.atMs;
  const spanMs = trace.arrivals[trace.arrivals.length - 1]!.atMs - first;
  // Each policy on this trace, checked before anything runs (per=app needs applications).
  const units = policies.map((p) => policyOnTrace(p, trace).per);
  await checkKeepers(nebula, spec, policies);
  claimOutDir(spec.outDir);
  await nebula.ready();
  const meter = nebula.meter;
  const run: ReplayRunFile = {
    format: 'nebula-replay/1',
    startedAt: isoFromMs(nowMs()),
    trace: { format: trace.format, functions: trace.functions, arrivals: trace.arrivals.length, spanMs },
    mapping: Object.fromEntries(
      Object.entries(spec.mapping).map(([fn, m]) => [fn, { function: m.spec.name, input: m.input }]),
    ),
    runtimes: spec.runtimes,
    policies: policies.map((p) => p.name),
    speed,
    machine: machineInfo(),
    meter: meter ? { name: meter.name, estimate: meter.estimate, intervalMs: meter.intervalMs } : null,
    baseline: null,
    keepWarmWattsPerSandbox: spec.keepWarmWattsPerSandbox ?? {},
    notes: [],
  };
  const save = () => writeJsonAtomic(join(spec.outDir, RUN_FILES.run), run);
  const note = (text: string) => {
    run.notes.push(text);
    save();
    options.onNote?.(text);
  };
  save();
  policies.forEach((p, i) => {
    if (p instanceof HistogramKeepAlive && trace.apps)
      note(
        `${p.name} learns idle times per ${units[i] === 'app' ? 'application' : 'function'} (the trace has ${new Set(trace.apps).size} applications of ${trace.functions.length} functions).`,
      );
  });
  if (meter && (spec.baselineMs ?? 5000) > 0 && !options.signal?.aborted) {
    try {
      run.baseline = await nebula.measureBaseline({ durationMs: spec.baselineMs ?? 5000 });
    } catch (e) {
      if (!isNebulaError(e)) throw e;
      note(`no idle baseline (energy figures include idle power): ${e.message}`);
    }
    save();
  }
  const planned = spec.runtimes.length * policies.length;
  const planTime = new PlanTime(Array.from({ length: planned }, () => ({ durationMs: spanMs / speed })));
  const keepWarmMs = KEEP_WARM.windowMs * KEEP_WARM.counts.length * 1.5;
  if (meter && spec.measureKeepWarm !== false && policies.some((p) => p.name !== 'none'))
    for (const [i, runtime] of spec.runtimes.entries()) {
      if (run.keepWarmWattsPerSandbox[runtime] !== undefined || options.signal?.aborted) continue;
      const laterMs = planTime.totalMs + keepWarmMs * (spec.runtimes.length - i - 1);
      options.onPolicy?.('keep-warm', runtime, 0, 1, keepWarmMs, laterMs);
      try {
        const kw = await measureKeepWarm(nebula, runtime, KEEP_WARM, {
          timeoutMs: spec.timeoutMs ?? 30_000,
          ...(options.signal ? { signal: options.signal } : {}),
        });
        run.keepWarmWattsPerSandbox[runtime] = kw.wattsPerSandbox;
        for (const n of kw.notes) note(`keep-warm step on ${runtime}: ${n}`);
      } catch (e) {
        if (!isNebulaError(e)) throw e;
        note(`no keep-warm power on ${runtime} (keep-warm energy is not given): ${e.message}`);
      }
      save();
    }
  const stream = new RecordStream(nebula, spec.outDir);
  const keptLog = new RecordLog(join(spec.outDir, KEPT_FILE));
  let keptLost = false;
  const onKept = (sample: KeptSample) => {
    if (keptLost) return;
    try {
      keptLog.append(sample);
    } catch (e) {
      // Counted in memory still, and in summary.json at the end; only a run killed midway loses them.
      keptLost = true;
      note(`the sandboxes kept over time could not be written to ${KEPT_FILE}: ${(e as Error).message}`);
    }
  };
  const results: PolicySummary[] = [];
  let index = 0;
  try {
    for (const runtime of spec.runtimes)
      for (const policy of policies) {
        if (options.signal?.aborted) break;
        options.onPolicy?.(policy.name, runtime, index, planned, spanMs / speed, planTime.started(index, nowMs()));
        const records = await replayOnce(nebula, spec, runtime, policy, index, stream, onKept, options);
        results.push(
          summarizePolicy(index, policy.name, runtime, records.records, records.kept, {
            speed,
            spanMs,
            wattsPerSandbox: run.keepWarmWattsPerSandbox[runtime],
          }),
        );
        index++;
      }
  } finally {
    stream.close();
    keptLog.close();
  }
  const result: ReplayResult = {
    ...run,
    finishedAt: isoFromMs(nowMs()),
    interrupted: options.signal?.aborted === true,
    results,
  };
  writeJsonAtomic(join(spec.outDir, RUN_FILES.summary), result);
  return result;
}

/** Names of the copies of the mapped functions for one replay: `replay-<n>`. */
const copyName = (i: number) => `replay-${i}`;

/** One trace function during a replay: its copy, its keeper, the policy's pending steps. */
interface Lane {
  name: string;
  input: unknown;
  keeper: SandboxKeeper | undefined;
  /** The last decision, in trace ms: a sandbox is kept from `from` (its end, or its pre-warm) until `until`. */
  window: { from: number; until: number; prewarm: boolean };
  timers: NodeJS.Timeout[];
}

async function replayOnce(
  nebula: Nebula,
  spec: ReplaySpec,
  runtime: RuntimeKind,
  policy: KeepAlivePolicy,
  index: number,
  stream: RecordStream,
  onKept: (sample: KeptSample) => void,
  options: ReplayOptions,
): Promise<{ records: ReplayRecord[]; kept: Array<{ atMs: number; kept: number }> }> {
  const { trace } = spec;
  const speed = spec.speed ?? 60;
  const keeps = policy.name !== 'none';
  const lanes = new Map<string, Lane>();
  const learner = policyOnTrace(policy, trace);
  for (const [i, fn] of trace.functions.entries()) {
    const m = spec.mapping[fn]!;
    const name = copyName(i);
    // Only the replayed runtime's artifact: another one (an image not in the engine) cannot fail it.
    const { builtin: _builtin, ...own } = specFor(m.spec, [runtime]);
    await nebula.deploy({ ...own, name, description: `trace function ${fn}` });
    await nebula.prepare([name], [runtime]);
    const keeper = keeps ? await nebula.keeper(name, runtime) : undefined;
    keeper?.hold();
    lanes.set(fn, { name, input: m.input, keeper, window: { from: 0, until: 0, prewarm: false }, timers: [] });
  }
  const first = trace.arrivals[0]!.atMs;
  const offsets = trace.arrivals.map((a) => (a.atMs - first) / speed);
  const records: ReplayRecord[] = [];
  const kept: Array<{ atMs: number; kept: number }> = [];
  const count = () => [...lanes.values()].reduce((a, l) => a + (l.keeper?.idle() ?? 0), 0);
  // Counted at trace times 15 s, 30 s, ... from the first arrival (the generator's start, trace time
  // 0), on the clock the arrivals and the policy's timers keep. A timer late past a count still
  // gives that count, so the series covers the whole replay and its kept time sums right.
  let sampler: NodeJS.Timeout | undefined;
  const sampleFrom = (startAt: number) => {
    let next = 1;
    const due = () => startAt + (next * KEPT_SAMPLE_MS) / speed;
    const take = () => {
      const now = count();
      for (; due() <= nowMs(); next++) {
        const sample = { atMs: next * KEPT_SAMPLE_MS, kept: now };
        kept.push(sample);
        onKept({ run: index, ...sample });
      }
      sampler = setTimeout(take, due() - nowMs());
    };
    sampler = setTimeout(take, due() - nowMs());
  };
  let done = 0;
  const mode = keeps ? 'warm' : 'cold';
  try {
    await generate({
      offsets,
      maxInFlight: spec.maxInFlight ?? 256,
      queueTimeoutMs: spec.timeoutMs ?? 30_000,
      signal: options.signal,
      onStart: sampleFrom,
      send: async (a) => {
        const arrival = trace.arrivals[a.index]!;
        const lane = lanes.get(arrival.function)!;
        learner.arrive(arrival.function, arrival.atMs);
        for (const t of lane.timers.splice(0)) clearTimeout(t);
        // The decision holds in trace time; its timers may be a moment late on a busy machine.
        if (lane.keeper) {
          const w = lane.window;
          if (arrival.atMs >= w.until || (w.prewarm && arrival.atMs < w.from)) await lane.keeper.drop();
          else if (w.prewarm && lane.keeper.idle() === 0) await lane.keeper.prewarm();
        }
        let rec: InvocationRecord;
        try {
          rec = await nebula.invoke(lane.name, lane.input, { runtime, mode, timeoutMs: spec.timeoutMs ?? 30_000 });
        } catch (e) {
          rec = failedRecord({ function: lane.name, runtime, mode, input: lane.input }, a.sentAt, e, 'RUNTIME_ERROR');
        }
        const latencyMs = rec.timing.requestAt + rec.timing.totalMs - a.intendedAt;
        if (lane.keeper) enforce(lane, learner.decide(arrival.function), arrival.atMs + latencyMs * speed, speed);
        const r = rec as ReplayRecord;
        r.replay = {
          run: index,
          policy: policy.name,
          traceFunction: arrival.function,
          atMs: arrival.atMs,
          intendedAt: a.intendedAt,
          lagMs: a.lagMs,
          latencyMs,
        };
        records.push(r);
        stream.add(r);
        options.onTick?.(++done, offsets.length);
      },
      giveUp: (a, at) => {
        const arrival = trace.arrivals[a.index]!;
        const lane = lanes.get(arrival.function)!;
        const r = failedRecord(
          { function: lane.name, runtime, mode, input: lane.input },
          at,
          new NebulaError('TIMEOUT', 'Waited in the queue longer than the timeout.'),
          'TIMEOUT',
        ) as ReplayRecord;
        r.replay = {
          run: index,
          policy: policy.name,
          traceFunction: arrival.function,
          atMs: arrival.atMs,
          intendedAt: a.intendedAt,
          lagMs: a.lagMs,
          latencyMs: at - a.intendedAt,
          givenUp: true,
        };
        records.push(r);
        stream.add(r);
        options.onTick?.(++done, offsets.length);
      },
    });
  } finally {
    clearTimeout(sampler);
    for (const lane of lanes.values()) for (const t of lane.timers.splice(0)) clearTimeout(t);
    await nebula.settled();
    for (const lane of lanes.values()) await nebula.undeploy(lane.name);
    await nebula.cleanedUp(spec.timeoutMs ?? 30_000);
  }
  return { records, kept };
}

/**
 * Applies a decision taken at trace time `endMs` (the invocation's end) to a lane's sandboxes:
 * its window in trace time, and timers (trace ms scaled to real ms by `speed`) that remove the
 * sandboxes and make one again ahead.
 */
function enforce(lane: Lane, d: KeepAliveDecision, endMs: number, speed: number): void {
  const keeper = lane.keeper!;
  for (const t of lane.timers.splice(0)) clearTimeout(t);
  const at = (traceMs: number, step: () => Promise<void>) => {
    const t = setTimeout(() => void step().catch(() => undefined), traceMs / speed);
    t.unref();
    lane.timers.push(t);
  };
  lane.window = { from: endMs + d.prewarmMs, until: endMs + d.prewarmMs + d.keepAliveMs, prewarm: d.prewarmMs > 0 };
  if (d.prewarmMs > 0) {
    void keeper.drop().catch(() => undefined);
    at(d.prewarmMs, () => keeper.prewarm());
  }
  if (d.prewarmMs + d.keepAliveMs <= 0) void keeper.drop().catch(() => undefined);
  else at(d.prewarmMs + d.keepAliveMs, () => keeper.drop());
}
