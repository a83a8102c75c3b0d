/**
 * The Runtime interface: where a function runs, and the descriptor that registers a kind of
 * runtime (`index.ts` lists them). `Nebula` sees only these; each folder beside this file
 * (`wasm/` with jco, `docker/` with dockerode, ...) is one implementation.
 */
import type { NebulaError } from '../errors.js';
import type { FunctionSpec, InvocationMode, LimitState, SandboxUse } from '../types.js';

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
}

/** Deploy-time facts about a prepared function: what exactly runs. */
export interface PreparedInfo {
  /** Size of the artifact in bytes (wasm bytes, image size). */
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
  /** Path of the artifact on disk, when it came from a file. */
  path?: string;
  /** The compiler that built the artifact, when known (from the built-ins' manifest). */
  compiler?: string;
}

/** A function made ready for a runtime: everything that can be done once is done. */
export interface Prepared {
  readonly info: PreparedInfo;
  /** Runs the function once on a fresh instance/container with `input` (JSON text) on stdin. */
  run(input: string, ctx: RunContext): Promise<RunOutcome>;
  /** Drops what was prepared (warm instances, images built for it stay cached). */
  release(): Promise<void>;
}

/** Something a runtime left on the machine (an image, a volume, a container, a cache) that a clean-up removed, or could not. */
export interface Removal {
  kind: 'image' | 'volume' | 'container' | 'cache';
  /** Its name (image tag or id, volume name, container id, folder). */
  name: string;
  sizeBytes?: number;
  /** False with `reason` when it could not be removed (in use), or in a dry run (no reason). */
  removed: boolean;
  reason?: string;
}

/** Options of `close()`. */
export interface CloseOptions {
  /**
   * Also remove the images this runtime built or loaded for its functions (and what it made for
   * its warm mode), which are otherwise kept so the next deploy of the same artifact reuses them.
   * Only for a runtime that builds images (Docker). Default false.
   */
  removeImages?: boolean;
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
  /**
   * Releases everything (workers, pooled containers, connections); with `removeImages`, also
   * removes the images it made and lists them.
   */
  close(options?: CloseOptions): Promise<Removal[] | void>;
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
  /** What this kind of runtime leaves on the machine between runs, in a few words (`nebula clean --help`). */
  readonly leaves?: string;
  /**
   * Finds what this kind of runtime leaves on the machine between runs (images, volumes,
   * caches) and removes it, or with `dryRun` only lists it: `nebula clean`.
   */
  readonly clean?: (options: { dryRun: boolean }) => Promise<Removal[]>;
}

/** Declares a runtime descriptor with its types inferred. */
export function defineRuntime<K extends string, S, O>(
  descriptor: RuntimeDescriptor<K, S, O>,
): RuntimeDescriptor<K, S, O> {
  return descriptor;
}
