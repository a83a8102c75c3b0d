/**
 * A function as a worker holds it: how to make a fresh instance, the instances made ahead for
 * `prewarmed` runs, the used instances kept for `warm` runs, and recycled memories.
 *
 * A fresh preview1 instance gets a memory from a small pool: a memory left by an earlier instance
 * of the same function, zeroed, at its initial size (memories that grew are dropped), so it sees
 * exactly what a newly mapped memory holds. A `warm` instance is an instance an earlier
 * invocation ran in, put back to the state it had right after instantiation: its memory copied
 * from a snapshot taken then, its mutable globals set back (only for modules whose rewrite says
 * nothing else can change; others are not kept).
 */
import { readFileSync } from 'node:fs';
import vm from 'node:vm';
import { HostContext, encodeGrants, type Grants, type OutputWriter } from '../host/context.js';
import { GROW_FAILED_EXPORT, MEMORY_IMPORT } from '../binary/module-rewrite.js';
import type { Host } from '../host/preview1.js';
import type { LoadMessage } from '../pool/protocol.js';
import { KeptCounts } from '../pool/shared-slots.js';

const PAGE = 65536;
/** Memories up to this size are zeroed and reused; zeroing larger ones costs more than mapping new ones. */
const POOL_MAX_BYTES = 1 << 20;
/** Recycled memories kept per function beyond its prewarmed and warm instances. */
const POOL_SPARE = 2;

/** Instances made in this thread so far. */
let instancesMade = 0;

/** One instance and the host state it runs on (a plain class: no closures, no side tables, little for the GC). */
export class Instance {
  /** Its number among the instances made in this thread (with the thread's id, it names the sandbox in records). */
  readonly serial = ++instancesMade;
  constructor(
    readonly ctx: HostContext,
    /** Runs the command: the preview1 `_start`, or the component's `wasi:cli/run`. */
    readonly start: () => void,
    /** The memory the host gave it (pooled), or null when the module defines its own. */
    readonly memory: WebAssembly.Memory | null,
    readonly exports: WebAssembly.Exports | null,
    /** Its state can be restored from the function's snapshot. */
    readonly restorable: boolean,
    /** For jco glue: the memory found in the component's core instances. */
    private readonly glueMemory: () => WebAssembly.Memory | null = () => null,
  ) {}

  /** A `memory.grow` was refused (the module's probe flag). */
  growFailed(): boolean {
    return (this.exports?.[GROW_FAILED_EXPORT] as WebAssembly.Global | undefined)?.value === 1;
  }

  memoryBytes(): number {
    return (this.ctx.memory ?? this.glueMemory())?.buffer.byteLength ?? 0;
  }
}

type Instantiate = (
  getCoreModule: (name: string) => WebAssembly.Module,
  imports: Record<string, unknown>,
  instantiateCore: (m: WebAssembly.Module, i: WebAssembly.Imports) => WebAssembly.Instance,
) => Record<string, { run: () => void }>;

/** jco glue scripts, evaluated once per path (synchronously: the worker never waits on its event loop). */
const glueScripts = new Map<string, Instantiate>();
function glueScript(path: string): Instantiate {
  let f = glueScripts.get(path);
  if (!f) {
    // The generated script is an ES module with no imports; its two exports become plain declarations.
    const text = readFileSync(path, 'utf8').replace(/^export (function|const) /gm, '$1 ');
    f = (
      vm.runInThisContext(`(function () {\n${text}\nreturn instantiate;\n})`, { filename: path }) as () => Instantiate
    )();
    glueScripts.set(path, f);
  }
  return f;
}

/** The state right after instantiation: memory contents and mutable globals by export name. */
interface Snapshot {
  memory: Uint8Array;
  globals: Array<[name: string, value: unknown]>;
}

/** Writers and bindings shared by every instance in the worker. */
export interface WorkerHost extends Host {
  preview1: Record<string, unknown>;
  preview2: Record<string, unknown>;
  stdout: OutputWriter;
  stderr: OutputWriter;
}

export class LoadedFunction {
  readonly grants: Grants;
  /** Why no instances are made ahead any more (an instantiation failed or hung in the background). */
  stockOff: string | null = null;
  /**
   * Set while a keeper holds the function: each worker's count of idle instances (kept and made
   * ahead), this worker's at `worker`. Held, nothing expires and nothing is made ahead unasked.
   */
  held: KeptCounts | null = null;
  /** Pre-warms asked of this worker and not made yet (their tokens). */
  readonly prewarms: number[] = [];
  private readonly stock: Instance[] = [];
  /** Used instances kept for `warm`; `clean` once restored. */
  private readonly kept: Array<{ instance: Instance; idleSince: number; clean: boolean }> = [];
  /** Zeroed memories at their initial size, and memories still to zero. */
  private readonly memories: WebAssembly.Memory[] = [];
  private readonly dirtyMemories: WebAssembly.Memory[] = [];
  private readonly initialBytes: number;
  private readonly memoryType: WebAssembly.MemoryDescriptor | null;
  private snapshot: Snapshot | null = null;

