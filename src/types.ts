/**
 * The records, options and events of the public API. Every time is epoch milliseconds on the
 * one clock of `clock.ts`; every duration is milliseconds; units are in the field names.
 */
import type { ErrorCode, NebulaError } from './errors.js';
import type { RuntimeKind, RuntimeSources } from './runtimes/index.js';
import type { Phase } from './runtimes/runtime.js';

/** Where a function runs: a kind registered in `runtimes/registry.ts` (`wasm`, `docker`, ...). */
export type { RuntimeKind } from './runtimes/index.js';

/**
 * `cold`: a fresh sandbox (instance, container, process) created inside the invocation.
 * `prewarmed`: a sandbox prepared ahead of time and used once, never shared.
 * `warm`: a sandbox kept alive and reused by successive invocations of the same function,
 * until it has been idle for its keep-alive time.
 */
export type InvocationMode = 'cold' | 'prewarmed' | 'warm';

/** The modes, in the order reports list them. */
export const INVOCATION_MODES: readonly InvocationMode[] = ['cold', 'prewarmed', 'warm'];

/**
 * What the invocation's sandbox was: `fresh` (created inside this invocation, and counted in
 * its cold start), `prewarmed` (created ahead, used for the first time) or `reused` (an earlier
 * invocation ran in it).
 */
export type SandboxUse = 'fresh' | 'prewarmed' | 'reused';

/** What the function may touch. Nothing is granted unless listed. */
export interface FunctionGrants {
  /** Environment variables visible to the function. */
  env?: Record<string, string>;
  /** Arguments after argv[0]. */
  args?: string[];
  /**
   * Let the initialiser that pre-initialisation runs at deploy (`preinit`) call WASI: with no
   * directories, no environment and no stdio, so only clocks and random numbers, whose values are
   * then frozen into the snapshot. Default false: such an initialiser is refused.
   */
  initWasi?: boolean;
}

/** Resource limits applied to each invocation, each where its runtime enforces it (a record's `limits` says which held). */
export interface FunctionLimits {
  /** Memory cap in MiB (a Wasm linear memory, a container's memory, a process's address space). Default 256. */
  memoryMiB?: number;
  /** CPU cap in cores (a container's CPU share; a process's CPU time, timeout x cores). Default 1. */
  cpus?: number;
  /** Process cap (a container's pids limit, default 64; a process's RLIMIT_NPROC, only when given). */
  pids?: number;
}

/** The parts of a function spec every runtime shares. */
export interface FunctionSpecBase {
  /** 1-63 characters: lower-case letters, digits, `-` and `_`, starting with a letter. */
  name: string;
  /** One line saying what the function does. */
  description?: string;
  grants?: FunctionGrants;
  limits?: FunctionLimits;
  /** Marks the functions shipped with nebula-faas. */
  builtin?: boolean;
  /**
   * Pre-initialisation: run the function's start-up work once, at deploy, and start every
   * invocation from a snapshot of its initialised state, on the runtimes that can (Wasm, with
   * Wizer); its container and process forms keep doing that work at each start. `'auto'`: when
   * the artifact exports its initialiser (`initFunc`), and not when the tool that makes snapshots
   * is not installed; `true`: always, refused (`INVALID_FUNCTION`) when it cannot be; `false`: never.
   * @default 'auto'
   */
  preinit?: 'auto' | boolean;
  /** The exported function that does the start-up work, for `preinit`. @default 'wizer.initialize' */
  initFunc?: string;
  /**
   * An input the deploy runs a pre-initialised function on twice, from its original artifact and
   * from the snapshot: unless both give the same stdout, stderr and exit code, the deploy is
   * refused (`INVALID_FUNCTION`). Give one for which the function's output is deterministic.
   */
  checkInput?: unknown;
}

/**
 * What `nebula.deploy()` takes: a name and, under each runtime's kind, that runtime's artifact
 * (`wasm`: a path or bytes; `docker`: `{ image }`, `{ tarball }` or `{ binary }`). At least one.
 */
export type FunctionSpec = FunctionSpecBase & RuntimeSources;

