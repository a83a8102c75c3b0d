/**
 * The records, options and events of the public API. Every time is epoch milliseconds on the
 * one clock of `clock.ts`; every duration is milliseconds; units are in the field names.
 */
import type { ErrorCode } from './errors.js';

/** Where a function runs. */
export type RuntimeKind = 'wasm' | 'docker';

/**
 * `cold`: a fresh sandbox (instance / container) created inside the invocation (default).
 * `prewarmed`: a sandbox prepared ahead of time (pre-instantiated, or created and not started), used once.
 * `warm`: a sandbox kept alive and reused by successive invocations of the same function, with an idle expiry.
 */
export type InvocationMode = 'cold' | 'prewarmed' | 'warm';

/** Bytes of a wasm component or WASI preview1 command module, or a path to one. */
export type WasmSource = string | Uint8Array;

/** How to get a function's container image. */
export type DockerSource =
  /** An image already in the engine (name:tag or id). */
  | { image: string }
  /** A `docker save` archive to load first. */
  | { tarball: string }
  /** A static Linux binary to wrap in a `FROM scratch` image (built on first use). */
  | { binary: string; arch?: string };

/** What the function may touch. Nothing is granted unless listed. */
export interface FunctionGrants {
  /** Environment variables visible to the function. */
  env?: Record<string, string>;
  /** Arguments after argv[0]. */
  args?: string[];
}

/** Resource limits applied to each invocation. */
export interface FunctionLimits {
  /** Memory cap in MiB (wasm linear memory / container memory). Default 256. */
  memoryMiB?: number;
  /** CPU cap in cores (Docker only). Default 1. */
  cpus?: number;
  /** Process cap (Docker only). Default 64. */
  pids?: number;
}

/** What `nebula.deploy()` takes. At least one of `wasm` and `docker`. */
export interface FunctionSpec {
  /** 1-63 characters: lower-case letters, digits, `-` and `_`, starting with a letter. */
  name: string;
  /** One line saying what the function does. */
  description?: string;
  wasm?: WasmSource;
  docker?: DockerSource;
  grants?: FunctionGrants;
  limits?: FunctionLimits;
  /** Marks the functions shipped with nebula-faas. */
  builtin?: boolean;
}

/** A deployed function as `nebula.functions()` lists it. */
export interface FunctionInfo {
  name: string;
  description?: string;
  builtin: boolean;
  runtimes: RuntimeKind[];
  /** Size of the wasm artifact in bytes, when there is one. */
  wasmBytes?: number;
  /** The Docker image reference, when known. */
  dockerImage?: string;
}

/** How long each step of one invocation took, in ms. */
export interface InvocationTiming {
  /** Cold start: from the `invoke()` call until the function's own code starts. */
  startupMs: number;
  /** From function start to function end. */
  execMs: number;
  /** From the `invoke()` call until the result is available to the caller. */
  totalMs: number;
  /** Waited for the runtime's own set-up (threads starting, code loading); never part of `startupMs`. 0 when no wait. */
  prepareMs: number;
  /** Clean-up after the result (container removal, worker reset); `null` while unknown. */
  cleanupMs: number | null;
  /** The breakdown: wasm `load`, `compile`, `instantiate`; docker `create`, `start`, `wait`, `collect`. */
  phases: Record<string, number>;
  /** True when this invocation had to compile (no cached compiled code was available). */
  compiled: boolean;
  /** Epoch ms of the `invoke()` call, function start and function end. */
  requestAt: number;
  functionStartAt: number;
  functionEndAt: number;
}

/** Energy attributed to one invocation. */
export interface InvocationEnergy {
  /** Name of the meter that produced the samples (e.g. `gude:10.0.0.7:502/port1`, `estimate`). */
  meter: string;
  /** True when the meter only estimates power (no hardware reading). */
  estimate: boolean;
  /** The window the energy covers: from the request to the function end (epoch ms). */
  window: { from: number; to: number };
  /** Number of meter samples inside the window. */
  samples: number;
  /** Time-weighted mean power over the window (piecewise-linear trace), W. */
  avgPowerW: number;
  /** Integral of power over the window, J. */
  energyJ: number;
  /** `energyJ / 3600`, Wh. */
  energyWh: number;
  /** Idle power subtracted, W (0 when no baseline was measured). */
  baselineW: number;
  /** `avgPowerW - baselineW`, W. */
  isolatedPowerW: number;
  /** Energy above the baseline, Wh. */
  isolatedEnergyWh: number;
  /** `measured`: enough samples inside the window; `interpolated`: the window was shorter than the sampling. */
  quality: 'measured' | 'interpolated';
}