  constructor(
    readonly spec: LoadMessage,
    private readonly host: WorkerHost,
    private readonly worker: number,
  ) {
    this.grants = encodeGrants(spec.args, spec.env);
    if (spec.held) this.hold(spec.held);
    const f = spec.facts;
    this.initialBytes = (f?.initialPages ?? 0) * PAGE;
    this.memoryType = f?.pooledMemory ? { initial: f.initialPages, maximum: f.maximumPages } : null;
    if (spec.glue) glueScript(spec.glue.jsPath);
  }

  /**
   * A new instance (its start function, if any, runs here).
   * @throws whatever instantiation throws (a trap in the start function, no memory left).
   */
  instantiate(): Instance {
    const ctx = new HostContext(this.grants, this.host.stdout, this.host.stderr);
    this.host.ctx = ctx;
    if (this.spec.glue) return this.instantiateGlue(ctx);
    const memory = this.memoryType ? this.memory() : null;
    ctx.memory = memory;
    const imports: WebAssembly.Imports = { wasi_snapshot_preview1: this.host.preview1 as WebAssembly.ModuleImports };
    if (memory) imports[MEMORY_IMPORT.module] = { [MEMORY_IMPORT.name]: memory };
    const instance = new WebAssembly.Instance(this.spec.module!, imports);
    const exports = instance.exports;
    ctx.memory ??= exports.memory as WebAssembly.Memory;
    const restorable = this.spec.facts?.restorable === true && memory !== null;
    if (restorable && !this.snapshot) this.takeSnapshot(memory, exports);
    return new Instance(ctx, exports._start as () => void, memory, exports, restorable);
  }

  /** A zeroed memory at the initial size: pooled, zeroed now, or newly mapped. */
  private memory(): WebAssembly.Memory {
    const clean = this.memories.pop();
    if (clean) return clean;
    const dirty = this.dirtyMemories.pop();
    if (!dirty) return new WebAssembly.Memory(this.memoryType!);
    new Uint8Array(dirty.buffer).fill(0);
    return dirty;
  }

  private instantiateGlue(ctx: HostContext): Instance {
    let memory: WebAssembly.Memory | null = null;
    const modules = this.spec.glue!.modules;
    const component = glueScript(this.spec.glue!.jsPath)(
      (name) => modules[name]!,
      this.host.preview2,
      (m, i) => {
        const instance = new WebAssembly.Instance(m, i);
        for (const v of Object.values(instance.exports)) if (!memory && v instanceof WebAssembly.Memory) memory = v;
        return instance;
      },
    );
    const run = component.run ?? Object.entries(component).find(([k]) => k.startsWith('wasi:cli/run'))?.[1];
    if (!run) throw new Error('the component has no wasi:cli/run export');
    // `run` returns result<_, _>: jco's glue throws a ComponentError for its `err`, which is the
    // component's way to exit with a failure (WASI 0.2 carries no exit code): exit code 1.
    const start = () => {
      try {
        run.run();
      } catch (e) {
        if (typeof e === 'object' && e !== null && e.constructor?.name === 'ComponentError') ctx.exit(1);
        throw e;
      }
    };
    return new Instance(ctx, start, null, null, false, () => memory);
  }

  private takeSnapshot(memory: WebAssembly.Memory, exports: WebAssembly.Exports): void {
    const globals: Snapshot['globals'] = this.spec.facts!.mutableGlobals.map((name) => [
      name,
      (exports[name] as WebAssembly.Global).value,
    ]);
    globals.push([GROW_FAILED_EXPORT, 0]);
    this.snapshot = { memory: new Uint8Array(memory.buffer).slice(), globals };
  }

  /**
   * From now on held by a keeper, its idle instances counted in `counts`. The instances made ahead
   * for `prewarmed` runs go: held, an instance is made ahead only when the keeper asks.
   */
  hold(counts: SharedArrayBuffer): void {
    this.held = new KeptCounts(counts);
    for (const inst of this.stock.splice(0)) this.discard(inst);
    this.counted();
  }

  /** Writes this worker's idle instances into the keeper's counts (when held). */
  private counted(): void {
    this.held?.setIdle(this.worker, this.kept.length + this.stock.length);
  }

  /** An instance made ahead, never used. */
  takePrewarmed(): Instance | undefined {
    const inst = this.stock.pop();
    this.counted();
    return inst;
  }

