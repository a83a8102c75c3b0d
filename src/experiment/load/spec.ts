/**
 * What a load run takes, its defaults (resolved once, here) and the checks that refuse a spec
 * before anything runs.
 */
import { UsageError } from '../../errors.js';
import { isRuntimeKind, runtimeKinds, type RuntimeKind } from '../../runtimes/registry.js';
import { INVOCATION_MODES, type InvocationMode } from '../../types.js';
import { QUICK_INPUTS } from '../run/config.js';
import { ARRIVAL_PROCESSES, type ArrivalProcess } from './arrivals.js';
import type { LoadBounds } from './summary.js';

/** A load run: each function x runtime x mode is a series, swept through the rates in ascending order. */
export interface LoadSpec {
  /** Deployed functions to load. */
  functions: string[];
  /** The input of each function. Default: the built-ins' small inputs (runs well under a millisecond). */
  inputs?: Record<string, unknown>;
  /** Default: every registered runtime. */
  runtimes?: RuntimeKind[];
  /** Default `['warm']`: a kept sandbox is reused, as a platform under steady traffic does. */
  modes?: InvocationMode[];
  /** Offered rates, arrivals per second; one step per rate. Default `[100]`. */
  rates?: number[];
  /** Default `constant`. */
  arrivals?: ArrivalProcess;
  /** Length of each step, ms. Default 30 000. */
  durationMs?: number;
  /** A series' sweep stops at the first step whose p99 latency is over this, ms. Default 1 000. */
  stopP99Ms?: number;
  /** A series' sweep stops at the first step with a larger share of failed arrivals. Default 0.05. */
  stopErrorRate?: number;
  /** The knee of a series is its highest rate with a p99 latency at most this, ms. Default 10. */
  kneeP99Ms?: number;
  /** Invocations in flight at once at most; later arrivals wait in the queue, and their wait counts. Default 64. */
  maxInFlight?: number;
  /** Per invocation, and the longest an arrival waits in the queue before it is given up, ms. Default 10 000. */
  timeoutMs?: number;
  /** Unrecorded invocations of each series before its first step. Default 2. */
  warmup?: number;
  /** Idle power measured first, ms (0: none). Default 10 000. */
  baselineMs?: number;
  /** Seed of Poisson arrivals. Default 1. */
  seed?: number;
  /** A new or empty folder for run.json, records.jsonl and summary.json. */
  outDir: string;
  /** Skip a runtime that cannot run here, with a note, instead of failing. Default false. */
  skipUnavailable?: boolean;
}

/** A spec with every default resolved. */
export type ResolvedLoadSpec = Required<Omit<LoadSpec, 'inputs'>> & LoadBounds & { inputs: Record<string, unknown> };

/** Arrivals a run may schedule in all: a spec above it is refused before anything runs. */
const MAX_ARRIVALS = 10_000_000;
/** The highest rate a step may offer, arrivals per second. */
const MAX_RATE_PER_S = 100_000;

const bad = (field: string, what: string, got: unknown) =>
  new UsageError('INVALID_CONFIG', `Load spec: ${field} ${what}, got ${JSON.stringify(got) ?? String(got)}.`, {
    details: { field },
  });

function positive(field: string, value: unknown, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || !(value > 0) || value > max)
    throw bad(field, `must be a number above 0 and at most ${max}`, value);
  return value;
}

function share(field: string, value: unknown): number {
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) throw bad(field, 'must be a share from 0 to 1', value);
  return value;
}

function whole(field: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    throw bad(field, `must be a whole number from ${min} to ${max}`, value);
  return value;
}

/**
 * Resolves the defaults and checks every field.
 * @throws UsageError `INVALID_CONFIG` naming the field that is wrong, or a run of more than {@link MAX_ARRIVALS} arrivals.
 */
export function resolveLoadSpec(spec: LoadSpec): ResolvedLoadSpec {
  if (!Array.isArray(spec.functions) || !spec.functions.length || spec.functions.some((f) => typeof f !== 'string'))
    throw bad('functions', 'must be a list of one or more function names', spec.functions);
  const runtimes = spec.runtimes ?? runtimeKinds();
  for (const r of runtimes)
    if (!isRuntimeKind(r)) throw bad('runtimes', `must be from ${runtimeKinds().join(', ')}`, r);
  const modes = spec.modes ?? ['warm'];
  for (const m of modes)
    if (!INVOCATION_MODES.includes(m)) throw bad('modes', `must be from ${INVOCATION_MODES.join(', ')}`, m);
  const rates = [...(spec.rates ?? [100])].map((r) => positive('rates', r, MAX_RATE_PER_S)).sort((a, b) => a - b);
  if (!rates.length) throw bad('rates', 'must hold at least one rate', spec.rates);
  const arrivals = spec.arrivals ?? 'constant';
  if (!ARRIVAL_PROCESSES.includes(arrivals))
    throw bad('arrivals', `must be ${ARRIVAL_PROCESSES.join(' or ')}`, arrivals);
  const durationMs = positive('durationMs', spec.durationMs ?? 30_000, 2_147_483_647);
  const series = spec.functions.length * runtimes.length * modes.length;
  const arrivalsInAll = series * rates.reduce((a, r) => a + Math.ceil((r * durationMs) / 1000), 0);
  if (arrivalsInAll > MAX_ARRIVALS)
    throw bad(
      'rates x durationMs',
      `schedule ${arrivalsInAll.toExponential(2)} arrivals in all, over the limit of ${MAX_ARRIVALS.toExponential(0)}; lower the rates, the duration or the series`,
      { rates, durationMs },
    );
  if (typeof spec.outDir !== 'string' || !spec.outDir) throw bad('outDir', 'must be a folder path', spec.outDir);
  const outDir = spec.outDir;
  const kneeP99Ms = positive('kneeP99Ms', spec.kneeP99Ms ?? 10);
  const inputs: Record<string, unknown> = {};
  for (const f of spec.functions)
    inputs[f] = spec.inputs && f in spec.inputs ? spec.inputs[f] : (QUICK_INPUTS[f]?.[0] ?? null);
  return {
    functions: spec.functions,
    inputs,
    runtimes,
    modes,
    rates,
    arrivals,
    durationMs,
    stopP99Ms: positive('stopP99Ms', spec.stopP99Ms ?? 1000),
    stopErrorRate: share('stopErrorRate', spec.stopErrorRate ?? 0.05),
    kneeP99Ms,
    maxInFlight: whole('maxInFlight', spec.maxInFlight ?? 64, 1, 100_000),
    timeoutMs: positive('timeoutMs', spec.timeoutMs ?? 10_000, 2_147_483_647),
    warmup: whole('warmup', spec.warmup ?? 2, 0),
    baselineMs: whole('baselineMs', spec.baselineMs ?? 10_000, 0),
    seed: whole('seed', spec.seed ?? 1, 0),
    outDir,
    skipUnavailable: spec.skipUnavailable ?? false,
  };
}