/** Facts about one runtime's artifact of a function: what exactly runs. */
export interface ArtifactInfo {
  /** Size in bytes (wasm bytes, image size). */
  sizeBytes?: number;
  /**
   * `sha256:<hex>` of the file the function was given as (wasm, binary, image archive); for an
   * image given by name, its repository digest when it has one.
   */
  digest?: string;
  /** Image reference (Docker). */
  image?: string;
  /** The image's id in the engine (Docker). */
  imageId?: string;
  /** Path on disk, when it came from a file. */
  path?: string;
  /** The compiler that built it, when known. */
  compiler?: string;
  /**
   * True when the function's start-up work was done at deploy and each invocation starts from the
   * snapshot (`snapshot` says what it cost); false when it runs at each start. Only set by
   * runtimes that can pre-initialise.
   */
  preinitialized?: boolean;
  /** The snapshot a pre-initialised artifact starts from. */
  snapshot?: SnapshotInfo;
  /** Why a function with an initialiser was not pre-initialised under `preinit: 'auto'`. */
  preinitNote?: string;
}

/** A pre-initialised artifact's snapshot against the original it was made from. */
export interface SnapshotInfo {
  /** What made it, e.g. `wizer 10.0.0`. */
  tool: string;
  /** The initialiser that ran. */
  initFunc: string;
  /** How long making it took (the tool's process, its compile and the initialiser), ms. */
  snapshotMs: number;
  /** True when this deploy took it from the cache (made by an earlier one, which `snapshotMs` is from). */
  cached: boolean;
  /** The code that runs, before and after: the original module's size and the snapshot's, bytes. */
  originalBytes: number;
  snapshotBytes: number;
  /** The memory each declares at instantiation, bytes. */
  originalMemoryBytes: number;
  snapshotMemoryBytes: number;
}

/** A deployed function as `nebula.functions()` lists it. */
export interface FunctionInfo {
  name: string;
  description?: string;
  builtin: boolean;
  runtimes: RuntimeKind[];
  /** Each runtime's artifact: what is known before preparing, completed once prepared. */
  artifacts: Partial<Record<RuntimeKind, ArtifactInfo>>;
}

/** How long each step of one invocation took, in ms. */
export interface InvocationTiming {
  /**
   * Time this invocation waited for set-up that is not part of a cold start (the runtime's
   * threads starting, a function prepared on first use); 0 when it waited for nothing.
   */
  prepareMs: number;
  /** Cold start: from the `invoke()` call (after any `prepareMs` wait) until the function's own code starts. */
  startupMs: number;
  /** From function start to function end. */
  execMs: number;
  /** From the `invoke()` call until the result is available to the caller (includes `prepareMs`). */
  totalMs: number;
  /** Clean-up after the result (container removal, worker reset); `null` while unknown. */
  cleanupMs: number | null;
  /** The breakdown, in the order the steps happened; names from the one list of phases (`PHASES`). */
  phases: Partial<Record<Phase, number>>;
  /** True when this invocation had to compile (no cached compiled code was available). */
  compiled: boolean;
  /** Epoch ms of the `invoke()` call, function start and function end. */
  requestAt: number;
  functionStartAt: number;
  functionEndAt: number;
}

/**
 * Energy of part of an invocation's window: the whole, the start-up part or the run part.
 * Powers are W, energies J or Wh, times epoch ms on the one clock.
 */
export interface EnergyPart {
  /** The window this figure covers (epoch ms). */
  window: { from: number; to: number };
  /** Number of meter samples inside the window. */
  samples: number;
  /** Time-weighted mean power over the window (piecewise-linear trace), W. */
  avgPowerW: number;
  /** Integral of power over the window, J. */
  energyJ: number;
  /** `energyJ / 3600`, Wh. */
  energyWh: number;
  /** `avgPowerW - baselineW`, W. */
  isolatedPowerW: number;
  /** Energy above the baseline, Wh. */
  isolatedEnergyWh: number;
  /**
   * `measured`: two or more samples inside the window; `interpolated`: the window is shorter
   * than the sampling, its figure is read off the line between the samples around it.
   */
  quality: 'measured' | 'interpolated';
}

