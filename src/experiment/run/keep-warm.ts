/**
 * The cost of keeping sandboxes warm: the power drawn and the memory held with K sandboxes kept
 * alive (K concurrent `warm` invocations of a fresh copy of one function, then idle), for each K
 * in a list, on one runtime. Straight lines over K give watts and bytes per kept sandbox.
 */
import { readFileSync } from 'node:fs';
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
  /** Of the largest K, how many invocations found a kept sandbox when touched again after the windows. */
  reusedAfter: number;
  heldMax: number;
  notes: string[];
}

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

/**
 * Measures the keep-warm cost of `runtime` with the instance's meter.
 * @throws NebulaError `METER_UNAVAILABLE` when no meter is attached or it has a gap.
 */
export async function measureKeepWarm(
  nebula: Nebula,
  runtime: RuntimeKind,
  o: ResolvedKeepWarm,
  timeoutMs: number,
  signal?: AbortSignal,
  onWindow?: (edge: 'start' | 'end') => void,
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
  let reusedAfter = 0;
  const heldMax = o.counts[o.counts.length - 1]!;
  try {
    for (const k of o.counts) {
      if (signal?.aborted) break;
      await hold(k);
      // Let the start-up work of the new sandboxes end before measuring the idle power.
      await new Promise((r) => setTimeout(r, meter.intervalMs * 2 + 200));
      for (let i = 0; i < o.repeats && !signal?.aborted; i++) {
        onWindow?.('start');
        const p = await nebula.measurePower({ durationMs: o.windowMs });
        onWindow?.('end');
        points.push({ k, powerW: p.powerW, memAvailableBytes: memAvailableBytes() });
      }
    }
    if (!signal?.aborted) reusedAfter = (await hold(heldMax)).filter((r) => r.sandbox === 'reused').length;
  } finally {
    await nebula.undeploy(name);
  }
  if (reusedAfter < heldMax)
    notes.push(
      `Only ${reusedAfter} of ${heldMax} warm invocations after the windows found a kept sandbox: ${runtime} did not keep ${heldMax} sandboxes through the measurement (its warm mode, cap or keep-alive), so the figure is per sandbox actually kept, at most.`,
    );
  const ks = points.map((p) => p.k);
  const power = linearFit(
    ks,
    points.map((p) => p.powerW),
  );
  const haveMem = points.every((p) => p.memAvailableBytes !== null);
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
    heldMax,
    notes,
  };
}
