/**
 * WasmRuntime: WASI command components and preview1 modules, prepared once (check, find the
 * main module, rewrite, compile, cached by content hash) and run on worker threads started with the runtime.
 */
import { checkKnownKeys, keysOf } from '../../known-keys.js';
import { availableParallelism } from 'node:os';
import v8 from 'node:v8';
import { nowMs } from '../../clock.js';
import { NebulaError, RuntimeUnavailableError, UsageError } from '../../errors.js';
import { INVOCATION_MODES, type ArtifactInfo, type FunctionSpec } from '../../types.js';
import type { Prepared, RunContext, RunOutcome, Runtime, SandboxKeeper } from '../runtime.js';
import { defaultCacheDir, prepareArtifact, type WasmArtifact } from './artifact/prepare.js';
import type { PreinitRequest } from './artifact/snapshot.js';
import { readFileCapped } from './artifact/source-file.js';
import { checkSnapshot } from './snapshot-check.js';
import { toOutcome, type OutcomeFacts } from './outcome.js';
import { WorkerPool, type PoolOptions } from './pool/pool.js';
import { SELF_TEST_FN } from './worker/self-test.js';
import { Mode, MAX_WORKERS } from './pool/shared-slots.js';

/** Options of {@link WasmRuntime}. */
export interface WasmRuntimeOptions {
  /** Worker threads running instances (at most 64). Default: the number of cores. */
  workers?: number;
  /** Where prepared artifacts are cached on disk. Default `$XDG_CACHE_HOME/nebula-faas` or `~/.cache/nebula-faas`. */
  cacheDir?: string;
  /** Instances made ahead per function and worker for `prewarmed` invocations (0: none). Default 2. */
  prewarmedInstances?: number;
  /** Used instances kept per function and worker for `warm` invocations. Default {@link DEFAULT_MAX_WARM_INSTANCES}. */
  maxWarmInstances?: number;
  /** How long a kept `warm` instance may stay unused before it is dropped, ms. Default 60 000. */
  keepAliveMs?: number;
  /** Largest stdout and stderr kept per invocation, bytes. Default 1 MiB. */
  maxOutputBytes?: number;
  /**
   * Largest module or component deployed, bytes: a file is read only when it is a regular file
   * no larger than this, bytes given directly are refused past it. Default 128 MiB.
   */
  maxModuleBytes?: number;
  /** Longest making one instance may take outside an invocation (deploy, ahead of time), ms. Default 1000. */
  instantiateTimeoutMs?: number;
  /**
   * How long one idle worker polls for the next run before it sleeps, microseconds (the others
   * poll a tenth of it). Longer saves back-to-back invocations a wake-up (~15-20 us here) at the
   * cost of that much CPU after a burst. Default 200.
   */
  idleSpinUs?: number;
  /**
   * How long the host thread polls for the result of a run before it sleeps, microseconds, when
   * recent runs were that short, and only while it has nothing else to do. Default 50.
   */
  resultSpinUs?: number;
  /** JavaScript heap of each worker (not the functions' memories), MiB. Default 256. */
  workerHeapMiB?: number;
  /**
   * How V8 compiles wasm. `eager` (default): every function of the module is compiled when the
   * function is deployed (by V8's baseline compiler, Liftoff), so no invocation compiles code;
   * V8 still recompiles hot functions with its optimising compiler (TurboFan) in the background,
   * with wasm-into-wasm inlining (behind a flag on Node 20 and 21). `default`: V8's own settings:
   * each function is compiled on its first call, and Node 20 does not inline. V8's flags are
   * process-wide: the first deploy of a process sets them, and a later `WasmRuntime` asking for
   * the other setting is refused. See docs/wasm.md, "V8's tiers".
   * @default 'eager'
   */
  v8Tiering?: V8Tiering;
  /**
   * `auto` (default): a component built from a preview1 module runs its main module over the
   * preview1 bindings (fast); a native WASI 0.2 component runs through jco's glue. `glue`: every
   * component through jco's glue (slower to instantiate; for comparison). The glue needs the
   * optional peer dependency `@bytecodealliance/jco-transpile`.
   */
  componentHost?: 'auto' | 'glue';
  /**
   * Longest pre-initialising one function may take at deploy (`FunctionSpec.preinit`: Wizer's
   * process, its compile and the initialiser), ms; an initialiser still running then is refused
   * as one that loops. Default 30 000.
   */
  preinitTimeoutMs?: number;
}

const MiB = 1024 * 1024;
const DEFAULT_MAX_MODULE_BYTES = 128 * MiB;
/** Used instances kept per function and worker for `warm` invocations unless `maxWarmInstances` says otherwise. */
export const DEFAULT_MAX_WARM_INSTANCES = 4;
let fnCounter = SELF_TEST_FN;