/** One resource limit of a run: the value asked for, and whether the operating system or engine enforced it. */
export interface LimitState {
  /** The limit, in the unit its key names (`memoryMiB`, `cpuSeconds`, `processes`, ...). */
  value: number;
  /** True when it was in force for this run. */
  held: boolean;
  /** How it was enforced (e.g. `RLIMIT_AS`), or why it was not. */
  how: string;
}

/**
 * Where a record's resource figures come from (docs/timing.md#resources): the Wasm worker thread's
 * CPU clock, the instance's linear memory, a cgroup (the container's, or the process run's), the
 * process's `wait4` rusage.
 */
export type ResourceSource = 'thread-clock' | 'linear-memory' | 'cgroup-v1' | 'cgroup-v2' | 'rusage';

/**
 * What the invocation's own sandbox used, as the kernel counted it: its CPU time and its peak
 * memory. `null` figures could not be read; `note` says why.
 */
export interface InvocationResources {
  /** CPU time of the sandbox (user + system), ms. */
  cpuMs: number | null;
  /** The user-mode part, ms, where the source splits it. */
  userMs?: number;
  /** The kernel-mode part, ms, where the source splits it. */
  systemMs?: number;
  /** Epoch ms from which `cpuMs` was counted (energy shares spread it over [this, `timing.functionEndAt`]). */
  cpuSinceAt?: number;
  /** Peak memory of the sandbox, bytes (for a reused sandbox: the most it has held since it was made). */
  maxMemoryBytes: number | null;
  /** Where `cpuMs` comes from. */
  cpuSource: ResourceSource | null;
  /** Where `maxMemoryBytes` comes from. */
  memorySource: ResourceSource | null;
  /** Why a figure is missing. */
  note?: string;
}

/**
 * How a record's energy is its own: `cpu-share` (its share of the power above the baseline, by its
 * CPU time, see `shareJ`), or `window` (no share could be found, `shareNote` says why: the record's
 * own figure is its window's, which holds the power of whatever else ran then).
 */
export type EnergyMethod = 'cpu-share' | 'window';

/**
 * Energy attributed to one invocation over [function ready, function end]: `timing.requestAt +
 * timing.prepareMs` (set-up waits are excluded, as from `startupMs`) to `timing.functionEndAt`.
 * `startup + exec` is the whole, exactly.
 *
 * The window figures (`energyJ`, `isolatedEnergyWh`, ...) hold everything the meter saw during
 * the window, other invocations included. `shareJ` is this invocation's own part: in each meter
 * interval, the power above the baseline is divided among the invocations running in it by their
 * CPU time there, and what none of them used stays unattributed (`nebula.energyLedger()`).
 */
export interface InvocationEnergy extends EnergyPart {
  /** Name of the meter that produced the samples (e.g. `gude:10.0.0.7:502/port1`, `estimate`). */
  meter: string;
  /** True when the meter only estimates power (no hardware reading). */
  estimate: boolean;
  /** Idle power subtracted, W (0 when no baseline was measured). */
  baselineW: number;
  /** The start-up part: from the function ready (`requestAt + prepareMs`) to the function's start. */
  startup: EnergyPart;
  /** The run part: from the function's start to its end (the window of `execMs`). */
  exec: EnergyPart;
  /** `cpu-share` when `shareJ` is set; `window` when it could not be (see `shareNote`). */
  method: EnergyMethod;
  /**
   * This invocation's share of the energy above the baseline over its window, J: per meter
   * interval, the energy above the baseline times its CPU time there over all the CPU time used
   * there (every invocation's, the host's, other programs'). Equals the isolated window figure
   * when it ran alone and its sandbox's CPU time was all the machine used above idle. `null` with
   * method `window`.
   */
  shareJ: number | null;
  /** Its share of the baseline (idle) energy, J: the baseline power divided by wall time among the invocations running. */
  baselineShareJ: number;
  /** The most invocations that ran at the same moment during its window, itself included (1: it ran alone). */
  overlap: number;
  /** Why there is no share (method `window`): the sandbox's CPU time or the machine's could not be read. */
  shareNote?: string;
}

/**
 * The energy of a span of time, divided up (`nebula.energyLedger()`): the invocations' shares of
 * the energy above the baseline plus the unattributed part add up to the metered energy above the
 * baseline. Energies in J, times epoch ms.
 */
