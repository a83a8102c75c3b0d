/**
 * The summary of a load step from its records: offered and achieved rate, latency from the
 * intended send time (percentiles with distribution-free intervals), the generator's lag, errors
 * by code, cold starts, invocations in flight and sandboxes made, CPU and energy per invocation (the
 * records' shares, median with its interval) and the power at that load; and the knee of a sweep.
 */
import { quantile, quantileInterval } from '../../stats.js';
import type { RuntimeKind } from '../../runtimes/index.js';
import type { EnergyLedger, InvocationMode, InvocationRecord } from '../../types.js';
import type { ArrivalProcess } from './arrivals.js';

/** What a load run adds to each record it writes (`record.load`). Times epoch ms, durations ms. */
export interface LoadFacts {
  /** The step's index in the run's list of steps. */
  step: number;
  /** When the invocation was meant to be sent. */
  intendedAt: number;
  /** How late the generator took it up. */
  lagMs: number;
  /** Time it waited for a free place under the in-flight limit (after the generator took it up). */
  queueMs: number;
  /** From the intended send time to its result: the latency a client would have seen. */
  latencyMs: number;
  /** True when it waited too long in the queue and was never sent (its record is a `TIMEOUT` failure). */
  givenUp?: boolean;
}

/** An invocation record of a load run. */
export type LoadRecord = InvocationRecord & { load: LoadFacts };

/** One step of a load run: a function on a runtime in a mode at one rate. */
export interface LoadStep {
  function: string;
  input: unknown;
  runtime: RuntimeKind;
  mode: InvocationMode;
  /** Offered rate, arrivals per second, and how they arrive. */
  ratePerS: number;
  arrivals: ArrivalProcess;
  durationMs: number;
}

/** A percentile with its 95% interval (`open`: too few values above it to bound the upper end). */
export interface Percentile {
  value: number;
  ci95: [number, number];
  open: boolean;
}

/** The latency percentiles reported per step. */
const LOAD_PERCENTILES = { p50: 0.5, p90: 0.9, p99: 0.99, p999: 0.999 } as const;

/** What one step measured. */
export interface StepSummary extends LoadStep {
  /** Index in the run's steps. */
  step: number;
  /** Arrivals scheduled, sent, given up in the queue, not sent (the run was stopped). */
  scheduled: number;
  sent: number;
  givenUp: number;
  unsent: number;
  /** Arrivals a second the schedule held, and results a second that came back ok. */
  offeredPerS: number;
  achievedPerS: number;
  /** Records ok and failed (given-up ones included), and failures by code. */
  ok: number;
  failed: number;
  errors: Record<string, number>;
  /** Latency from the intended send time, ms (every record that got a result, ok or not). */
  latencyMs: Record<keyof typeof LOAD_PERCENTILES, Percentile> & { max: number; mean: number };
  /** Time spent in the queue, ms: median and max. */
  queueMs: { median: number; max: number };
  /** The generator's own lag behind the schedule, ms. */
  lagMs: { p50: number; p99: number; max: number };
  /** True when the generator fell behind its schedule (lag p99 over {@link LAG_BOUND_MS}). */
  generatorBehind: boolean;
  /** Share of invocations whose sandbox was made inside them (a cold start). */
  coldShare: number;
  /**
   * Invocations in flight (sent and not yet ended, each in a sandbox of its own while it runs): the
   * most at once, and the mean over the step (Little's law: the sum of their `totalMs` over the span).
   */
  inFlight: { peak: number; mean: number };
  /**
   * Sandboxes made during the step, from the records' `sandbox`: `fresh` ones (made inside an
   * invocation, a cold start) and `prewarmed` ones (made ahead and taken by an invocation). `used`
   * is how many distinct sandboxes ran the step's invocations, counted from the records' `sandboxId`
   * (Docker names its containers); null ("not reported") when no record names its sandbox.
   */
  sandboxes: { made: number; fresh: number; prewarmed: number; used: number | null };
  /** Median CPU time per invocation, ms (null when the runtime reported none). */
  cpuMsPerInvocation: number | null;
  /**
   * Energy per invocation, J: the median of the records' shares of the power above idle
   * (`energy.shareJ`) with its 95% interval, and of that plus their share of the idle power; the
   * means beside them; `n` records with a share. Null without a meter or shares.
   */
  energyJPerInvocation: {
    aboveIdle: Percentile;
    withIdle: Percentile;
    meanAboveIdle: number;
    meanWithIdle: number;
    n: number;
  } | null;
  /** Mean power over the step, W (from the meter's ledger of the step's span), and above idle. */
  powerW: { mean: number; aboveIdle: number } | null;
}