/** The values of {@link WasmRuntimeOptions.v8Tiering}. */
export type V8Tiering = 'eager' | 'default';
/** The setting this process compiles wasm with, fixed by its first deploy. */
let processTiering: V8Tiering | undefined;

/**
 * Sets V8's wasm flags for the process before its first compile (measured with
 * bench/wasm-vs-native.mjs on Node 20). `--no-wasm-lazy-compilation`: the first invocation of a
 * short function no longer spends milliseconds compiling printf and the rest on first call.
 * `--experimental-wasm-inlining` (Node 20 and 21; on by default later): fib(38) about 2x faster.
 * Not `--no-liftoff`: TurboFan-only compilation of every function of every module in the process
 * made V8 compile jco's own wasm (2-3 MiB, used to transpile native WASI 0.2 components) for minutes.
 * @throws UsageError `INVALID_ARGUMENT` for an unknown setting or one that differs from the process's.
 */
function applyV8Tiering(tiering: V8Tiering): void {
  if (tiering !== 'eager' && tiering !== 'default')
    throw new UsageError('INVALID_ARGUMENT', `v8Tiering must be 'eager' or 'default', not ${JSON.stringify(tiering)}.`);
  if (processTiering === tiering) return;
  if (processTiering !== undefined)
    throw new UsageError(
      'INVALID_ARGUMENT',
      `This process already compiles wasm with v8Tiering '${processTiering}'; V8's flags are process-wide, so '${tiering}' needs a process of its own.`,
    );
  processTiering = tiering;
  if (tiering === 'default') return;
  const major = Number(process.versions.node.split('.')[0]);
  v8.setFlagsFromString(
    ['--no-wasm-lazy-compilation', ...(major <= 21 ? ['--experimental-wasm-inlining'] : [])].join(' '),
  );
}

/**
 * Runs functions as WebAssembly: a WASI 0.2 command component or a WASI preview1 command module
 * (run over a preview1 host that gives each call the meaning jco's preview1 command adapter gives
 * it; native WASI 0.2 components need the optional `@bytecodealliance/jco-transpile`), on worker threads, so the host's event loop never
 * runs a function. The threads start with the runtime, in the background, and never keep the host
 * alive; waiting for them is set-up (`timing.prepareMs`), never cold start.
 */
export class WasmRuntime implements Runtime {
  readonly kind = 'wasm' as const;
  private readonly poolOptions: PoolOptions;
  /** The worker threads, started by `ready()` or the first `prepare()`. */
  private pool: WorkerPool | undefined;
  private readonly cacheDir: string;
  private readonly maxOutputBytes: number;
  /** Workers running and the host's side of a run taken once; unset again when starting failed. */
  private started: Promise<void> | undefined;
  private closed = false;

  /** @throws UsageError `INVALID_ARGUMENT` for an option out of range. Starts nothing: see `ready()`. */
  constructor(readonly options: WasmRuntimeOptions = {}) {
    checkKnownKeys(
      options,
      keysOf<WasmRuntimeOptions>({
        workers: true,
        cacheDir: true,
        prewarmedInstances: true,
        maxWarmInstances: true,
        keepAliveMs: true,
        maxOutputBytes: true,
        instantiateTimeoutMs: true,
        idleSpinUs: true,
        resultSpinUs: true,
        workerHeapMiB: true,
        componentHost: true,
        v8Tiering: true,
        maxModuleBytes: true,
        preinitTimeoutMs: true,
      }),
      'WasmRuntime options',
    );
    this.cacheDir = options.cacheDir ?? defaultCacheDir();
    this.maxOutputBytes = options.maxOutputBytes ?? MiB;
    const workers = options.workers ?? availableParallelism();
    if (!Number.isInteger(workers) || workers < 1 || workers > MAX_WORKERS)
      throw new UsageError(
        'INVALID_ARGUMENT',
        `workers must be an integer from 1 to ${MAX_WORKERS}, got ${String(workers)}.`,
      );
    const maxModuleBytes = options.maxModuleBytes ?? DEFAULT_MAX_MODULE_BYTES;
    if (!Number.isSafeInteger(maxModuleBytes) || maxModuleBytes < 8)
      throw new UsageError(
        'INVALID_ARGUMENT',
        `maxModuleBytes must be a whole number of bytes of at least 8, got ${String(maxModuleBytes)}.`,
      );
    this.poolOptions = {
      size: workers,
      maxOutputBytes: this.maxOutputBytes,
      instantiateTimeoutMs: options.instantiateTimeoutMs ?? 1000,
      spinMs: (options.idleSpinUs ?? 200) / 1000,
      hostSpinMs: (options.resultSpinUs ?? 50) / 1000,
      heapMiB: options.workerHeapMiB ?? 256,
    };
  }

