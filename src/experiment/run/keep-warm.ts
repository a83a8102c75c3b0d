/**
 * The cost of keeping sandboxes warm: the power drawn and the memory held with K sandboxes kept
 * alive (K concurrent `warm` invocations of a fresh copy of one function, then idle), for each K
 * in a list, on one runtime. Straight lines over K give watts and bytes per kept sandbox. K only
 * grows while the machine has the memory for it: the step stops growing, and says so, before the
 * kept sandboxes would leave less than a reserve free.
 */
import { readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { MeterError, shownValue, UsageError } from '../../errors.js';
import type { Nebula, NebulaOptions } from '../../nebula.js';
import { builtinFunctions, runtimeDescriptors, type RuntimeKind } from '../../runtimes/registry.js';
import { linearFit } from '../../stats.js';
import type { FunctionSpec, InvocationMode } from '../../types.js';

/** What the keep-warm step measures. Every field has a default. */
export interface KeepWarmConfig {
  /** Sandboxes kept, measured in this order (ascending: kept sandboxes only expire). Default [0, 1, 10, 50]. */
  counts?: number[];
  /** Length of one power measurement, ms. Default 5 000. */
  windowMs?: number;
  /** Measurements per count. Default 2. */
  repeats?: number;
  /** The built-in function whose sandboxes are kept. Default `fib`. */
  function?: string;
  /** Its input. Default 1. */
  input?: unknown;
}

export type ResolvedKeepWarm = Required<KeepWarmConfig>;

/** One measurement: K kept sandboxes, the mean power over the window, the host's MemAvailable after it. */
interface KeepWarmPoint {
  k: number;
  powerW: number;
  memAvailableBytes: number | null;
}

/** The keep-warm cost of one runtime. */
export interface KeepWarmResult {
  runtime: RuntimeKind;
  function: string;
  meter: string;
  estimate: boolean;
  windowMs: number;
  points: KeepWarmPoint[];
  /** Slope of power over K: W per kept sandbox, with its 95% interval. */
  wattsPerSandbox: number;
  wattsCi95: [number, number];
  /** Intercept: the power with no sandbox kept, W. */
  idleW: number;
  /** Slope of the drop in MemAvailable over K: bytes per kept sandbox (null where /proc/meminfo is not readable). */
  bytesPerSandbox: number | null;
  bytesCi95: [number, number] | null;
  /** Of the largest K measured, how many invocations found a kept sandbox when touched again after the windows. */
  reusedAfter: number;
  /** The largest K measured (below the largest asked for when the step stopped growing). */
  heldMax: number;
  notes: string[];
}

/** One step of the measurement, for progress: starting `added` sandboxes, or a wait of `ms` (settling, a window). */
export type KeepWarmStep = { kind: 'start'; added: number } | { kind: 'wait'; ms: number };

/** Told of each step as it begins and ends, and when K stops growing early. */
export interface KeepWarmProgress {
  begin(step: KeepWarmStep): void;
  end(): void;
  /** The remaining steps of this runtime will not run. */
  stopped(): void;
}

/** The steps of measuring one runtime, in order (for an estimate of the time they take). */
export function keepWarmSteps(o: ResolvedKeepWarm, intervalMs: number): KeepWarmStep[] {
  const steps: KeepWarmStep[] = [];
  let held = 0;
  for (const k of o.counts) {
    steps.push({ kind: 'start', added: Math.max(0, k - held) }, { kind: 'wait', ms: settleMs(intervalMs) });
    held = Math.max(held, k);
    for (let i = 0; i < o.repeats; i++) steps.push({ kind: 'wait', ms: o.windowMs });
  }
  return steps;
}

const MiB = 1024 * 1024;
/** What one kept sandbox is taken to hold until the step has measured it: generous, so a machine short of memory stops early rather than late. */
const PRIOR_BYTES_PER_SANDBOX = 64 * MiB;
/** Memory the step leaves free: 10% of the machine's, at least 256 MiB. */
export const reserveBytes = (): number => Math.max(256 * MiB, totalmem() * 0.1);
/** A start of the sandboxes that takes this many times its estimate (and at least a minute) means the machine is short of cores or memory. */
const SLOW_START = 20;
/** Time for the start-up work of new sandboxes to end before the idle power is measured. */
const settleMs = (intervalMs: number) => intervalMs * 2 + 200;
const fmtMiB = (b: number) => `${Math.round(b / MiB)} MiB`;

const bad = (what: string, got: unknown) =>
  new UsageError('INVALID_CONFIG', `Experiment config: keepWarm.${what}, got ${shownValue(got)}.`, {
    details: { field: `keepWarm` },
  });

/**
 * The keep-warm step's settings: `true` or an object turns it on, `false` off; left out, it is
 * on when the modes include `warm`.
 * @throws UsageError `INVALID_CONFIG`
 */
export function resolveKeepWarm(
  value: KeepWarmConfig | boolean | undefined,
  modes: readonly InvocationMode[],
): ResolvedKeepWarm | false {
  if (value === false || (value === undefined && !modes.includes('warm'))) return false;
  const c: KeepWarmConfig = value === true || value === undefined ? {} : value;
  if (typeof c !== 'object' || c === null) throw bad('', c);
  const counts = c.counts ?? [0, 1, 10, 50];
  if (!Array.isArray(counts) || counts.length < 2 || counts.some((k) => !Number.isInteger(k) || k < 0 || k > 1000))
    throw bad('counts must list two or more whole numbers from 0 to 1000', counts);
  const windowMs = c.windowMs ?? 5000;
  if (typeof windowMs !== 'number' || !(windowMs >= 100) || windowMs > 600_000)
    throw bad('windowMs must be 100 to 600000 ms', windowMs);
  const repeats = c.repeats ?? 2;
  if (!Number.isInteger(repeats) || repeats < 1 || repeats > 100)
    throw bad('repeats must be a whole number from 1 to 100', repeats);
  const fn = c.function ?? 'fib';
  if (!builtinFunctions().some((s) => s.name === fn)) throw bad('function must name a built-in function', fn);
  return { counts: [...new Set(counts)].sort((a, b) => a - b), windowMs, repeats, function: fn, input: c.input ?? 1 };
}

/**
 * Nebula options that let the keep-warm step hold its largest count: each runtime that keeps
 * sandboxes warm caps them (its descriptor's `keepsWarm`: 8 Docker containers, 4 Wasm instances
 * per function and worker by default), below the default 50. Caps the user set higher are kept.
 */
export function withKeepWarmCaps(options: NebulaOptions, keepWarm: ResolvedKeepWarm | false): NebulaOptions {
  if (!keepWarm) return options;
  const k = Math.max(...keepWarm.counts);
  const out: Record<string, unknown> = { ...options };
  for (const { kind, keepsWarm } of runtimeDescriptors()) {
    if (!keepsWarm) continue;
    const own = out[kind] as Record<string, unknown> | undefined;
    const cap = own?.[keepsWarm.option];
    out[kind] = { ...own, [keepsWarm.option]: Math.max(typeof cap === 'number' ? cap : keepsWarm.default, k) };
  }
  return out;
}

/** This host's MemAvailable, bytes (null where /proc/meminfo is not readable). */
function memAvailableBytes(): number | null {
  try {
    const m = /^MemAvailable:\s+(\d+)\s+kB/m.exec(readFileSync('/proc/meminfo', 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** How one runtime's keep-warm measurement runs. */
export interface KeepWarmRun {
  /** Per warm invocation, ms. */
  timeoutMs: number;
  signal?: AbortSignal;
  progress?: KeepWarmProgress;
  /** The expected time to start one sandbox, ms, to notice a machine too busy to start them. Default 300. */
  startMs?: number;
  /** The host's available memory in bytes (null where unknown). Default: MemAvailable of /proc/meminfo. */
  memAvailable?: () => number | null;
}

/**
 * Measures the keep-warm cost of `runtime` with the instance's meter. K grows through `o.counts`
 * while memory allows (see the module comment).
 * @throws NebulaError `METER_UNAVAILABLE` when no meter is attached or it has a gap.
 */
export async function measureKeepWarm(
  nebula: Nebula,
  runtime: RuntimeKind,
  o: ResolvedKeepWarm,
  { timeoutMs, signal, progress, startMs = 300, memAvailable = memAvailableBytes }: KeepWarmRun,
): Promise<KeepWarmResult> {
  const meter = nebula.meter;
  if (!meter) throw new MeterError('METER_UNAVAILABLE', 'The keep-warm step needs a meter.');
  const builtin = builtinFunctions().find((s) => s.name === o.function)!;
  // A fresh copy, so no sandbox of it is kept yet: K = 0 really is zero.
  const name = `keepwarm-${o.function}-${runtime}`.slice(0, 63);
  const spec = { name, description: `keep-warm probe of ${o.function}`, [runtime]: builtin[runtime] } as FunctionSpec;
  if (builtin.limits) spec.limits = builtin.limits;
  await nebula.deploy(spec);
  const notes: string[] = [];
  const points: KeepWarmPoint[] = [];
  const hold = async (k: number) => {
    const recs = await Promise.all(
      Array.from({ length: k }, () => nebula.invoke(name, o.input, { runtime, mode: 'warm', timeoutMs })),
    );
    const failed = recs.filter((r) => !r.ok);
    if (failed.length)
      notes.push(
        `${failed.length} of ${k} warm invocations failed (${failed[0]!.error?.code}): fewer sandboxes were kept.`,
      );
    return recs;
  };
  const step = async <T>(s: KeepWarmStep, work: () => Promise<T>): Promise<T> => {
    progress?.begin(s);
    try {
      return await work();
    } finally {
      progress?.end();
    }
  };
  const wait = (ms: number) => step({ kind: 'wait', ms }, () => new Promise((r) => setTimeout(r, ms)));
  const cores = cpus().length;
  const busy = loadavg()[0]!;
  if (busy > cores)
    notes.push(
      `the machine was busy when the step began (load average ${busy.toFixed(1)} on ${cores} cores): other programs' load moves the power measured.`,
    );
  let reusedAfter = 0;
  let held = 0;
  const reserve = reserveBytes();
  try {
    for (const k of o.counts) {
      if (signal?.aborted) break;
      const added = Math.max(0, k - held);
      const avail = memAvailable();
      const per = bytesPerSandbox(points) ?? PRIOR_BYTES_PER_SANDBOX;
      if (avail !== null && added > 0 && avail - added * per < reserve) {
        notes.push(
          `stopped growing at K = ${held}: ${fmtMiB(avail)} of memory was available, and ${added} more sandboxes at about ${fmtMiB(per)} each would leave less than the ${fmtMiB(reserve)} kept free (10% of memory); K = ${o.counts.filter((c) => c >= k).join(', ')} not measured.`,
        );
        progress?.stopped();
        break;
      }
      const began = performance.now();
      await step({ kind: 'start', added }, () => hold(k));
      const took = performance.now() - began;
      held = Math.max(held, k);
      // Let the start-up work of the new sandboxes end before measuring the idle power.
      await wait(settleMs(meter.intervalMs));
      for (let i = 0; i < o.repeats && !signal?.aborted; i++) {
        const p = await step({ kind: 'wait', ms: o.windowMs }, () => nebula.measurePower({ durationMs: o.windowMs }));
        points.push({ k, powerW: p.powerW, memAvailableBytes: memAvailable() });
      }
      const left = memAvailable();
      const next = o.counts.find((c) => c > k);
      if (next !== undefined && left !== null && left < reserve) {
        notes.push(
          `stopped growing at K = ${k}: ${fmtMiB(left)} of memory was left, less than the ${fmtMiB(reserve)} kept free (10% of memory); K = ${o.counts.filter((c) => c > k).join(', ')} not measured.`,
        );
        progress?.stopped();
        break;
      }
      if (next !== undefined && added > 0 && took > Math.max(60_000, SLOW_START * added * startMs)) {
        notes.push(
          `stopped growing at K = ${k}: starting ${added} sandboxes took ${(took / 1000).toFixed(0)} s, far beyond the ${((added * startMs) / 1000).toFixed(1)} s the run's start-up times predict: the machine has no free cores or memory for more; K = ${o.counts.filter((c) => c > k).join(', ')} not measured.`,
        );
        progress?.stopped();
        break;
      }
    }
    if (!signal?.aborted && held > 0) reusedAfter = (await hold(held)).filter((r) => r.sandbox === 'reused').length;
  } finally {
    await nebula.undeploy(name);
  }
  if (reusedAfter < held)
    notes.push(
      `Only ${reusedAfter} of ${held} warm invocations after the windows found a kept sandbox: ${runtime} did not keep ${held} sandboxes through the measurement (its warm mode, cap or keep-alive), so the figure is per sandbox actually kept, at most.`,
    );
  const ks = points.map((p) => p.k);
  if (new Set(ks).size < 2)
    notes.push(`fewer than two values of K were measured, so no power or memory per kept sandbox is given.`);
  const power = linearFit(
    ks,
    points.map((p) => p.powerW),
  );
  const haveMem = points.length > 0 && points.every((p) => p.memAvailableBytes !== null);
  const mem = haveMem
    ? linearFit(
        ks,
        points.map((p) => -p.memAvailableBytes!),
      )
    : null;
  return {
    runtime,
    function: o.function,
    meter: meter.name,
    estimate: meter.estimate,
    windowMs: o.windowMs,
    points,
    wattsPerSandbox: power.slope,
    wattsCi95: power.slopeCi95,
    idleW: power.intercept,
    bytesPerSandbox: mem ? mem.slope : null,
    bytesCi95: mem ? mem.slopeCi95 : null,
    reusedAfter,
    heldMax: held,
    notes,
  };
}

/** Memory per kept sandbox from the points so far (the drop in MemAvailable over K), when two values of K were measured. */
function bytesPerSandbox(points: KeepWarmPoint[]): number | undefined {
  if (new Set(points.map((p) => p.k)).size < 2 || points.some((p) => p.memAvailableBytes === null)) return undefined;
  const fit = linearFit(
    points.map((p) => p.k),
    points.map((p) => -p.memAvailableBytes!),
  );
  return fit.slope > 0 ? fit.slope : undefined;
}
