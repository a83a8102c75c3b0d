/**
 * The Nebula core: the function registry, `invoke()`, events, the results file and the meter.
 * Runtimes and meters are plugged in through their interfaces; nothing here knows their insides.
 */
import { EventEmitter } from 'eventemitter3';
import { MAX_TIMEOUT_MS, nowMs } from './clock.js';
import { PendingEnergy } from './energy/pending.js';
import { EnergyTracker } from './energy/tracker.js';
import { isNebulaError, MeterError, NebulaError, UsageError } from './errors.js';
import { checkKnownKeys, keysOf } from './known-keys.js';
import { defaultMeter } from './meters/default-meter.js';
import type { Meter } from './meters/meter.js';
import { newId, serialiseInput, toRecord, warmRecordPath } from './record.js';
import { failedOutcome } from './runtimes/outcome.js';
import { RecordLog } from './record-log.js';
import {
  builtinFunctions,
  descriptorOf,
  isRuntimeKind,
  runtimeDescriptors,
  runtimeKinds,
  SPEC_FIELDS,
  type RuntimeOptionsByKind,
} from './runtimes/registry.js';
import type {
  CloseOptions,
  Prepared,
  Removal,
  RunContext,
  RunOutcome,
  Runtime,
  SandboxKeeper,
} from './runtimes/runtime.js';
import {
  INVOCATION_MODES,
  type ArtifactInfo,
  type Baseline,
  type BatchEnergy,
  type BuiltinSignatures,
  type EnergyLedger,
  type FunctionGrants,
  type FunctionInfo,
  type FunctionLimits,
  type FunctionSpec,
  type InvocationRecord,
  type InvokeOptions,
  type NebulaEvents,
  type RuntimeKind,
} from './types.js';

/** Options of {@link Nebula}: the core's, then each runtime's options under its kind (`wasm`, `docker`, ...). */
export type NebulaOptions = NebulaCoreOptions & RuntimeOptionsByKind;

/** The core options of {@link Nebula}. */
export interface NebulaCoreOptions {
  /** Register the built-in functions (fib, exponential, factorial, prime, hash). Default true. */
  builtins?: boolean;
  /**
   * Start `ready()` when the instance is created, in the background: the engine's one-time set-up
   * (the Wasm worker threads, the host's own first steps) is then done, or under way, by the first
   * invocation, which reports any wait for it as `prepareMs`. `false` starts nothing until asked
   * (`ready()`, `prepare()`, or a first invocation). Default true.
   */
  warmUp?: boolean;
  /**
   * The meter whose samples give each record its energy. Default: RAPL where this host's
   * powercap counters can be read, otherwise the CPU-utilisation estimate (`energy.estimate:
   * true`). `null` turns energy off (`energyStatus: 'off'`). The meter starts when the instance
   * is created, without delaying anything, and stops at `close()`.
   */
  meter?: Meter | null;
  /**
   * How long after a function's end its energy may wait for the meter's covering sample, ms;
   * past it the record settles `unavailable` (`METER_OUTAGE`). Default: 2 meter intervals + 1 000.
   */
  energyDeadlineMs?: number;
  /**
   * Append every record to this JSONL file, one line per record, written (synchronously) once
   * its energy has settled. See docs/energy.md for what a crash can lose.
   */
  resultsFile?: string;
  /** Largest accepted input, as JSON text, in bytes. Default 1 MiB. */
  maxInputBytes?: number;
  /** Default `timeoutMs` of `invoke()`. Default 30 000; at most 2 147 483 647. */
  timeoutMs?: number;
  /** Largest stderr kept in a failed record, bytes. Default 4 KiB. */
  maxStderrBytes?: number;
  /** Runtimes to use instead of the defaults (e.g. a `DockerRuntime` on a remote engine). */
  runtimes?: Partial<Record<RuntimeKind, Runtime>>;
  /**
   * Reads the CPU time, ms since any fixed point, of what the meter measures: energy shares divide
   * the power above the baseline by it (docs/energy.md#shares). Default: this host's, from the
   * kernel. Set it when the meter measures something else than this host, e.g. one cgroup.
   */
  machineCpuMs?: () => number;
}