  /**
   * Starts the worker threads (each takes its own run path through a tiny built-in module while it
   * starts) and takes this thread's side of a run through each mode a few times, so no invocation
   * waits for the threads or pays for V8's first compilation of the path. `prepare()` starts them
   * too; `nebula.ready()` calls this ahead.
   * @throws RuntimeUnavailableError when no worker thread can start.
   */
  async ready(): Promise<void> {
    try {
      await this.start();
    } catch (e) {
      throw new RuntimeUnavailableError(`The wasm worker threads could not start: ${(e as Error).message}`, {
        cause: e,
      });
    }
  }

  private start(): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the runtime was closed'));
    this.pool ??= new WorkerPool(this.poolOptions);
    if (!this.started) {
      const pool = this.pool;
      const started = pool.ready().then(() => this.warmUp(pool));
      started.catch(() => {
        if (this.started === started) this.started = undefined;
      });
      this.started = started;
    }
    return this.started;
  }

  /** This thread's side of a run (hand-over, result, outcome), taken through each mode with the workers' self-test module. */
  private async warmUp(pool: WorkerPool): Promise<void> {
    const facts: OutcomeFacts = {
      compiled: false,
      memoryMaxBytes: MiB,
      growProbe: true,
      maxOutputBytes: this.maxOutputBytes,
    };
    const selfTest = new PreparedWasm(pool, SELF_TEST_FN, facts, { sizeBytes: 0, digest: '' }, false);
    for (let i = 0; i < 20; i++) {
      const at = nowMs();
      await selfTest.run('{}', {
        mode: INVOCATION_MODES[i % INVOCATION_MODES.length]!,
        timeoutMs: 5000,
        deadlineAt: at + 5000,
        requestAt: at,
      });
    }
  }

  /**
   * Checks, pre-initialises (`fn.preinit`), rewrites and compiles the function's wasm (transpiling
   * native WASI 0.2 components with jco), or takes it from the cache, loads it into the workers and
   * makes a first instance; with `fn.checkInput`, runs a snapshot and its original once each on it.
   * @throws NebulaError `INVALID_FUNCTION` for bytes that are not a runnable WASI command (or whose
   * instance cannot be created), an initialiser that cannot be pre-initialised, or a snapshot whose
   * output differs; `RUNTIME_UNAVAILABLE` when no worker thread can start, or when a native WASI
   * 0.2 component needs `@bytecodealliance/jco-transpile` (or `preinit: true` needs
   * `@bytecodealliance/wizer`) and it is not installed.
   */
  async prepare(fn: FunctionSpec): Promise<Prepared> {
    if (fn.wasm === undefined) throw new UsageError('INVALID_ARGUMENT', `Function "${fn.name}" has no wasm artifact.`);
    const maxModuleBytes = this.options.maxModuleBytes ?? DEFAULT_MAX_MODULE_BYTES;
    let bytes: Uint8Array;
    if (typeof fn.wasm === 'string') {
      try {
        bytes = await readFileCapped(fn.wasm, maxModuleBytes);
      } catch (e) {
        throw new NebulaError(
          'INVALID_FUNCTION',
          `Function "${fn.name}": cannot read ${fn.wasm}: ${(e as Error).message}.`,
          { cause: e },
        );
      }
    } else bytes = fn.wasm;
    if (bytes.byteLength > maxModuleBytes)
      throw new NebulaError(
        'INVALID_FUNCTION',
        `Function "${fn.name}": its wasm is ${bytes.byteLength} bytes, over the ${maxModuleBytes}-byte limit (maxModuleBytes).`,
      );
    applyV8Tiering(this.options.v8Tiering ?? 'eager');
    const memoryMaxBytes = (fn.limits?.memoryMiB ?? 256) * MiB;
    const preinitTimeoutMs = this.options.preinitTimeoutMs ?? 30_000;
    const preinit: PreinitRequest = {
      mode: fn.preinit ?? 'auto',
      ...(fn.initFunc !== undefined ? { initFunc: fn.initFunc } : {}),
      allowWasi: fn.grants?.initWasi === true,
      timeoutMs: preinitTimeoutMs,
    };
    const options = {
      cacheDir: this.cacheDir,
      memoryMaxBytes,
      maxModuleBytes,
      forceGlue: this.options.componentHost === 'glue',
    };
    const artifact = await prepareArtifact(fn.name, bytes, { ...options, preinit });
    await this.ready();
    const pool = this.pool!;
    const fnId = await this.load(fn, artifact);
    const facts: OutcomeFacts = {
      compiled: artifact.built,
      memoryMaxBytes,
      growProbe: artifact.facts?.growProbe === true,
      maxOutputBytes: this.maxOutputBytes,
    };
    const info: ArtifactInfo = {
      sizeBytes: artifact.sizeBytes,
      digest: `sha256:${artifact.digest}`,
      preinitialized: artifact.snapshot !== undefined,
      ...(artifact.snapshot ? { snapshot: artifact.snapshot } : {}),
      ...(artifact.preinitNote ? { preinitNote: artifact.preinitNote } : {}),
    };
    const prepared = new PreparedWasm(pool, fnId, facts, info, artifact.snapshot !== undefined);
    if (artifact.snapshot && fn.checkInput !== undefined) {
      const once = (id: number, input: string, deadlineAt: number) =>
        new PreparedWasm(pool, id, { ...facts, compiled: false }, {}, false).run(input, {
          mode: 'cold',
          timeoutMs: deadlineAt - nowMs(),
          deadlineAt,
          requestAt: nowMs(),
        });
      let original: number | undefined;
      try {
        // The original, loaded beside the snapshot for one run: what the snapshot must give too.
        original = await this.load(fn, await prepareArtifact(fn.name, bytes, options), { prewarmed: 0, warmMax: 0 });
        const input = JSON.stringify(fn.checkInput);
        await checkSnapshot(fn.name, once, { original, snapshot: fnId }, input, preinitTimeoutMs);
      } catch (e) {
        pool.drop(fnId);
        throw e;
      } finally {
        if (original !== undefined) pool.drop(original);
      }
    }
    return prepared;
  }

  /**
   * Loads an artifact into the workers (each makes its first instance) under a new function id.
   * @throws NebulaError `INVALID_FUNCTION` when its instance cannot be created, `RUNTIME_UNAVAILABLE`.
   */
  private async load(
    fn: FunctionSpec,
    artifact: WasmArtifact,
    keep = {
      prewarmed: this.options.prewarmedInstances ?? 2,
      warmMax: this.options.maxWarmInstances ?? DEFAULT_MAX_WARM_INSTANCES,
    },
  ): Promise<number> {
    const pool = this.pool!;
    const fnId = ++fnCounter;
    try {
      await pool.load({
        type: 'load',
        fnId,
        ...(artifact.module ? { module: artifact.module, facts: artifact.facts! } : {}),
        ...(artifact.glue ? { glue: artifact.glue } : {}),
        args: [fn.name, ...(fn.grants?.args ?? [])],
        env: fn.grants?.env ?? {},
        ...keep,
        keepAliveMs: this.options.keepAliveMs ?? 60_000,
      });
    } catch (e) {
      pool.drop(fnId);
      const why = (e as Error).message;
      if (pool.unavailable())
        throw new RuntimeUnavailableError(`The wasm worker threads could not start: ${why}`, { cause: e });
      throw new NebulaError('INVALID_FUNCTION', `Function "${fn.name}": its instance cannot be created: ${why}`, {
        cause: e,
      });
    }
    return fnId;
  }

  /** Terminates the workers. */
  async close(): Promise<void> {
    this.closed = true;
    await this.pool?.close();
  }
}

