/**
 * WasmRuntime: WASI command components and preview1 modules, prepared once (adapt, transpile,
 * compile, cached by content hash) and instantiated afresh per invocation on worker threads.
 */
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import v8 from 'node:v8';
import { nowMs } from '../../clock.js';
import { NebulaError, RuntimeUnavailableError } from '../../errors.js';
import type { FunctionSpec } from '../../types.js';
import type { Prepared, RunContext, RunOutcome, Runtime } from '../runtime.js';
import { defaultCacheDir, prepareArtifact, type WasmArtifact } from './artifact.js';
import { WorkerPool, type PoolResult } from './pool.js';

/** Options of {@link WasmRuntime}. */
export interface WasmRuntimeOptions {
  /** Worker threads running instances. Default: the number of cores. */
  workers?: number;
  /** Where prepared artifacts are cached on disk. Default `$XDG_CACHE_HOME/nebula-faas` or `~/.cache/nebula-faas`. */
  cacheDir?: string;
  /** Instances kept ready per function and worker for `warm` invocations. Default 2. */
  warmInstances?: number;
  /** Largest stdout and stderr kept per invocation, bytes. Default 1 MiB. */
  maxOutputBytes?: number;
  /**
   * Turn on V8's wasm-into-wasm inlining on Node 20 and 21, where it is still behind
   * `--experimental-wasm-inlining` (later V8 versions have it on by default). It is a
   * process-wide V8 flag, set once before the first compile. Default true.
   */
  wasmInlining?: boolean;
  /**
   * `auto` (default): a component built from a preview1 module runs its main module over the
   * preview1 host (fast); a native WASI 0.2 component runs through jco's glue. `glue`: every
   * component through jco's glue (slower to instantiate; for comparison).
   */
  componentHost?: 'auto' | 'glue';
}

const decoder = new TextDecoder();
const MiB = 1024 * 1024;
let loadCounter = 0;
let inliningSet = false;

/** fib(35) ran in ~50 ms without and ~36 ms with inlining on Node 20 (`bench/wasm-fib.mjs`). */
function enableWasmInlining(): void {
  if (inliningSet) return;
  inliningSet = true;
  const major = Number(process.versions.node.split('.')[0]);
  if (major <= 21) v8.setFlagsFromString('--experimental-wasm-inlining');
}

/**
 * Runs functions as WebAssembly: a WASI 0.2 command component or a WASI preview1 command module
 * (adapted with jco's preview1 command adapter). Each invocation gets a fresh instance with its
 * own stdin/stdout/stderr, on a pool of worker threads, so the host's event loop never blocks.
 */
export class WasmRuntime implements Runtime {
  readonly kind = 'wasm' as const;
  private pool: WorkerPool | undefined;
  private readonly cacheDir: string;

  constructor(readonly options: WasmRuntimeOptions = {}) {
    this.cacheDir = options.cacheDir ?? defaultCacheDir();
  }

  /**
   * Adapts, transpiles and compiles the function's wasm (or takes it from the cache) and loads it
   * into the workers.
   * @throws NebulaError `INVALID_FUNCTION` for bytes that are not a runnable WASI command.
   */
  async prepare(fn: FunctionSpec): Promise<Prepared> {
    if (fn.wasm === undefined) throw new NebulaError('INVALID_ARGUMENT', `Function "${fn.name}" has no wasm artifact.`);
    let bytes: Uint8Array;
    if (typeof fn.wasm === 'string') {
      try {
        bytes = await readFile(fn.wasm);
      } catch (e) {
        throw new NebulaError('INVALID_FUNCTION', `Function "${fn.name}": cannot read ${fn.wasm}: ${(e as Error).message}`, { cause: e });
      }
    } else bytes = fn.wasm;
    if (this.options.wasmInlining !== false) enableWasmInlining();
    const memoryMaxBytes = (fn.limits?.memoryMiB ?? 256) * MiB;
    const artifact = await prepareArtifact(fn.name, bytes, { cacheDir: this.cacheDir, memoryMaxBytes, forceGlue: this.options.componentHost === 'glue' });
    this.pool ??= new WorkerPool(this.options.workers ?? availableParallelism());
    // One key per preparation: the same bytes deployed twice may differ in grants and limits.
    const key = `${artifact.key}:${++loadCounter}`;
    this.pool.load({
      type: 'load',
      key,
      ...(artifact.module ? { module: artifact.module } : {}),
      ...(artifact.glue ? { glue: artifact.glue } : {}),
      args: [fn.name, ...(fn.grants?.args ?? [])],
      env: fn.grants?.env ?? {},
      memoryMaxBytes,
      maxOutputBytes: this.options.maxOutputBytes ?? MiB,
      warm: this.options.warmInstances ?? 2,
    });
    // Worker start-up (tens of ms) belongs to deployment, not to the first invocation's cold start.
    try {
      await this.pool.ready();
    } catch (e) {
      throw new RuntimeUnavailableError(`The wasm worker threads could not start: ${(e as Error).message}`, { cause: e });
    }
    return new PreparedWasm(this.pool, key, artifact, memoryMaxBytes);
  }