interface Entry {
  spec: FunctionSpec;
  prepared: Partial<Record<RuntimeKind, Promise<Prepared>>>;
  /** The prepared functions once ready, so an invocation of a prepared function awaits nothing before its run. */
  ready: Partial<Record<RuntimeKind, Prepared>>;
  /** What each ready runtime runs (its descriptor's view of the source, completed by the preparation), for the records. */
  artifacts: Partial<Record<RuntimeKind, ArtifactInfo>>;
}

const NAME = /^[a-z][a-z0-9_-]{0,62}$/;
const CORE_OPTIONS = keysOf<NebulaCoreOptions>({
  builtins: true,
  warmUp: true,
  meter: true,
  energyDeadlineMs: true,
  resultsFile: true,
  maxInputBytes: true,
  timeoutMs: true,
  maxStderrBytes: true,
  runtimes: true,
  machineCpuMs: true,
});
const INVOKE_OPTIONS = keysOf<InvokeOptions>({
  runtime: true,
  mode: true,
  timeoutMs: true,
  signal: true,
  waitForEnergy: true,
});
const LIMIT_KEYS = keysOf<FunctionLimits>({ memoryMiB: true, cpus: true, pids: true });
const GRANT_KEYS = keysOf<FunctionGrants>({ env: true, args: true, initWasi: true });
/** The largest `checkInput`, as JSON text. */
const CHECK_INPUT_MAX_BYTES = 1024 * 1024;

/** Checks a timeout in ms. @throws UsageError `INVALID_ARGUMENT` */
export function checkTimeoutMs(value: unknown, what = 'timeoutMs'): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || !(value > 0) || value > MAX_TIMEOUT_MS)
    throw new UsageError(
      'INVALID_ARGUMENT',
      `${what} must be a number of milliseconds from 1 to ${MAX_TIMEOUT_MS} (about 24.8 days), got ${String(value)}.`,
    );
  return value;
}

/**
 * Runs functions as WebAssembly components or Docker containers and records each invocation's
 * cold start, run time and energy.
 *
 * @example
 * ```ts
 * const nebula = new Nebula();
 * const rec = await nebula.invoke('fib', 30);
 * console.log(rec.result, rec.timing.startupMs, rec.timing.execMs);
 * await nebula.close();
 * ```
 */
export class Nebula extends EventEmitter<NebulaEvents> {
  /** The attached meter (the default one unless `meter` was given); undefined with `meter: null`. */
  readonly meter: Meter | undefined;
  private readonly registry = new Map<string, Entry>();
  private readonly runtimes = new Map<RuntimeKind, Runtime>();
  private readonly energy: EnergyTracker | undefined;
  private readonly pending: PendingEnergy | undefined;
  private readonly log: RecordLog | undefined;
  /** Invocations running, with the epoch ms of their `invoke()` call (records overlapping them wait for them). */
  private readonly inflight = new Map<Promise<unknown>, number>();
  /** Clean-ups of finished invocations still running (see `cleanedUp()`). */
  private readonly cleanups = new Set<Promise<void>>();
  private closed = false;
  private warming: Promise<void> | undefined;

  /** @throws UsageError `INVALID_ARGUMENT` for an option out of range (e.g. `timeoutMs`). */
  constructor(readonly options: NebulaOptions = {}) {
    super();
    checkKnownKeys(options, [...CORE_OPTIONS, ...runtimeKinds()], 'new Nebula() options');
    if (options.timeoutMs !== undefined) checkTimeoutMs(options.timeoutMs, 'options.timeoutMs');
    for (const [kind, rt] of checkRuntimes(options.runtimes)) this.runtimes.set(kind, rt);
    if (options.energyDeadlineMs !== undefined) checkTimeoutMs(options.energyDeadlineMs, 'options.energyDeadlineMs');
    if (options.resultsFile) this.log = new RecordLog(options.resultsFile);
    const meter = options.meter === null ? undefined : (options.meter ?? defaultMeter());
    this.meter = meter;
    if (meter) {
      this.energy = new EnergyTracker(meter, options.machineCpuMs ? { machineCpuMs: options.machineCpuMs } : {});
      meter.on('sample', (s) => this.safeEmit('sample', s));
      meter.on('error', (e) => this.safeEmit('meter:error', e));
      this.energy.onStartFailed = (e) => this.safeEmit('meter:error', e);
      this.pending = new PendingEnergy(
        this.energy,
        options.energyDeadlineMs ?? meter.intervalMs * 2 + 1000,
        (records) => this.settle(records),
        () => {
          let since = Number.POSITIVE_INFINITY;
          for (const at of this.inflight.values()) if (at < since) since = at;
          return since;
        },
      );
      // Started now, in the background: samples exist by the first invocation, which never waits for them.
      this.energy.kick();
    }
    if (options.builtins !== false) for (const spec of builtinFunctions()) this.register(spec);
    if (options.warmUp !== false) void this.ready();
  }

