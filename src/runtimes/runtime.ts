/**
 * The Runtime interface: where a function runs. `Nebula` sees only this; `wasm/` (jco) and
 * `docker/` (dockerode) are the two implementations.
 */
import type { NebulaError } from '../errors.js';
import type { FunctionSpec, InvocationMode, RuntimeKind } from '../types.js';

/** What one run gets from Nebula. */
export interface RunContext {
  mode: InvocationMode;
  /** Stop the function after this many ms and report `TIMEOUT`. */
  timeoutMs: number;
  /** Epoch ms (nebula clock) = requestAt + timeoutMs: every engine call/wait ends by then. */
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
  /** fresh: created in this invocation; prewarmed: created ahead, first use; reused: an earlier invocation ran in it. */
  sandbox: 'fresh' | 'prewarmed' | 'reused';
  /** ms this run waited for the runtime's own set-up (worker threads starting, code loading) before its
   *  own work began. Nebula reports it as `timing.prepareMs` and never counts it in `startupMs`. */
  setupWaitMs?: number;
  /** stdout / stderr went over the output cap and were cut. Nebula makes a cut stdout an `ok: false`
   *  record with code `OUTPUT_LIMIT` (a cut result is never returned as if whole). */
  stdoutTruncated?: boolean;
  stderrTruncated?: boolean;
}

/** Deploy-time facts about a prepared function. */
export interface PreparedInfo {
  /** Size of the artifact in bytes (wasm bytes, image size). */
  sizeBytes?: number;
  /** Content digest of the artifact. */
  digest?: string;
  /** Image reference (Docker). */
  image?: string;
}

/** A function made ready for a runtime: everything that can be done once is done. */
export interface Prepared {
  readonly info: PreparedInfo;
  /** Runs the function once on a fresh instance/container with `input` (JSON text) on stdin. */
  run(input: string, ctx: RunContext): Promise<RunOutcome>;
  /** Drops what was prepared (warm instances, images built for it stay cached). */
  release(): Promise<void>;
}

/** A place where functions run. */
export interface Runtime {
  readonly kind: RuntimeKind;
  /**
   * Does the deploy-time work (validate, adapt, compile / check and build the image).
   * @throws NebulaError `INVALID_FUNCTION` for an artifact that cannot run, `RUNTIME_UNAVAILABLE`
   * when the runtime cannot be reached.
   */
  prepare(fn: FunctionSpec): Promise<Prepared>;
  /** Releases everything (workers, pooled containers, connections). */
  close(): Promise<void>;
}
