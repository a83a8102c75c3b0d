/**
 * The Nebula core: the function registry, `invoke()`, events, the results file and the meter.
 * Runtimes and meters are plugged in through their interfaces; nothing here knows their insides.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'eventemitter3';
import { builtinFunctions } from './builtins.js';
import { isoFromMs, nowMs } from './clock.js';
import { EnergyTracker } from './energy/tracker.js';
import { UsageError, toNebulaError } from './errors.js';
import type { Meter } from './meters/meter.js';
import { RecordLog } from './record-log.js';
import { DockerRuntime, type DockerRuntimeOptions } from './runtimes/docker/index.js';
import type { Prepared, RunOutcome, Runtime } from './runtimes/runtime.js';
import { WasmRuntime, type WasmRuntimeOptions } from './runtimes/wasm/index.js';
import type {
  Baseline,
  BatchEnergy,
  FunctionInfo,
  FunctionSpec,
  InvocationError,
  InvocationMode,
  InvocationRecord,
  InvokeOptions,
  NebulaEvents,
  RuntimeKind,
} from './types.js';

/** Options of {@link Nebula}. */
export interface NebulaOptions {
  /** Register the built-in functions (fib, exponential, factorial, prime, hash). Default true. */
  builtins?: boolean;
  /** The meter whose samples give each record its energy. Default: none (energy is `null`). */
  meter?: Meter;
  /** Append every record to this JSONL file, one line per record, written through. */
  resultsFile?: string;
  /** Largest accepted input, as JSON text, in bytes. Default 1 MiB. */
  maxInputBytes?: number;
  /** Default `timeoutMs` of `invoke()`. Default 30 000. */
  timeoutMs?: number;
  /** Largest stderr kept in a failed record, bytes. Default 4 KiB. */
  maxStderrBytes?: number;
  /** Options of the default Wasm runtime. */
  wasm?: WasmRuntimeOptions;
  /** Options of the default Docker runtime. */
  docker?: DockerRuntimeOptions;
  /** Runtimes to use instead of the defaults (e.g. a `DockerRuntime` on a remote engine). */
  runtimes?: Partial<Record<RuntimeKind, Runtime>>;
}

interface Entry {
  spec: FunctionSpec;
  prepared: Partial<Record<RuntimeKind, Promise<Prepared>>>;
}

const NAME = /^[a-z][a-z0-9_-]{0,62}$/;
const KINDS: readonly RuntimeKind[] = ['wasm', 'docker'];
const MODES: readonly InvocationMode[] = ['cold', 'prewarmed', 'warm'];
let idCounter = 0;

/** A time-ordered unique id: 9 base-36 characters of epoch ms, then a counter and randomness. */
function newId(): string {
  idCounter = (idCounter + 1) % 1296;
  return Date.now().toString(36).padStart(9, '0') + idCounter.toString(36).padStart(2, '0') + randomBytes(4).toString('hex');
}

function capText(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  return Buffer.from(text).subarray(0, maxBytes).toString('utf8') + '\n[stderr truncated]';
}