/** A failure inside a record. */
export interface InvocationError {
  code: ErrorCode;
  message: string;
  /** Exit code of the function, when it exited. */
  exitCode?: number | null;
  /** The function's stderr (capped). */
  stderr?: string;
}

/** The result of one invocation. Failing invocations are records too (`ok: false`). */
export interface InvocationRecord<R = unknown> {
  /** Unique id (time-ordered). */
  id: string;
  function: string;
  runtime: RuntimeKind;
  mode: InvocationMode;
  input: unknown;
  ok: boolean;
  /** fresh: created in this invocation; prewarmed: created ahead, first use; reused: an earlier invocation ran in it. */
  sandbox: 'fresh' | 'prewarmed' | 'reused';
  /** stdout parsed as JSON, or the trimmed text when it is not JSON; `null` on failure. */
  result: R | null;
  error?: InvocationError;
  /** ISO 8601 time of the `invoke()` call. */
  startedAt: string;
  timing: InvocationTiming;
  /** `null` when no meter is attached or the meter had a gap (see `energyNote`). */
  energy: InvocationEnergy | null;
  /** Why `energy` is null, when a meter is attached. */
  energyNote?: string;
}

/** Options of one `invoke()`. */
export interface InvokeOptions {
  /** Default: `wasm` when the function has wasm, else `docker`. */
  runtime?: RuntimeKind;
  /** Default `cold`. */
  mode?: InvocationMode;
  /** Default 30 000 ms. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Wait for the meter to cover the window before returning (default true when a meter is attached). */
  waitForEnergy?: boolean;
}

/** One reading of a meter. */
export interface PowerSample {
  /** Epoch ms on nebula's clock (for polled meters: the middle of the request). */
  t: number;
  powerW: number;
  voltageV?: number;
  currentA?: number;
  powerFactor?: number;
  /** The device's own active-power field, W. */
  activePowerW?: number;
  /** The device's absolute energy counter, Wh. */
  energyWh?: number;
  /** True when the power is an estimate, not a measurement. */
  estimate?: boolean;
}

/** Idle power measured before an experiment. */
export interface Baseline {
  powerW: number;
  stdW: number;
  samples: number;
  durationMs: number;
  meter: string;
}

/** The events of a `Nebula` instance. */
export interface NebulaEvents {
  /** An invocation was requested (before any work). */
  'invocation:start': (info: { id: string; function: string; runtime: RuntimeKind; mode: InvocationMode; input: unknown }) => void;
  /** An invocation ended, successfully or not; carries the final record. */
  'invocation:end': (record: InvocationRecord) => void;
  /** A meter sample arrived. */
  sample: (sample: PowerSample) => void;
  /** The meter failed (the record of the affected invocations says so too). */
  'meter:error': (error: Error) => void;
  /** A function was deployed (or replaced). */
  deploy: (info: FunctionInfo) => void;
  /** A function was removed. */
  undeploy: (name: string) => void;
}

/**
 * Energy per invocation of a batch: N invocations back to back over a window long enough for
 * many meter samples, for functions shorter than the sampling interval.
 * `energyPerInvocationJ = (integral of P over the window - baselineW x T) / N`.
 */
export interface BatchEnergy {
  meter: string;
  estimate: boolean;
  /** Invocations in the batch. */
  n: number;
  window: { from: number; to: number };
  samples: number;
  avgPowerW: number;
  baselineW: number;
  /** Whole-window energy divided by N (baseline not subtracted), J and Wh. */
  energyPerInvocationJ: number;
  energyPerInvocationWh: number;
  /** Energy above the baseline per invocation, J and Wh. */
  isolatedEnergyPerInvocationJ: number;
  isolatedEnergyPerInvocationWh: number;
  /** 95% confidence interval of the isolated energy per invocation, Wh. */
  ci95Wh: [number, number];
}