/** The generator's lag (p99, ms) above which a step says its generator fell behind. */
const LAG_BOUND_MS = 1;

const sortedOf = (xs: number[]) => xs.filter(Number.isFinite).sort((a, b) => a - b);

function percentile(sorted: number[], q: number): Percentile {
  const ci = quantileInterval(sorted, q);
  return { value: quantile(sorted, q), ci95: [ci.lo, ci.hi], open: ci.open };
}

/** The most invocations running at once, from their records (each from its `requestAt` for its `totalMs`). */
function peakOverlap(records: readonly LoadRecord[]): number {
  const edges = records.flatMap((r): Array<[number, number]> => [
    [r.timing.requestAt, 1],
    [r.timing.requestAt + r.timing.totalMs, -1],
  ]);
  // At equal times an end comes before a start: a sandbox handed on is not two at once.
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let peak = 0;
  for (const [, d] of edges) {
    now += d;
    peak = Math.max(peak, now);
  }
  return peak;
}

/** The sandboxes a step's invocations made, and the distinct ones they ran in where records name them. */
function sandboxesOf(records: readonly LoadRecord[]): StepSummary['sandboxes'] {
  const fresh = records.filter((r) => r.sandbox === 'fresh').length;
  const prewarmed = records.filter((r) => r.sandbox === 'prewarmed').length;
  // A record without an id ran in no sandbox (it failed before one was made) or on a runtime that names none.
  const ids = records.flatMap((r) => (r.sandboxId === undefined ? [] : [r.sandboxId]));
  return { made: fresh + prewarmed, fresh, prewarmed, used: ids.length ? new Set(ids).size : null };
}

/**
 * Summarises one step's records.
 * @param gen what the generator counted (`sent` etc.), and the step's start (epoch ms)
 * @param ledger the meter's ledger over the step's span, when there is a meter
 */
export function summarizeStep(
  index: number,
  step: LoadStep,
  records: readonly LoadRecord[],
  gen: { scheduled: number; sent: number; givenUp: number; unsent: number; peakInFlight: number; startAt: number },
  ledger?: EnergyLedger,
): StepSummary {
  const ok = records.filter((r) => r.ok);
  const errors: Record<string, number> = {};
  for (const r of records) if (!r.ok) errors[r.error.code] = (errors[r.error.code] ?? 0) + 1;
  const ran = records.filter((r) => !r.load.givenUp);
  const latency = sortedOf(ran.map((r) => r.load.latencyMs));
  const lag = sortedOf(records.map((r) => r.load.lagMs));
  const queue = sortedOf(ran.map((r) => r.load.queueMs));
  let end = gen.startAt;
  let busyMs = 0;
  for (const r of ran) {
    end = Math.max(end, r.load.intendedAt + r.load.latencyMs);
    busyMs += r.timing.totalMs;
  }
  const spanMs = Math.max(step.durationMs, end - gen.startAt);
  const cpu = sortedOf(ran.map((r) => r.resources?.cpuMs ?? Number.NaN));
  const shared = ran.filter((r) => r.energy?.shareJ != null);
  const shareJ = shared.map((r) => r.energy!.shareJ!);
  const shareWithIdleJ = shared.map((r) => r.energy!.shareJ! + r.energy!.baselineShareJ);
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const lagP99 = quantile(lag, 0.99);
  const percentiles = Object.fromEntries(
    Object.entries(LOAD_PERCENTILES).map(([k, q]) => [k, percentile(latency, q)]),
  ) as Record<keyof typeof LOAD_PERCENTILES, Percentile>;
  const ledgerSpanS = ledger ? (ledger.to - ledger.from) / 1000 : 0;
  return {
    ...step,
    step: index,
    scheduled: gen.scheduled,
    sent: gen.sent,
    givenUp: gen.givenUp,
    unsent: gen.unsent,
    offeredPerS: (gen.scheduled / step.durationMs) * 1000,
    achievedPerS: (ok.length / spanMs) * 1000,
    ok: ok.length,
    failed: records.length - ok.length,
    errors,
    latencyMs: {
      ...percentiles,
      max: latency.length ? latency[latency.length - 1]! : Number.NaN,
      mean: latency.length ? sum(latency) / latency.length : Number.NaN,
    },
    queueMs: { median: quantile(queue, 0.5), max: queue.length ? queue[queue.length - 1]! : Number.NaN },
    lagMs: { p50: quantile(lag, 0.5), p99: lagP99, max: lag.length ? lag[lag.length - 1]! : Number.NaN },
    generatorBehind: lagP99 > LAG_BOUND_MS,
    coldShare: ran.length ? ran.filter((r) => r.sandbox === 'fresh').length / ran.length : Number.NaN,
    inFlight: {
      peak: Number.isFinite(gen.peakInFlight) ? gen.peakInFlight : peakOverlap(ran),
      mean: busyMs / spanMs,
    },
    sandboxes: sandboxesOf(ran),
    cpuMsPerInvocation: cpu.length ? quantile(cpu, 0.5) : null,
    energyJPerInvocation: shared.length
      ? {
          aboveIdle: percentile(sortedOf(shareJ), 0.5),
          withIdle: percentile(sortedOf(shareWithIdleJ), 0.5),
          meanAboveIdle: sum(shareJ) / shared.length,
          meanWithIdle: sum(shareWithIdleJ) / shared.length,
          n: shared.length,
        }
      : null,
    powerW:
      ledger && ledgerSpanS > 0
        ? { mean: ledger.energyJ / ledgerSpanS, aboveIdle: ledger.aboveBaselineJ / ledgerSpanS }
        : null,
  };
}