  /** Terminates the workers. */
  async close(): Promise<void> {
    await this.pool?.close();
    this.pool = undefined;
  }
}

class PreparedWasm implements Prepared {
  readonly info;
  private firstRun: boolean;

  constructor(
    private readonly pool: WorkerPool,
    private readonly key: string,
    artifact: WasmArtifact,
    private readonly memoryMaxBytes: number,
  ) {
    this.info = { sizeBytes: artifact.sizeBytes, digest: `sha256:${artifact.digest}` };
    this.firstRun = artifact.built;
  }

  async run(input: string, ctx: RunContext): Promise<RunOutcome> {
    const compiled = this.firstRun;
    this.firstRun = false;
    const dispatchAt = nowMs();
    const r = await this.pool.run(this.key, input, { warm: ctx.mode !== 'cold', timeoutMs: ctx.timeoutMs, signal: ctx.signal });
    return toOutcome(r, ctx, dispatchAt, compiled, this.memoryMaxBytes);
  }

  async release(): Promise<void> {
    this.pool.drop(this.key);
  }
}

function toOutcome(r: PoolResult, ctx: RunContext, dispatchAt: number, compiled: boolean, memoryMaxBytes: number): RunOutcome {
  if (r.kind !== 'done') {
    const code = r.kind === 'timeout' ? 'TIMEOUT' : r.kind === 'aborted' ? 'ABORTED' : 'RUNTIME_ERROR';
    const message =
      r.kind === 'timeout'
        ? `The function ran longer than its timeout of ${ctx.timeoutMs} ms and was stopped.`
        : r.kind === 'aborted'
          ? 'The invocation was aborted by its signal.'
          : `The wasm worker crashed: ${r.message ?? 'unknown reason'}.`;
    return {
      exitCode: null,
      stdout: '',
      stderr: '',
      functionStartAt: r.at,
      functionEndAt: r.at,
      phases: {},
      compiled,
      sandbox: ctx.mode === 'cold' ? 'fresh' : 'prewarmed',
      error: new NebulaError(code, message),
    };
  }
  const m = r.msg;
  const toOurs = (t: number) => t - r.offsetMs;
  const startAt = toOurs(m.startAt);
  const receivedAt = toOurs(m.receivedAt);
  const outcome: RunOutcome = {
    exitCode: m.exitCode,
    stdout: decoder.decode(m.stdout),
    stderr: decoder.decode(m.stderr),
    functionStartAt: startAt,
    functionEndAt: toOurs(m.endAt),
    phases: {
      dispatch: Math.max(0, receivedAt - dispatchAt),
      instantiate: m.instantiateMs,
      exec: m.endAt - m.startAt,
    },
    compiled,
    sandbox: ctx.mode === 'cold' ? 'fresh' : 'prewarmed',
  };
  const failed = m.exitCode !== 0;
  const atCap = m.memoryBytes + 65536 * 16 > memoryMaxBytes;
  if (failed && atCap) {
    outcome.error = new NebulaError(
      'MEMORY_LIMIT',
      `The function failed after growing its memory to ${(m.memoryBytes / MiB).toFixed(1)} MiB, at its cap of ${memoryMaxBytes / MiB} MiB (limits.memoryMiB)${m.trap ? `: ${m.trap}` : ''}.`,
    );
  } else if (m.trap !== undefined) {
    outcome.error = new NebulaError('FUNCTION_FAILED', `The function trapped: ${m.trap}`);
  }
  return outcome;
}