export interface EnergyLedger {
  from: number;
  to: number;
  meter: string;
  estimate: boolean;
  /** The meter's energy over the span (piecewise-linear trace), J. */
  energyJ: number;
  /** Baseline power x the span, J (0 without a baseline). */
  baselineJ: number;
  /** `energyJ - baselineJ`, J. */
  aboveBaselineJ: number;
  /** The parts of `aboveBaselineJ` shared out to the invocations that ran in the span (their `shareJ` inside it), J. */
  sharesJ: number;
  /**
   * The part of `aboveBaselineJ` no invocation's CPU time accounts for: the host process itself,
   * the container engine, other programs, invocations without a CPU figure, J.
   */
  unattributedJ: number;
  /** `(sharesJ + unattributedJ) / aboveBaselineJ`: 1 when the books balance (NaN when nothing measurable was above the baseline). */
  balance: number;
  /** The baseline energy divided among the invocations running (their `baselineShareJ` inside the span), J. */
  baselineSharesJ: number;
  /** The baseline energy while no invocation ran, J. */
  idleJ: number;
  /** CPU time of the invocations in the span, and of the whole machine (above its idle CPU use), ms. */
  invocationCpuMs: number;
  machineCpuMs: number;
  /** Invocations with a part in the span, and how many of them had no CPU figure (their energy is unattributed). */
  invocations: number;
  withoutCpu: number;
  /** Why the ledger could not divide the span (no CPU time for the machine): then only the meter's figures are set. */
  note?: string;
}

/**
 * Where a record's energy stands. `pending`: the covering meter sample has not arrived yet
 * (the record gains its energy in place, then `invocation:settled` fires); `settled`: `energy` is
 * set; `unavailable`: the meter could not give a figure (`energyNote` says why); `off`: no meter
 * is attached (`meter: null`).
 */
export type EnergyStatus = 'pending' | 'settled' | 'unavailable' | 'off';

/**
 * Why a record has no energy figure, or why a figure is coarse.
 * - `NO_METER`: energy measurement is off (`new Nebula({ meter: null })`).
 * - `METER_OFF`: the meter was not running: it did not start (the message says why), or it was
 *   stopped (`close()`, the process exiting) before it covered the window.
 * - `NOT_YET_SAMPLED`: the window began before the meter's first sample.
 * - `METER_OUTAGE`: a gap in the samples inside the window, a read error during it, or no sample
 *   covering its end within the settle deadline (the meter stopped sampling).
 * - `METER_PROTOCOL`: the meter answered with something that is not a valid reading during the window.
 * - `OUT_OF_HISTORY`: the window is older than the samples kept.
 * - `INTERPOLATED` (with a figure): the window, or its start-up or run part, is shorter than the
 *   sampling; that figure is read off the line between two samples (use batches, docs/energy.md).
 */
export type EnergyReason =
  'NO_METER' | 'METER_OFF' | 'NOT_YET_SAMPLED' | 'METER_OUTAGE' | 'METER_PROTOCOL' | 'OUT_OF_HISTORY' | 'INTERPOLATED';