/** stdout that parses as JSON is returned parsed, otherwise as trimmed text (DESIGN.md §3). */
export function parseResult(stdout: string): unknown {
  const text = stdout.trim();
  if (text === '') return '';
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * Runs functions as WebAssembly components or Docker containers and records each invocation's
 * cold start, run time and energy.
 *
 * @example
 * ```ts
 * const nebula = new Nebula();
 * const rec = await nebula.invoke('fib', 30, { runtime: 'wasm' });
 * console.log(rec.result, rec.timing.startupMs, rec.timing.execMs);
 * await nebula.close();
 * ```
 */
export class Nebula extends EventEmitter<NebulaEvents> {
  /** The attached meter, if any. */
  readonly meter: Meter | undefined;
  private readonly registry = new Map<string, Entry>();
  private readonly runtimes = new Map<RuntimeKind, Runtime>();
  private readonly energy: EnergyTracker | undefined;
  private readonly log: RecordLog | undefined;
  private readonly inflight = new Set<Promise<unknown>>();
  private closed = false;

  constructor(readonly options: NebulaOptions = {}) {
    super();
    for (const [kind, rt] of Object.entries(options.runtimes ?? {})) if (rt) this.runtimes.set(kind as RuntimeKind, rt);
    this.meter = options.meter;
    if (options.meter) {
      this.energy = new EnergyTracker(options.meter);
      options.meter.on('sample', (s) => this.emit('sample', s));
      options.meter.on('error', (e) => this.emit('meter:error', e));
    }
    if (options.resultsFile) this.log = new RecordLog(options.resultsFile);
    if (options.builtins !== false) for (const spec of builtinFunctions()) this.register(spec);
  }

  /** The idle power subtracted from every record, once measured. */
  get baseline(): Baseline | null {
    return this.energy?.baseline ?? null;
  }

  /** The runtime of that kind (created on first use). */
  runtime(kind: RuntimeKind): Runtime {
    let rt = this.runtimes.get(kind);
    if (!rt) {
      rt = kind === 'wasm' ? new WasmRuntime(this.options.wasm) : new DockerRuntime(this.options.docker);
      this.runtimes.set(kind, rt);
    }
    return rt;
  }

  /**
   * Deploys one function or several: the artifacts are validated and prepared (compiled, image
   * checked) now, so a bad artifact is refused here and not at first invoke. Re-deploying a name
   * replaces it.
   * @throws NebulaError `INVALID_ARGUMENT` (bad name or no artifact), `INVALID_FUNCTION`
   * (an artifact that cannot run), `RUNTIME_UNAVAILABLE`.
   */
  async deploy(spec: FunctionSpec | FunctionSpec[]): Promise<FunctionInfo[]> {
    this.assertOpen();
    const specs = Array.isArray(spec) ? spec : [spec];
    const infos: FunctionInfo[] = [];
    for (const s of specs) {
      validateSpec(s);
      const entry: Entry = { spec: s, prepared: {} };
      const prepared = this.kindsOf(s).map((kind) => this.prepareEntry(entry, kind));
      await Promise.all(prepared);
      await this.replace(s.name, entry);
      infos.push(await this.info(entry));
    }
    return infos;
  }

  /** Removes a function. Returns false when there was none by that name. */
  async undeploy(name: string): Promise<boolean> {
    const entry = this.registry.get(name);
    if (!entry) return false;
    this.registry.delete(name);
    await releaseEntry(entry);
    this.emit('undeploy', name);
    return true;
  }

  /**
   * Prepares functions ahead of their first invocation (compiles wasm, builds Docker images), so
   * the first invocation measures a cold start and not a build. Default: every function on every
   * runtime it has.
   */
  async prepare(names?: string[], runtimes: RuntimeKind[] = [...KINDS]): Promise<void> {
    const list = names ?? [...this.registry.keys()];
    for (const name of list) {
      const entry = this.entry(name);
      for (const kind of runtimes) if (this.kindsOf(entry.spec).includes(kind)) await this.prepareEntry(entry, kind);
    }
  }

  /** The deployed functions. */
  async functions(): Promise<FunctionInfo[]> {
    return Promise.all([...this.registry.values()].map((e) => this.info(e)));
  }

  /** True when a function of that name is deployed. */
  has(name: string): boolean {
    return this.registry.has(name);
  }

  /**
   * Invokes a function once with `input` (passed as JSON on stdin) and returns its record. A
   * failing function gives a record with `ok: false`; it never throws for the function's fault.
   * Times are ms on one clock (see `InvocationTiming`).
   * @throws NebulaError `FUNCTION_NOT_FOUND`, `RUNTIME_NOT_DEPLOYED`, `INVALID_INPUT`,
   * `INVALID_ARGUMENT` (bad options), `RUNTIME_UNAVAILABLE`, `CLOSED`.
   * @example
   * ```ts
   * const rec = await nebula.invoke('prime', 1000, { runtime: 'docker', mode: 'warm' });
   * if (rec.ok) console.log(rec.result, rec.timing.totalMs); else console.error(rec.error?.code);
   * ```
   */
  async invoke<R = unknown>(name: string, input: unknown, options: InvokeOptions = {}): Promise<InvocationRecord<R>> {
    // Starting the meter (once, until its first sample) is set-up, not part of the invocation.
    if (this.energy && !this.closed) await this.energy.start().catch(() => undefined);
    const requestAt = nowMs();
    this.assertOpen();
    const entry = this.entry(name);
    const kinds = this.kindsOf(entry.spec);
    const runtime = options.runtime ?? kinds[0];
    if (!KINDS.includes(runtime)) throw new UsageError('INVALID_ARGUMENT', `Unknown runtime "${String(runtime)}": use "wasm" or "docker".`);
    if (!kinds.includes(runtime))
      throw new UsageError('RUNTIME_NOT_DEPLOYED', `Function "${name}" has no ${runtime} artifact; it runs on: ${kinds.join(', ')}.`);
    const mode = options.mode ?? 'cold';
    if (!MODES.includes(mode)) throw new UsageError('INVALID_ARGUMENT', `Unknown mode "${String(mode)}": use "cold", "prewarmed" or "warm".`);
    const timeoutMs = options.timeoutMs ?? this.options.timeoutMs ?? 30_000;
    if (!(timeoutMs > 0) || !Number.isFinite(timeoutMs))
      throw new UsageError('INVALID_ARGUMENT', `timeoutMs must be a positive number of milliseconds, got ${String(timeoutMs)}.`);
    const inputJson = this.serialiseInput(input);

    const id = newId();
    this.emit('invocation:start', { id, function: name, runtime, mode, input });
    const work = this.run(entry, runtime, inputJson, { mode, timeoutMs, deadlineAt: requestAt + timeoutMs, signal: options.signal, requestAt });
    this.inflight.add(work);
    let outcome: RunOutcome;
    try {
      outcome = await work;
    } finally {
      this.inflight.delete(work);
    }
    const record = this.toRecord<R>(id, name, runtime, mode, input, requestAt, outcome);

    if (this.energy) {
      try {
        await this.energy.start();
        const wait = options.waitForEnergy ?? true;
        const a = await this.energy.attribute(requestAt, record.timing.functionEndAt, { wait, signal: options.signal });
        record.energy = a.energy;
        if (a.note) record.energyNote = a.note;
      } catch (e) {
        record.energyNote = `meter: ${toNebulaError(e).message}`;
      }
    }
    outcome.cleanup?.then(
      (ms) => (record.timing.cleanupMs = ms),
      () => undefined,
    );
    this.log?.append(record);
    this.safeEmit('invocation:end', record as InvocationRecord);
    return record;
  }

  /**
   * Measures idle power for `durationMs` and subtracts it from every later record.
   * @throws NebulaError `METER_UNAVAILABLE` when no meter is attached or it cannot be read.
   */
  async measureBaseline(options: { durationMs?: number } = {}): Promise<Baseline> {
    this.assertOpen();
    if (!this.energy) throw new UsageError('METER_UNAVAILABLE', 'No meter is attached: pass `meter` to new Nebula().');
    await this.energy.start();
    return this.energy.measureBaseline(options.durationMs ?? 10_000);
  }

  /**
   * Energy per invocation of `n` invocations run back to back in [from, to] (epoch ms), for
   * functions shorter than the meter's interval. Waits for the meter to cover `to`.
   * @throws NebulaError `METER_UNAVAILABLE` when no meter is attached or the window has a gap.
   */
  async attributeBatch(from: number, to: number, n: number): Promise<BatchEnergy> {
    if (!this.energy) throw new UsageError('METER_UNAVAILABLE', 'No meter is attached: pass `meter` to new Nebula().');
    return this.energy.batch(from, to, n);
  }

  /** Releases everything: waits for running invocations, closes runtimes, stops the meter, closes the results file. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.inflight]);
    await Promise.allSettled([...this.registry.values()].map(releaseEntry));
    await Promise.allSettled([...this.runtimes.values()].map((rt) => rt.close()));
    await this.energy?.stop().catch(() => undefined);
    this.log?.close();
    this.removeAllListeners();
  }

  private register(spec: FunctionSpec): void {
    validateSpec(spec);
    this.registry.set(spec.name, { spec, prepared: {} });
  }

  private async replace(name: string, entry: Entry): Promise<void> {
    const old = this.registry.get(name);
    this.registry.set(name, entry);
    if (old) await releaseEntry(old);
    this.safeEmit('deploy', await this.info(entry));
  }

  private entry(name: string): Entry {
    const entry = this.registry.get(name);
    if (!entry) {
      const known = [...this.registry.keys()].join(', ') || 'none';
      throw new UsageError('FUNCTION_NOT_FOUND', `No function named "${String(name)}" is deployed (deployed: ${known}).`);
    }
    return entry;
  }

  private kindsOf(spec: FunctionSpec): RuntimeKind[] {
    return KINDS.filter((k) => spec[k] !== undefined);
  }

  /** The prepared function for a runtime, prepared once; a failed preparation is retried next time. */
  private prepareEntry(entry: Entry, kind: RuntimeKind): Promise<Prepared> {
    let p = entry.prepared[kind];
    if (!p) {
      p = this.runtime(kind).prepare(entry.spec);
      entry.prepared[kind] = p;
      p.catch(() => {
        if (entry.prepared[kind] === p) delete entry.prepared[kind];
      });
    }
    return p;
  }

  private async run(entry: Entry, kind: RuntimeKind, input: string, ctx: Parameters<Prepared['run']>[1]): Promise<RunOutcome> {
    const t = nowMs();
    const prepared = await this.prepareEntry(entry, kind);
    const preparedMs = nowMs() - t;
    try {
      const outcome = await prepared.run(input, ctx);
      // A function prepared on first use: the wait is part of this invocation's start-up, and shown.
      if (preparedMs > 1) outcome.phases = { prepare: preparedMs, ...outcome.phases };
      return outcome;
    } catch (e) {
      const end = nowMs();
      return {
        exitCode: null,
        stdout: '',
        stderr: '',
        functionStartAt: end,
        functionEndAt: end,
        phases: {},
        compiled: false,
        sandbox: 'fresh',
        error: toNebulaError(e, 'RUNTIME_ERROR'),
      };
    }
  }

  private toRecord<R>(
    id: string,
    name: string,
    runtime: RuntimeKind,
    mode: InvocationMode,
    input: unknown,
    requestAt: number,
    o: RunOutcome,
  ): InvocationRecord<R> {
    const maxStderr = this.options.maxStderrBytes ?? 4096;
    let error: InvocationError | undefined;
    if (o.stdoutTruncated && (!o.error || o.error.code === 'OUTPUT_LIMIT')) {
      error = {
        code: 'OUTPUT_LIMIT',
        message: o.error?.message ?? `Function "${name}" wrote more than the output cap to stdout; the cut result is not returned.`,
        exitCode: o.exitCode,
        stderr: capText(o.stderr, maxStderr),
      };
    } else if (o.error) {
      error = { code: o.error.code, message: o.error.message, exitCode: o.exitCode, stderr: capText(o.stderr, maxStderr) };
    } else if (o.exitCode !== 0) {
      const first = o.stderr.trim().split('\n')[0] ?? '';
      error = {
        code: 'FUNCTION_FAILED',
        message: `Function "${name}" exited with code ${String(o.exitCode)}${first ? `: ${first}` : ''}`,
        exitCode: o.exitCode,
        stderr: capText(o.stderr, maxStderr),
      };
    }
    const result = error ? null : (parseResult(o.stdout) as R);
    const prepareMs = o.setupWaitMs ?? 0;
    const start = Math.max(o.functionStartAt, requestAt);
    const end = Math.max(o.functionEndAt, start);
    const record: InvocationRecord<R> = {
      id,
      function: name,
      runtime,
      mode,
      input,
      ok: !error,
      sandbox: o.sandbox,
      result,
      startedAt: isoFromMs(requestAt),
      timing: {
        startupMs: Math.max(0, start - requestAt - prepareMs),
        execMs: end - start,
        totalMs: nowMs() - requestAt,
        prepareMs,
        cleanupMs: null,
        phases: o.phases,
        compiled: o.compiled,
        requestAt,
        functionStartAt: start,
        functionEndAt: end,
      },
      energy: null,
    };
    if (error) record.error = error;
    return record;
  }

  private serialiseInput(input: unknown): string {
    let json: string | undefined;
    try {
      json = JSON.stringify(input);
    } catch (e) {
      throw new UsageError('INVALID_INPUT', `The input cannot be serialised to JSON: ${(e as Error).message}`, { cause: e });
    }
    if (json === undefined) throw new UsageError('INVALID_INPUT', 'The input cannot be serialised to JSON (undefined, a function or a symbol).');
    const max = this.options.maxInputBytes ?? 1024 * 1024;
    const size = Buffer.byteLength(json);
    if (size > max) throw new UsageError('INVALID_INPUT', `The input is ${size} bytes as JSON, over the ${max}-byte cap (option maxInputBytes).`, { details: { size, max } });
    return json;
  }

  private async info(entry: Entry): Promise<FunctionInfo> {
    const s = entry.spec;
    const info: FunctionInfo = { name: s.name, builtin: s.builtin === true, runtimes: this.kindsOf(s) };
    if (s.description) info.description = s.description;
    const wasm = entry.prepared.wasm ? await entry.prepared.wasm.catch(() => undefined) : undefined;
    if (wasm?.info.sizeBytes !== undefined) info.wasmBytes = wasm.info.sizeBytes;
    else if (s.wasm instanceof Uint8Array) info.wasmBytes = s.wasm.byteLength;
    const docker = entry.prepared.docker ? await entry.prepared.docker.catch(() => undefined) : undefined;
    if (docker?.info.image) info.dockerImage = docker.info.image;
    else if (s.docker && 'image' in s.docker) info.dockerImage = s.docker.image;
    return info;
  }

  /** Emits without letting a throwing listener lose the record or break the caller. */
  private safeEmit<E extends keyof NebulaEvents>(event: E, ...args: Parameters<NebulaEvents[E]>): void {
    try {
      (this.emit as (e: E, ...a: Parameters<NebulaEvents[E]>) => boolean)(event, ...args);
    } catch (e) {
      process.emitWarning(`nebula-faas: a "${event}" listener threw: ${(e as Error)?.message ?? String(e)}`);
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new UsageError('CLOSED', 'This Nebula instance is closed; create a new one.');
  }
}

async function releaseEntry(entry: Entry): Promise<void> {
  await Promise.allSettled(
    Object.values(entry.prepared).map(async (p) => {
      const prepared = await p;
      await prepared.release();
    }),
  );
}

function validateSpec(spec: FunctionSpec): void {
  if (typeof spec !== 'object' || spec === null) throw new UsageError('INVALID_ARGUMENT', 'deploy() takes { name, wasm?, docker? }.');
  if (typeof spec.name !== 'string' || !NAME.test(spec.name))
    throw new UsageError(
      'INVALID_ARGUMENT',
      `Invalid function name ${JSON.stringify(spec.name)}: use 1-63 lower-case letters, digits, "-" or "_", starting with a letter.`,
    );
  if (spec.wasm === undefined && spec.docker === undefined)
    throw new UsageError('INVALID_ARGUMENT', `Function "${spec.name}" needs a "wasm" artifact, a "docker" source, or both.`);
  if (spec.wasm !== undefined && typeof spec.wasm !== 'string' && !(spec.wasm instanceof Uint8Array))
    throw new UsageError('INVALID_ARGUMENT', `Function "${spec.name}": "wasm" must be a file path or the bytes (Uint8Array).`);
}