  /** A kept instance an earlier invocation ran in, restored (now, if the worker had no idle moment since). */
  takeWarm(): Instance | undefined {
    const k = this.kept.pop();
    this.counted();
    if (!k || k.clean || this.restore(k.instance)) return k?.instance;
    this.discard(k.instance);
    return undefined;
  }

  /** After a run: keeps the instance for `warm` when asked and it can be restored, else lets it go. */
  release(inst: Instance, keep: boolean, now: number): void {
    if (keep && inst.restorable && this.kept.length < this.spec.warmMax) {
      this.kept.push({ instance: inst, idleSince: now, clean: false });
      this.counted();
    } else this.discard(inst);
  }

  /**
   * A keeper's discard, sent at `at` (epoch ms): drops the instances idle then (those made ahead,
   * those kept since a run that ended before it; an instance whose run was still going is kept);
   * returns the tokens of the pre-warms it cancels.
   */
  dropIdle(at: number): number[] {
    for (const inst of this.stock.splice(0)) this.discard(inst);
    for (let i = this.kept.length - 1; i >= 0; i--) {
      const k = this.kept[i]!;
      if (k.idleSince > at) continue;
      this.kept.splice(i, 1);
      this.discard(k.instance);
    }
    this.counted();
    return this.prewarms.splice(0);
  }

  private restore(inst: Instance): boolean {
    const snap = this.snapshot;
    if (!inst.memory || !snap || inst.memory.buffer.byteLength !== snap.memory.length) return false;
    new Uint8Array(inst.memory.buffer).set(snap.memory);
    for (const [name, value] of snap.globals) (inst.exports![name] as WebAssembly.Global).value = value;
    return true;
  }

  /** Drops an instance; its memory goes back to the pool (zeroed later) if it kept its initial size. */
  discard(inst: Instance): void {
    const memory = inst.memory;
    if (!memory || this.initialBytes > POOL_MAX_BYTES || memory.buffer.byteLength !== this.initialBytes) return;
    if (this.memories.length + this.dirtyMemories.length >= this.spec.prewarmed + this.spec.warmMax + POOL_SPARE)
      return;
    this.dirtyMemories.push(memory);
  }

  /** True when a kept instance waits to be restored or a memory to be zeroed. */
  untidy(): boolean {
    return this.dirtyMemories.length > 0 || this.kept.some((k) => !k.clean);
  }

  /** Restores one kept instance or zeroes one memory; false when there was nothing to do. */
  tidy(): boolean {
    const k = this.kept.find((x) => !x.clean);
    if (k) {
      if (this.restore(k.instance)) k.clean = true;
      else {
        this.kept.splice(this.kept.indexOf(k), 1);
        this.discard(k.instance);
        this.counted();
      }
      return true;
    }
    const m = this.dirtyMemories.pop();
    if (!m) return false;
    new Uint8Array(m.buffer).fill(0);
    this.memories.push(m);
    return true;
  }

  /** True when fewer instances are made ahead than asked (held: only a keeper's pre-warms are made). */
  wantsStock(): boolean {
    return this.stockOff === null && !this.held && this.stock.length < this.spec.prewarmed;
  }

  /** Instances made ahead and not used yet. */
  get stocked(): number {
    return this.stock.length;
  }

  /**
   * Maps one memory ahead for the pool and touches its pages (set-up, at load): the first use of a
   * new memory costs its page faults, ~100 us against ~6 us for a memory used before.
   */
  spareMemory(): void {
    if (!this.memoryType || this.initialBytes > POOL_MAX_BYTES || this.memories.length > 0) return;
    const m = new WebAssembly.Memory(this.memoryType);
    new Uint8Array(m.buffer).fill(0);
    this.memories.push(m);
  }

  /** Keeps an instance made ahead for a `prewarmed` run (or, held, the next `warm` one). */
  keepAhead(inst: Instance): void {
    this.stock.push(inst);
    this.counted();
  }

  /**
   * Drops kept instances idle since before `now - keepAliveMs` (none while held: the keeper decides);
   * returns when the next one expires (epoch ms), or Infinity.
   */
  expire(now: number): number {
    let next = Infinity;
    if (this.held) return next;
    for (let i = this.kept.length - 1; i >= 0; i--) {
      const k = this.kept[i]!;
      const due = k.idleSince + this.spec.keepAliveMs;
      if (due <= now) {
        this.kept.splice(i, 1);
        this.discard(k.instance);
      } else next = Math.min(next, due);
    }
    this.counted();
    return next;
  }

  /** Lets everything go (the function was dropped); returns the tokens of the pre-warms not made. */
  dispose(): number[] {
    this.stock.length = 0;
    this.kept.length = 0;
    this.counted();
    this.memories.length = 0;
    this.dirtyMemories.length = 0;
    return this.prewarms.splice(0);
  }
}