/** Longest a keeper's pre-warm may wait for its worker's idle moment and make the instance, ms. */
const PREWARM_TIMEOUT_MS = 60_000;

class PreparedWasm implements Prepared {
  /**
   * Its idle instances, for keep-alive policies: held in their worker threads (the runtime's
   * keep-alive no longer drops them), made ahead, dropped, counted; a `warm` run goes to the
   * worker keeping one. Instances a run cannot be restored from (native WASI 0.2 components, modules whose
   * state the rewrite cannot restore) are never kept: for those only pre-warms are.
   */
  readonly keeper: SandboxKeeper = {
    hold: () => this.pool.keepIdle(this.fnId),
    prewarm: () => this.pool.prewarm(this.fnId, PREWARM_TIMEOUT_MS),
    drop: () => this.pool.discardIdle(this.fnId),
    idle: () => this.pool.idleCount(this.fnId),
  };

  constructor(
    private readonly pool: WorkerPool,
    private readonly fnId: number,
    private facts: OutcomeFacts,
    readonly info: ArtifactInfo,
    private readonly preinitialized: boolean,
  ) {}

  run(input: string, ctx: RunContext): Promise<RunOutcome> {
    const facts = this.facts;
    // Only the first run after a preparation that compiled reports it.
    if (facts.compiled) this.facts = { ...facts, compiled: false };
    return this.pool.run(this.fnId, Mode[ctx.mode], input, ctx.deadlineAt, ctx.signal).then((r) => {
      const outcome = toOutcome(r, ctx, facts);
      outcome.preinitialized = this.preinitialized;
      return outcome;
    });
  }

  async release(): Promise<void> {
    this.pool.drop(this.fnId);
  }
}
