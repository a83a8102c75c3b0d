/**
 * The Runtime interface: where a function runs, and the descriptor that registers a kind of
 * runtime (`index.ts` lists them). `Nebula` sees only these; each folder beside this file
 * (`wasm/` with jco, `docker/` with dockerode, ...) is one implementation.
 */
import type { NebulaError } from '../errors.js';
import type { FunctionSpec, InvocationMode, InvocationResources, LimitState, SandboxUse } from '../types.js';

/** What one run gets from Nebula. */
export interface RunContext {
  mode: InvocationMode;
  /** Stop the function after this many ms and report `TIMEOUT`. */
  timeoutMs: number;
  /** Epoch ms (nebula's clock) by which the run, and every engine call or wait it makes, has ended: `requestAt + timeoutMs`. */
  deadlineAt: number;
  signal?: AbortSignal;
  /** Epoch ms of the `invoke()` call (the start of `startupMs`). */
  requestAt: number;
}

/** What one run gives back. Runtimes never throw from `run()` for a function's failure. */
export interface RunOutcome {
  /** The function's exit code; `null` when it did not exit (trap, timeout, crash). */
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** Epoch ms when the function's own code started / ended (see clock.ts). */
  functionStartAt: number;
  functionEndAt: number;
  /** The breakdown of the run, in ms, in the order the steps happened. */
  phases: Record<string, number>;
  /** True when this run had to compile (nothing cached). */
  compiled: boolean;
  /** Set when the run failed for a reason other than a non-zero exit (TIMEOUT, MEMORY_LIMIT, trap, engine error). */
  error?: NebulaError;
  /** Resolves with the clean-up time in ms once the instance/container is gone. */
  cleanup?: Promise<number>;
  /** `fresh`: created in this invocation; `prewarmed`: created ahead, first use; `reused`: an earlier invocation ran in it. */
  sandbox: SandboxUse;
  /**
   * ms this run waited for the runtime's own set-up (threads starting, code loading) before its
   * own work began. Reported as `timing.prepareMs`, never inside `startupMs`.
   */
  setupWaitMs?: number;
  /** stdout went over the output cap and was cut (the record becomes `OUTPUT_LIMIT`). */
  stdoutTruncated?: boolean;
  /** stderr went over the output cap and was cut. */
  stderrTruncated?: boolean;
  /** The resource limits this run was under and which held (copied to the record's `limits`). */
  limits?: Record<string, LimitState>;
  /**
   * CPU time and peak memory of the run's sandbox, from the kernel (copied to the record's
   * `resources`); without it the record says the runtime reported none.
   */
  resources?: InvocationResources;
}

/** Deploy-time facts about a prepared function. */
export interface PreparedInfo {
  /** Size of the artifact in bytes (wasm bytes, image size). */
  sizeBytes?: number;
  /** Content digest of the artifact. */
  digest?: string;
  /** Image reference (Docker). */
  image?: string;
  /** Path of the artifact on disk, when it came from a file. */
  path?: string;
  /** The compiler that built the artifact, when known (from the built-ins' manifest). */
  compiler?: string;
}

/**
 * Control of one prepared function's kept sandboxes (those `mode: 'warm'` reuses), for keep-alive
 * policies: once held, the runtime's own keep-alive timer leaves them alone, and these calls decide
 * when they are made and removed. Offered by runtimes that keep sandboxes (`Prepared.keeper`).
 */
export interface SandboxKeeper {
  /** From now on this function's idle sandboxes stay until `drop()` (the runtime's keep-alive no longer removes them). */
  hold(): void;
  /** Makes one sandbox now and keeps it idle; the next `warm` run takes it as `prewarmed`. Resolves once it is ready. */
  prewarm(): Promise<void>;
  /** Removes this function's idle sandboxes: none can be taken once it returns; resolves once they are gone. */
  drop(): Promise<void>;
  /** Idle sandboxes of this function kept now. */
  idle(): number;
}

/** A function made ready for a runtime: everything that can be done once is done. */
export interface Prepared {
  readonly info: PreparedInfo;
  /** Runs the function once on a fresh instance/container with `input` (JSON text) on stdin. */
  run(input: string, ctx: RunContext): Promise<RunOutcome>;
  /** Drops what was prepared (warm instances, images built for it stay cached). */
  release(): Promise<void>;
  /** Control of its kept sandboxes, where the runtime offers it. */
  readonly keeper?: SandboxKeeper;
}

/** A place where functions run. */
export interface Runtime {
  /** The registered kind (`wasm`, `docker`, ...). */
  readonly kind: string;
  /**
   * Does the deploy-time work (validate, adapt, compile / check and build the image).
   * @throws NebulaError `INVALID_FUNCTION` for an artifact that cannot run, `RUNTIME_UNAVAILABLE`
   * when the runtime cannot be reached.
   */
  prepare(fn: FunctionSpec): Promise<Prepared>;
  /** Releases everything (workers, pooled containers, connections). */
  close(): Promise<void>;
}

/**
 * Registers a kind of runtime: how a function spec names its artifact (`spec[kind]`), how that
 * source is checked, how the runtime is created, and how reports show it. `S` is the source type
 * (e.g. a wasm path or bytes), `O` the runtime's options.
 */
export interface RuntimeDescriptor<K extends string = string, S = unknown, O = unknown> {
  /** The kind, also the key of the function spec holding its source and of Nebula's options for it. */
  readonly kind: K;
  /** How reports and the CLI name it, e.g. `Wasm`. */
  readonly label: string;
  /** Its colour in charts (CSS colour). */
  readonly color: string;
  /** One line saying what it runs. */
  readonly summary: string;
  /**
   * How this runtime's `execMs` differs from the function's own run time, when it does (reports
   * print it beside every exec figure of this runtime).
   */
  readonly execNote?: string;
  /**
   * False when `mode: 'warm'` keeps no sandbox alive on this runtime (every run is fresh, and says
   * so on the record): the keep-warm step of an experiment then has nothing to measure. Default true.
   */
  readonly keepsSandboxes?: boolean;
  /**
   * How running this runtime disturbs the others in the same host process, when it does (an
   * experiment that runs it beside other runtimes notes it).
   */
  readonly sideEffect?: string;
  /**
   * Checks the shape of a spec's source for this runtime and returns it typed.
   * @throws UsageError `INVALID_ARGUMENT` saying what the source must be.
   */
  validate(source: unknown, functionName: string): S;
  /** Creates the runtime with its options. */
  create(options?: O): Runtime;
  /** What `nebula.functions()` shows of the source before it is prepared (path, size, image). */
  describe(source: S): PreparedInfo;
}

/** Declares a runtime descriptor with its types inferred. */
export function defineRuntime<K extends string, S, O>(
  descriptor: RuntimeDescriptor<K, S, O>,
): RuntimeDescriptor<K, S, O> {
  return descriptor;
}