  /**
   * Takes the engine's one-time set-up now, so that no invocation's figures hold it: the host's
   * own steps of an invocation (the id generator seeded, its code compiled by V8), and each
   * registered runtime that starts ahead (its descriptor's `startsAhead`: the Wasm worker threads
   * started and their run path taken once). The constructor starts it in the background unless
   * `warmUp: false`; experiments and `nebula serve` await it. Functions are not prepared here (see
   * `prepare()`). Never rejects: a runtime that cannot start says so at its first invocation, as a
   * failed record.
   */
  ready(): Promise<void> {
    this.warming ??= this.warmUp();
    return this.warming;
  }

  private async warmUp(): Promise<void> {
    if (this.closed) return;
    // The host's own steps, each once: V8 compiles a function on its first call, and the
    // generator behind record ids is seeded on its first draw (~0.5 ms). Nothing runs, nothing is
    // emitted or recorded.
    const first = this.registry.keys().next();
    if (!first.done) this.request(first.value, null, {});
    warmRecordPath();
    await Promise.all(
      runtimeDescriptors()
        .filter((d) => d.startsAhead)
        .map(async (d) => {
          try {
            await this.runtime(d.kind).ready?.();
          } catch {
            // Reported where it matters: at the first invocation or deploy that needs this runtime.
          }
        }),
    );
  }

  /** The idle power subtracted from every record, once measured. */
  get baseline(): Baseline | null {
    return this.energy?.baseline ?? null;
  }

  /** The runtime of that kind (created on first use from the registry, with its options). */
  runtime(kind: RuntimeKind): Runtime {
    let rt = this.runtimes.get(kind);
    if (!rt) {
      if (!isRuntimeKind(kind)) throw unknownRuntime(kind);
      rt = descriptorOf(kind).create((this.options as Record<string, unknown>)[kind]);
      this.runtimes.set(kind, rt);
    }
    return rt;
  }