/** Why a record has no energy, or why its figure is coarse: a stable reason and a sentence. */
export interface EnergyNote {
  reason: EnergyReason;
  message: string;
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

/** The fields every invocation record has, successful or not. */
export interface InvocationRecordBase {
  /** Unique id (time-ordered). */
  id: string;
  function: string;
  runtime: RuntimeKind;
  mode: InvocationMode;
  /** What the sandbox was: created in this invocation, prepared ahead, or reused. */
  sandbox: SandboxUse;
  /** Which sandbox it ran in (Docker: the container's id), where the runtime names it; absent where it does not. */
  sandboxId?: string;
  input: unknown;
  /** ISO 8601 time of the `invoke()` call. */
  startedAt: string;
  timing: InvocationTiming;
  /** Set once `energyStatus` is `settled`; `null` before, and when there is no figure (see `energyNote`). */
  energy: InvocationEnergy | null;
  /** `pending` until the meter covers the window, then `settled`, `unavailable` or `off`. */
  energyStatus: EnergyStatus;
  /** Why `energy` is null (`unavailable`, `off`), or why a settled figure is coarse (`INTERPOLATED`). */
  energyNote?: EnergyNote;
  /** The resource limits the run was under and which of them held, when the runtime reports them (the process runtime does). */
  limits?: Record<string, LimitState>;
  /** CPU time and peak memory of the invocation's sandbox, from the kernel (docs/timing.md#resources). */
  resources: InvocationResources;
  /** What ran: the artifact's path, `sha256` digest, and image and image id on Docker (absent when not prepared). */
  artifact?: ArtifactInfo;
  /**
   * True when the invocation started from a pre-initialised artifact (its start-up work was done
   * at deploy: `FunctionSpec.preinit`), false when it did that work itself. Absent in older records.
   */
  preinitialized?: boolean;
}

/** A successful invocation: the function exited 0 and its whole output was kept. */
export interface InvocationSuccess<R = unknown> extends InvocationRecordBase {
  ok: true;
  /** stdout parsed as JSON, or the trimmed text when it is not JSON. */
  result: R;
  error?: undefined;
}

/** A failed invocation: `error` says why, with a stable code. */
export interface InvocationFailure extends InvocationRecordBase {
  ok: false;
  result: null;
  error: InvocationError;
}

/**
 * The record of one invocation. Failing invocations are records too: check `ok` first, then
 * `result` has the function's result type, or `error` says what went wrong.
 */
export type InvocationRecord<R = unknown> = InvocationSuccess<R> | InvocationFailure;

/** Options of one `invoke()`. */
export interface InvokeOptions {
  /** Default: the first runtime the function has, in registry order (`wasm`, then `docker`, ...). */
  runtime?: RuntimeKind;
  /** Default `cold`. */
  mode?: InvocationMode;
  /** Default 30 000 ms; at most 2 147 483 647 (about 24.8 days). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /**
   * Return only once the record's energy is settled (the covering sample arrived, or its
   * deadline passed). Default false: `invoke()` returns when the result is ready
   * and the energy settles afterwards (`invocation:settled`, `nebula.settled()`).
   */
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
  /**
   * CPU the machine used meanwhile, cores (CPU ms per ms): what it does when idle. Energy shares
   * divide the power above the baseline by the CPU time above this. Absent when it could not be read.
   */
  busyCores?: number;
}

/** The events of a `Nebula` instance. */
export interface NebulaEvents {
  /** An invocation was requested (before any work). */
  'invocation:start': (info: {
    id: string;
    function: string;
    runtime: RuntimeKind;
    mode: InvocationMode;
    input: unknown;
  }) => void;
  /**
   * An invocation ended, successfully or not: its result is ready. Its energy may still be
   * `pending`; `invocation:settled` follows once it is not.
   */
  'invocation:end': (record: InvocationRecord) => void;
  /**
   * A record's energy settled (`settled`, `unavailable` or `off`): the same record object as
   * `invocation:end`, now final. Fires once per record, after `invocation:end`, after the record
   * was written to the results file.
   */
  'invocation:settled': (record: InvocationRecord) => void;
  /** A meter sample arrived. */
  sample: (sample: PowerSample) => void;
  /** The meter failed (the record of the affected invocations says so too). */
  'meter:error': (error: Error) => void;
  /** A function was deployed (or replaced). */
  deploy: (info: FunctionInfo) => void;
  /** A function was removed. */
  undeploy: (name: string) => void;
  /** A record could not be appended to the results file (`RESULTS_WRITE_FAILED`); the record itself was returned. */
  'results:error': (error: NebulaError, record: InvocationRecord) => void;
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

/**
 * The built-in functions' input and result types, so `invoke('fib', 30)` is typed. A function
 * deployed under one of these names replaces the built-in; type its calls yourself then.
 */
export interface BuiltinSignatures {
  /** n-th Fibonacci number. */
  fib: { input: number; result: number };
  /** e^n as a 64-bit float. */
  exponential: { input: number; result: number };
  /** n! exactly, as a decimal string. */
  factorial: { input: number; result: string };
  /** The n-th prime. */
  prime: { input: number; result: number };
  /** SHA-256 (hex) over a generated buffer of n KiB. */
  hash: { input: number; result: string };
  /** The number of primes up to n, from a table built at start-up. */
  primecount: { input: number; result: number };
}