/** The generator over a run's steps: its largest lag p99 (ms) and whether it fell behind in any step. */
export function generatorOf(steps: readonly StepSummary[]): { lagP99Ms: number; behind: boolean } {
  return {
    lagP99Ms: Math.max(0, ...steps.map((s) => s.lagMs.p99).filter(Number.isFinite)),
    behind: steps.some((s) => s.generatorBehind),
  };
}

/** The bounds a sweep is judged by. */
export interface LoadBounds {
  /** A step whose p99 latency is above this, ms, stops its series' sweep. */
  stopP99Ms: number;
  /** A step whose share of failed invocations is above this stops its series' sweep. */
  stopErrorRate: number;
  /** The knee is the highest rate whose p99 is at most this, ms (and errors within the bound). */
  kneeP99Ms: number;
}

/** The share of a step's arrivals that failed or were given up. */
function errorRate(s: StepSummary): number {
  const n = s.ok + s.failed;
  return n ? s.failed / n : 0;
}

/** Why a step stops its series' sweep, or undefined when the sweep goes on. */
export function stopReason(s: StepSummary, bounds: LoadBounds): string | undefined {
  if (s.latencyMs.p99.value > bounds.stopP99Ms)
    return `p99 ${s.latencyMs.p99.value.toFixed(1)} ms is over the bound of ${bounds.stopP99Ms} ms`;
  if (errorRate(s) > bounds.stopErrorRate)
    return `${(errorRate(s) * 100).toFixed(1)}% of invocations failed, over the bound of ${(bounds.stopErrorRate * 100).toFixed(1)}%`;
  return undefined;
}

/** Why a step misses the knee's bounds (p99, failed share, no success at all), or undefined when it meets them. */
export function kneeMiss(s: StepSummary, bounds: LoadBounds): string | undefined {
  if (!(s.latencyMs.p99.value <= bounds.kneeP99Ms))
    return Number.isFinite(s.latencyMs.p99.value)
      ? `p99 ${s.latencyMs.p99.value.toFixed(1)} ms is over ${bounds.kneeP99Ms} ms`
      : 'no invocation got a result';
  if (errorRate(s) > bounds.stopErrorRate)
    return `${(errorRate(s) * 100).toFixed(1)}% of invocations failed, over ${(bounds.stopErrorRate * 100).toFixed(1)}%`;
  if (s.ok === 0) return 'no invocation succeeded';
  return undefined;
}

/** The knee of one series: the highest offered rate meeting the bounds, or null when none did. */
export function kneeOf(steps: readonly StepSummary[], bounds: LoadBounds): number | null {
  let knee: number | null = null;
  for (const s of steps) if (kneeMiss(s, bounds) === undefined) knee = Math.max(knee ?? 0, s.ratePerS);
  return knee;
}