  /**
   * Deploys one function or several: the artifacts are validated and prepared (compiled, image
   * checked) now, so a bad artifact is refused here and not at first invoke. Re-deploying a name
   * replaces it.
   * @param options.prepare false: only check the specs' shape and register them; each artifact is
   * prepared by `prepare()` or on first use (as the built-ins are). Default true.
   * @throws NebulaError `INVALID_ARGUMENT` (bad name or no artifact), `INVALID_FUNCTION`
   * (an artifact that cannot run), `RUNTIME_UNAVAILABLE`.
   */
  async deploy(spec: FunctionSpec | FunctionSpec[], options: { prepare?: boolean } = {}): Promise<FunctionInfo[]> {
    this.assertOpen();
    const specs = Array.isArray(spec) ? spec : [spec];
    const infos: FunctionInfo[] = [];
    for (const s of specs) {
      validateSpec(s);
      const entry: Entry = { spec: s, prepared: {}, ready: {}, artifacts: {} };
      if (options.prepare !== false) await Promise.all(kindsOf(s).map((kind) => this.prepareEntry(entry, kind)));
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
   * @throws NebulaError `FUNCTION_NOT_FOUND`, `INVALID_ARGUMENT` (unknown runtime), `INVALID_FUNCTION`, `RUNTIME_UNAVAILABLE`.
   */
  async prepare(names?: string[], runtimes: readonly RuntimeKind[] = runtimeKinds()): Promise<void> {
    for (const kind of runtimes) if (!isRuntimeKind(kind)) throw unknownRuntime(kind);
    const list = names ?? [...this.registry.keys()];
    for (const name of list) {
      const entry = this.entry(name);
      for (const kind of runtimes) if (kindsOf(entry.spec).includes(kind)) await this.prepareEntry(entry, kind);
    }
  }

  /** The deployed functions. */
  async functions(): Promise<FunctionInfo[]> {
    return Promise.all([...this.registry.values()].map((e) => this.info(e)));
  }

  /**
   * The spec a function was deployed with: a shallow copy (its artifacts are the values given to
   * `deploy()`), e.g. to deploy it again with another option.
   * @throws UsageError `FUNCTION_NOT_FOUND`
   */
  spec(name: string): FunctionSpec {
    return { ...this.entry(name).spec };
  }

  /** True when a function of that name is deployed. */
  has(name: string): boolean {
    return this.registry.has(name);
  }

  /**
   * Invokes a function once with `input` (passed as JSON on stdin) and returns its record. A
   * failing function gives a record with `ok: false`; it never throws for the function's fault.
   * Times are ms on one clock (see `InvocationTiming`). The built-ins are typed: `invoke('fib', 30)`
   * gives a record whose `result` is a number once `ok` is checked.
   * @throws NebulaError `FUNCTION_NOT_FOUND`, `RUNTIME_NOT_DEPLOYED`, `INVALID_INPUT`,
   * `INVALID_ARGUMENT` (bad options), `CLOSED`.
   * @example
   * ```ts
   * const rec = await nebula.invoke('prime', 1000, { mode: 'prewarmed' });
   * if (rec.ok) console.log(rec.result, rec.timing.totalMs); else console.error(rec.error.code);
   * ```
   */
  invoke<N extends keyof BuiltinSignatures>(
    name: N,
    input: BuiltinSignatures[N]['input'],
    options?: InvokeOptions,
  ): Promise<InvocationRecord<BuiltinSignatures[N]['result']>>;
  invoke<R = unknown, N extends string = string>(
    name: N & (N extends keyof BuiltinSignatures ? never : N),
    input: unknown,
    options?: InvokeOptions,
  ): Promise<InvocationRecord<R>>;
  async invoke<R = unknown>(name: string, input: unknown, options: InvokeOptions = {}): Promise<InvocationRecord<R>> {
    // Waiting for the meter's first sample is set-up, before the request; only with waitForEnergy.
    if (options.waitForEnergy && this.energy && !this.closed) await this.energy.ready().catch(() => undefined);
    const requestAt = nowMs();
    this.assertOpen();
    const { entry, runtime, mode, timeoutMs, inputJson, id } = this.request(name, input, options);
    this.safeEmit('invocation:start', { id, function: name, runtime, mode, input });
    const work = this.run(entry, runtime, inputJson, {
      mode,
      timeoutMs,
      deadlineAt: requestAt + timeoutMs,
      signal: options.signal,
      requestAt,
    });
    this.inflight.set(work, requestAt);
    let record: InvocationRecord<R>;
    try {
      const ran = await work;
      record = toRecord<R>(
        {
          id,
          name,
          runtime,
          mode,
          input,
          requestAt,
          prepareMs: ran.prepareMs,
          maxStderrBytes: this.options.maxStderrBytes ?? 4096,
        },
        ran.outcome,
      );
      const artifact = entry.artifacts[runtime];
      if (artifact) record.artifact = artifact;
      if (ran.outcome.cleanup) {
        const r = record;
        const cleanup = ran.outcome.cleanup.then(
          (ms) => void (r.timing.cleanupMs = ms),
          () => undefined,
        );
        this.cleanups.add(cleanup);
        void cleanup.then(() => this.cleanups.delete(cleanup));
      }
      this.safeEmit('invocation:end', record);
    } finally {
      // Counted as running until its record is queued (below): records that overlap it wait for its CPU time.
      this.inflight.delete(work);
    }
    if (!this.pending) {
      record.energyStatus = 'off';
      record.energyNote = { reason: 'NO_METER', message: 'energy measurement is off (meter: null)' };
      this.settle([record]);
    } else {
      this.energy!.kick();
      this.pending.track(record);
      if (options.waitForEnergy) await this.pending.settled([record]);
    }
    return record;
  }

  /**
   * The control of a function's kept sandboxes on a runtime (prepared first if it is not yet), or
   * undefined when that runtime offers none. Keep-alive policies steer sandboxes through it.
   * @throws NebulaError as `prepare()` does.
   */
  async keeper(name: string, runtime: RuntimeKind): Promise<SandboxKeeper | undefined> {
    await this.prepare([name], [runtime]);
    return this.entry(name).ready[runtime]?.keeper;
  }

  /**
   * The host's own steps of an invocation before its run: the options checked, the input
   * serialised, the record's id drawn.
   * @throws UsageError as `invoke()` documents.
   */
  private request(name: string, input: unknown, options: InvokeOptions) {
    checkKnownKeys(options, INVOKE_OPTIONS, 'invoke() options');
    const entry = this.entry(name);
    const kinds = kindsOf(entry.spec);
    const runtime = options.runtime ?? kinds[0]!;
    if (!isRuntimeKind(runtime)) throw unknownRuntime(runtime);
    if (!kinds.includes(runtime))
      throw new UsageError(
        'RUNTIME_NOT_DEPLOYED',
        `Function "${name}" has no ${runtime} artifact; it runs on: ${kinds.join(', ')}.`,
      );
    const mode = options.mode ?? 'cold';
    if (!INVOCATION_MODES.includes(mode))
      throw new UsageError(
        'INVALID_ARGUMENT',
        `Unknown mode "${String(mode)}": use ${INVOCATION_MODES.map((m) => `"${m}"`).join(', ')}.`,
      );
    const timeoutMs = checkTimeoutMs(options.timeoutMs ?? this.options.timeoutMs ?? 30_000);
    const inputJson = serialiseInput(input, this.options.maxInputBytes ?? 1024 * 1024);
    return { entry, runtime, mode, timeoutMs, inputJson, id: newId() };
  }

  /**
   * Resolves once the energy of every record pending now has settled (each has fired
   * `invocation:settled` and is in the results file). Never rejects; bounded by the settle
   * deadline (`energyDeadlineMs`), so a meter that stopped sampling cannot hold it up.
   */
  settled(): Promise<void> {
    return this.pending?.settled() ?? Promise.resolve();
  }

  /**
   * Resolves once the sandboxes of finished invocations are gone (a Docker container removed, ...),
   * or after `timeoutMs`: a benchmark calls it between measured invocations so that one's clean-up
   * does not share the machine with the next one's start. Resolves false when the deadline came first.
   * @param timeoutMs at most this long, ms. Default 30 000.
   */
  async cleanedUp(timeoutMs = 30_000): Promise<boolean> {
    if (this.cleanups.size === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
      timer.unref();
    });
    try {
      return await Promise.race([Promise.all([...this.cleanups]).then(() => true), deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Records whose energy is still pending. */
  get pendingEnergy(): number {
    return this.pending?.size ?? 0;
  }

  /**
   * Measures idle power for `durationMs` and subtracts it from every later record.
   * @throws NebulaError `METER_UNAVAILABLE` when no meter is attached or it cannot be read.
   */
  async measureBaseline(options: { durationMs?: number } = {}): Promise<Baseline> {
    this.assertOpen();
    checkKnownKeys(options, ['durationMs'], 'measureBaseline() options');
    if (!this.energy) throw noMeter();
    await this.energy.ready();
    return this.energy.measureBaseline(options.durationMs ?? 10_000);
  }

  /**
   * Starts the attached meter and waits for its first reading, so that a meter that cannot be
   * read fails before any work depends on it (an experiment checks this first).
   * @throws NebulaError `METER_UNAVAILABLE` naming why (no meter attached, it cannot start, no
   * reading in time), `METER_PROTOCOL` when it answers with something that is not a reading.
   */
  async checkMeter(): Promise<void> {
    this.assertOpen();
    if (!this.energy) throw noMeter();
    await this.energy.check();
  }

  /**
   * Mean power drawn over the next `durationMs`, without changing the baseline (e.g. with
   * sandboxes kept warm).
   * @throws NebulaError `METER_UNAVAILABLE` when no meter is attached or it cannot be read.
   */
  async measurePower(options: { durationMs?: number } = {}): Promise<Baseline> {
    this.assertOpen();
    checkKnownKeys(options, ['durationMs'], 'measurePower() options');
    if (!this.energy) throw noMeter();
    await this.energy.ready();
    return this.energy.measurePower(options.durationMs ?? 10_000);
  }

  /**
   * Energy per invocation of `n` invocations run back to back in [from, to] (epoch ms), for
   * functions shorter than the meter's interval. Waits for the meter to cover `to`.
   * @throws NebulaError `METER_UNAVAILABLE` when no meter is attached or the window has a gap.
   */
  async attributeBatch(from: number, to: number, n: number): Promise<BatchEnergy> {
    if (!this.energy) throw noMeter();
    return this.energy.batch(from, to, n);
  }

  /**
   * How the energy of a span divides up: the invocations' shares of the energy above the baseline
   * plus the unattributed part (the host, the container engine, other programs) add up to the
   * metered energy above the baseline (`balance` 1). First waits for the records pending now to
   * settle and for the meter to cover `to`. Invocations still running in the span count as
   * unattributed: ask for spans whose invocations have ended.
   * @param span epoch ms, `from` before `to`, inside the meter's history (10 minutes by default).
   * @throws NebulaError `INVALID_ARGUMENT` (a bad span), `METER_UNAVAILABLE` (no meter, or the span
   * is not covered by its samples).
   * @example
   * ```ts
   * const from = nowMs();
   * await Promise.all([nebula.invoke('fib', 30), nebula.invoke('prime', 20000)]);
   * const ledger = await nebula.energyLedger({ from, to: nowMs() });
   * ledger.sharesJ + ledger.unattributedJ; // = ledger.aboveBaselineJ
   * ```
   */
  async energyLedger(span: { from: number; to: number }): Promise<EnergyLedger> {
    const { from, to } = span ?? {};
    if (
      typeof from !== 'number' ||
      typeof to !== 'number' ||
      !Number.isFinite(from) ||
      !Number.isFinite(to) ||
      !(to > from)
    )
      throw new UsageError(
        'INVALID_ARGUMENT',
        `energyLedger() takes { from, to }, epoch ms with from before to, got ${JSON.stringify(span)}.`,
      );
    if (!this.energy || !this.pending) throw noMeter();
    await this.energy.until(to, Math.max(to, nowMs()) + this.energy.meter.intervalMs * 2 + 1000);
    await this.pending.settled();
    return this.pending.book.ledger(from, to);
  }

  /**
   * Releases everything: waits for running invocations, closes runtimes, lets pending energy
   * settle (at most until its deadline), settles what is left as `METER_OFF`, writes every
   * record, stops the meter, closes the results file. Images built for Docker functions are kept
   * (a later deploy of the same binary reuses them) unless `removeImages` is set.
   * @param options `removeImages`: also remove the images the runtimes built or loaded for this
   * instance's functions (`nebula-faas/<name>:<hash>`, a loaded archive's image, the warm-mode
   * supervisor's image and volume). `nebula clean` removes everything nebula-faas left instead.
   * @returns With options, what was removed (empty without `removeImages`); one still in use says why it stayed.
   */
  close(): Promise<void>;
  close(options: CloseOptions): Promise<Removal[]>;
  async close(options: CloseOptions = {}): Promise<Removal[] | void> {
    if (this.closed) return [];
    this.closed = true;
    await Promise.allSettled([...this.inflight.keys()]);
    const closed = await Promise.allSettled([
      ...[...this.registry.values()].map(releaseEntry),
      ...[...this.runtimes.values()].map((rt) => rt.close(options)),
      this.pending?.settled(),
    ]);
    this.pending?.flush('stopped');
    await this.energy?.stop().catch(() => undefined);
    this.log?.close();
    this.removeAllListeners();
    return closed.flatMap((c) => (c.status === 'fulfilled' && Array.isArray(c.value) ? c.value : []));
  }

  private register(spec: FunctionSpec): void {
    validateSpec(spec);
    this.registry.set(spec.name, { spec, prepared: {}, ready: {}, artifacts: {} });
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
      throw new UsageError(
        'FUNCTION_NOT_FOUND',
        `No function named "${String(name)}" is deployed (deployed: ${known}).`,
      );
    }
    return entry;
  }

  /** The prepared function for a runtime, prepared once; a failed preparation is retried next time. */
  private prepareEntry(entry: Entry, kind: RuntimeKind): Promise<Prepared> {
    let p = entry.prepared[kind];
    if (!p) {
      const promise = this.runtime(kind).prepare(entry.spec);
      p = promise;
      entry.prepared[kind] = promise;
      promise.then(
        (prepared) => {
          if (entry.prepared[kind] !== promise) return;
          entry.ready[kind] = prepared;
          entry.artifacts[kind] = { ...descriptorOf(kind).source.describe(entry.spec[kind]), ...prepared.info };
        },
        () => {
          if (entry.prepared[kind] === promise) delete entry.prepared[kind];
        },
      );
    }
    return p;
  }

  /** Runs once; a function prepared on first use waits here, and that wait is `prepareMs`, not start-up. */
  private async run(
    entry: Entry,
    kind: RuntimeKind,
    input: string,
    ctx: RunContext,
  ): Promise<{ outcome: RunOutcome; prepareMs: number }> {
    let prepared = entry.ready[kind];
    let waited = 0;
    if (!prepared) {
      const t = nowMs();
      try {
        prepared = await this.prepareEntry(entry, kind);
      } catch (e) {
        return { outcome: failedOutcome(e), prepareMs: nowMs() - t };
      }
      waited = nowMs() - t;
    }
    // The function's own time budget starts once set-up is done.
    const run: RunContext = waited > 0 ? { ...ctx, deadlineAt: ctx.deadlineAt + waited } : ctx;
    let outcome: RunOutcome;
    try {
      outcome = await prepared.run(input, run);
    } catch (e) {
      outcome = failedOutcome(e);
    }
    return { outcome, prepareMs: waited + (outcome.setupWaitMs ?? 0) };
  }

  /** Records whose energy settled: written to the results file in one write, then `invocation:settled` each. */
  private settle(records: InvocationRecord[]): void {
    this.persist(records);
    for (const r of records) this.safeEmit('invocation:settled', r);
  }

  /** Appends to the results file; a failed write is reported, never thrown: the records are kept all the same. */
  private persist(records: InvocationRecord[]): void {
    if (!this.log) return;
    try {
      this.log.appendMany(records);
    } catch (e) {
      const error = isNebulaError(e) ? e : new NebulaError('RESULTS_WRITE_FAILED', String(e), { cause: e });
      if (this.listenerCount('results:error') > 0) for (const r of records) this.safeEmit('results:error', error, r);
      else
        process.emitWarning(`nebula-faas: ${error.message}`, {
          type: 'NebulaWarning',
          code: 'NEBULA_RESULTS_WRITE_FAILED',
        });
    }
  }

  private async info(entry: Entry): Promise<FunctionInfo> {
    const s = entry.spec;
    const kinds = kindsOf(s);
    const info: FunctionInfo = { name: s.name, builtin: s.builtin === true, runtimes: kinds, artifacts: {} };
    if (s.description) info.description = s.description;
    for (const kind of kinds) {
      const described = descriptorOf(kind).source.describe(s[kind]);
      const prepared = entry.prepared[kind] ? await entry.prepared[kind].catch(() => undefined) : undefined;
      info.artifacts[kind] = { ...described, ...prepared?.info };
    }
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
    if (this.closed) throw new NebulaError('CLOSED', 'This Nebula instance is closed; create a new one.');
  }
}

function noMeter(): MeterError {
  return new MeterError('METER_UNAVAILABLE', 'No meter is attached: energy is off (meter: null).');
}

function unknownRuntime(kind: unknown): UsageError {
  return new UsageError(
    'INVALID_ARGUMENT',
    `Unknown runtime "${String(kind)}": use one of ${runtimeKinds().join(', ')}.`,
  );
}

/**
 * `options.runtimes`: runtime instances by kind, each with the `Runtime` methods and its own kind.
 * @throws UsageError `INVALID_ARGUMENT` naming what is wrong.
 */
function checkRuntimes(runtimes: unknown): Array<[RuntimeKind, Runtime]> {
  if (runtimes === undefined) return [];
  const kinds = runtimeKinds();
  const hint = `options.runtimes takes runtime instances by kind (${kinds.join(', ')}): one made with other options or for another engine; to choose the runtime of an invocation, pass { runtime: '${kinds[0]}' } to invoke().`;
  if (typeof runtimes !== 'object' || runtimes === null || Array.isArray(runtimes))
    throw new UsageError('INVALID_ARGUMENT', `${hint} Got ${Array.isArray(runtimes) ? 'an array' : typeof runtimes}.`);
  const out: Array<[RuntimeKind, Runtime]> = [];
  for (const [kind, rt] of Object.entries(runtimes)) {
    if (rt === undefined) continue;
    if (!isRuntimeKind(kind))
      throw new UsageError(
        'INVALID_ARGUMENT',
        `options.runtimes.${kind}: unknown runtime; known: ${runtimeKinds().join(', ')}.`,
      );
    const r = rt as Partial<Runtime> | null;
    if (typeof r !== 'object' || r === null || typeof r.prepare !== 'function' || typeof r.close !== 'function')
      throw new UsageError(
        'INVALID_ARGUMENT',
        `options.runtimes.${kind} is not a runtime (it needs prepare() and close()). ${hint}`,
      );
    if (r.kind !== kind)
      throw new UsageError(
        'INVALID_ARGUMENT',
        `options.runtimes.${kind} is a runtime of kind ${JSON.stringify(r.kind)}.`,
      );
    out.push([kind, rt as Runtime]);
  }
  return out;
}

/** The kinds whose artifact may be `{ binary }`, as their descriptors say (for a message). */
function binaryKinds(): RuntimeKind[] {
  return runtimeKinds().filter((kind) => {
    try {
      descriptorOf(kind).source.validate({ binary: '/bin/true' }, 'probe');
      return true;
    } catch {
      return false;
    }
  });
}

/** The runtimes a spec has an artifact for, in registry order. */
function kindsOf(spec: FunctionSpec): RuntimeKind[] {
  return runtimeKinds().filter((k) => spec[k] !== undefined);
}

async function releaseEntry(entry: Entry): Promise<void> {
  entry.ready = {};
  await Promise.allSettled(
    Object.values(entry.prepared).map(async (p) => {
      const prepared = await p;
      await prepared.release();
    }),
  );
}

function validateSpec(spec: FunctionSpec): void {
  if (typeof spec !== 'object' || spec === null)
    throw new UsageError(
      'INVALID_ARGUMENT',
      `deploy() takes { name, ${runtimeKinds()
        .map((k) => `${k}?`)
        .join(', ')} }.`,
    );
  if (typeof spec.name !== 'string' || !NAME.test(spec.name))
    throw new UsageError(
      'INVALID_ARGUMENT',
      `Invalid function name ${JSON.stringify(spec.name)}: use 1-63 lower-case letters, digits, "-" or "_", starting with a letter.`,
    );
  const where = `Function "${spec.name}"`;
  const hint = Object.hasOwn(spec, 'binary')
    ? {
        binary: `a static binary goes inside a runtime's artifact: ${binaryKinds()
          .map((k) => `{ ${k}: { binary: PATH } }`)
          .join(' or ')}`,
      }
    : undefined;
  checkKnownKeys(spec, [...SPEC_FIELDS, ...runtimeKinds()], where, hint);
  checkKnownKeys(spec.limits, LIMIT_KEYS, `${where}: limits`);
  checkKnownKeys(spec.grants, GRANT_KEYS, `${where}: grants`);
  const kinds = kindsOf(spec);
  if (kinds.length === 0)
    throw new UsageError(
      'INVALID_ARGUMENT',
      `Function "${spec.name}" needs an artifact for at least one runtime: ${runtimeKinds()
        .map((k) => `"${k}"`)
        .join(', ')}.`,
    );
  for (const kind of kinds) descriptorOf(kind).source.validate(spec[kind], spec.name);
  const bad = (what: string) => new UsageError('INVALID_ARGUMENT', `Function "${spec.name}": ${what}`);
  if (spec.preinit !== undefined && spec.preinit !== 'auto' && typeof spec.preinit !== 'boolean')
    throw bad(`preinit must be 'auto', true or false, got ${JSON.stringify(spec.preinit)}.`);
  if (spec.initFunc !== undefined && (typeof spec.initFunc !== 'string' || spec.initFunc === ''))
    throw bad(`initFunc must name an exported function, got ${JSON.stringify(spec.initFunc)}.`);
  if (spec.grants?.initWasi !== undefined && typeof spec.grants.initWasi !== 'boolean')
    throw bad(`grants.initWasi must be true or false, got ${JSON.stringify(spec.grants.initWasi)}.`);
  if ('checkInput' in spec && spec.checkInput !== undefined) {
    try {
      serialiseInput(spec.checkInput, CHECK_INPUT_MAX_BYTES);
    } catch (e) {
      throw bad(`checkInput: ${(e as Error).message}`);
    }
  }
}
