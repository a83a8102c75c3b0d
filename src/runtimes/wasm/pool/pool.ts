/**
 * The pool of worker threads that run wasm instances off the host's event loop: their start and
 * restart (`worker-handle.ts`), the functions loaded into them, and the runs (`run-slots.ts`).
 * Making instances is bounded: a worker stuck instantiating (a start function that never returns)
 * is stopped by a watchdog, and the function is refused or no longer instantiated ahead. Workers
 * are unref'd: an idle pool never keeps the host alive.
 */
import { nowMs } from '../../../clock.js';
import type { FromWorker, LoadMessage } from './protocol.js';
import { RunSlots, type PoolResult } from './run-slots.js';
import { Busy, WorkerWord, offsetToMonotonic, SlotTable } from './shared-slots.js';
import { WorkerHandle } from './worker-handle.js';

export type { DoneSlot, PoolResult } from './run-slots.js';

export interface PoolOptions {
  size: number;
  maxOutputBytes: number;
  /** Longest a worker may take to make one instance outside a run, ms. */
  instantiateTimeoutMs: number;
  spinMs: number;
  /** How long the host polls for a short run's result before it sleeps, ms. */
  hostSpinMs: number;
  heapMiB: number;
}

export class WorkerPool {
  readonly table = new SlotTable();
  readonly handles: WorkerHandle[];
  closed = false;
  private readonly runs: RunSlots;
  private readonly loaded = new Map<number, LoadMessage>();
  /** Loads in progress: the workers still making their first instances, and how many have finished. */
  private readonly loading = new Map<
    number,
    { waiting: Set<number>; done: number; resolve: () => void; reject: (why: string, hung: boolean) => void }
  >();
  private readonly readyWaiters: Array<{ resolve: () => void; reject: (e: string) => void }> = [];
  private watchdog: NodeJS.Timeout | undefined;
  /** A ref'd timer while someone waits for a worker or a load (runs hold their own deadline timer). */
  private keepAlive: NodeJS.Timeout | undefined;

  constructor(private readonly options: PoolOptions) {
    this.table.clockOffset = offsetToMonotonic(nowMs);
    const events = {
      ready: (h: WorkerHandle) => this.onReady(h),
      message: (h: WorkerHandle, m: FromWorker) => this.onMessage(h, m),
      gone: (h: WorkerHandle, why: string, crashed: boolean) => this.onGone(h, why, crashed),
    };
    const handleOptions = {
      table: this.table,
      spinMs: options.spinMs,
      maxOutputBytes: options.maxOutputBytes,
      heapMiB: options.heapMiB,
    };
    this.handles = Array.from({ length: options.size }, (_, i) => new WorkerHandle(i, handleOptions, events));
    this.runs = new RunSlots(this.table, this.handles, () => this.armWatchdog(), options.hostSpinMs);
    for (const h of this.handles) h.spawn();
  }

  /** Resolves once a worker runs; rejects with the reason when none can start. */
  ready(): Promise<void> {
    if (this.handles.some((h) => h.state === 'ready')) return Promise.resolve();
    const why = this.unavailable();
    if (why) return Promise.reject(new Error(why));
    const waiting = new Promise<void>((resolve, reject) =>
      this.readyWaiters.push({ resolve, reject: (e) => reject(new Error(e)) }),
    );
    this.hold();
    return waiting;
  }

  /** Keeps the host alive while it waits for workers or loads, and only then. */
  private hold(): void {
    const waiting = this.readyWaiters.length > 0 || this.loading.size > 0;
    if (waiting && !this.keepAlive && !this.closed) this.keepAlive = setInterval(() => undefined, 1 << 30);
    else if (!waiting && this.keepAlive) {
      clearInterval(this.keepAlive);
      this.keepAlive = undefined;
    }
  }

  /** Why no worker can run now (every start failed and waits for its retry), or null. */
  unavailable(): string | null {
    if (this.closed) return 'the runtime was closed';
    if (this.handles.some((h) => h.state !== 'backoff')) return null;
    const h = this.handles[0]!;
    return `no wasm worker thread could start (${h.failures} attempt${h.failures === 1 ? '' : 's'}; retrying with back-off): ${h.lastError}`;
  }

  /**
   * Sends a function to every worker and resolves once every running worker has done its set-up
   * for it (first instances, instances ahead, pooled memory), so no run of it shares the CPU with
   * that work. Rejects with the instantiation error, or `hung` when making the instance passed its time.
   */
  load(msg: LoadMessage): Promise<void> {
    this.loaded.set(msg.fnId, msg);
    const waiting = new Set(this.handles.filter((h) => h.state === 'ready').map((h) => h.index));
    const done = new Promise<void>((resolve, reject) =>
      this.loading.set(msg.fnId, {
        waiting,
        done: 0,
        resolve,
        reject: (why, hung) => reject(Object.assign(new Error(why), { hung })),
      }),
    );
    for (const h of this.handles) h.post(msg);
    this.armWatchdog();
    this.hold();
    return done;
  }

  drop(fnId: number): void {
    this.loaded.delete(fnId);
    for (const h of this.handles) h.post({ type: 'drop', fnId });
  }

  /** Runs function `fnId` once in `mode` (0 cold, 1 prewarmed, 2 warm) with `input` on stdin. */
  run(fnId: number, mode: number, input: string, deadlineAt: number, signal?: AbortSignal): Promise<PoolResult> {
    const why = this.unavailable();
    if (why) {
      const at = nowMs();
      return Promise.resolve({ kind: 'unavailable', at, message: why, setupWaitMs: 0, dispatchAt: at });
    }
    return this.runs.run(fnId, mode, input, deadlineAt, signal, !this.handles.some((h) => h.state === 'ready'));
  }

  private onReady(h: WorkerHandle): void {
    this.runs.setupDone(h, nowMs());
    for (const msg of this.loaded.values()) h.post(msg);
    // A load nobody has finished yet (its workers went away) waits for this worker instead.
    for (const l of this.loading.values()) if (l.done === 0) l.waiting.add(h.index);
    h.post({ type: 'go' });
    for (const w of this.readyWaiters.splice(0)) w.resolve();
    this.hold();
  }

  private onMessage(h: WorkerHandle, m: FromWorker): void {
    if (m.type !== 'loaded') return;
    const pending = this.loading.get(m.fnId);
    if (!pending) return;
    // An error refuses the function unless another worker already made its instances (as before
    // a first answer decided); that worker then makes instances in its runs, which report failures.
    if (m.error === undefined || pending.done > 0) {
      pending.waiting.delete(h.index);
      pending.done++;
      this.loadSettled(m.fnId);
      return;
    }
    this.loading.delete(m.fnId);
    this.hold();
    pending.reject(m.error, false);
  }

  /** Resolves a load once some worker finished it and none is still at it. */
  private loadSettled(fnId: number): void {
    const pending = this.loading.get(fnId);
    if (!pending || pending.waiting.size > 0 || pending.done === 0) return;
    this.loading.delete(fnId);
    this.hold();
    pending.resolve();
  }

  private onGone(h: WorkerHandle, why: string, crashed: boolean): void {
    if (crashed) this.blame(h, why);
    this.runs.workerGone(h, why);
    for (const [fnId, l] of this.loading) if (l.waiting.delete(h.index)) this.loadSettled(fnId);
    if (!this.handles.some((x) => x.state === 'ready')) this.runs.setupStarted(nowMs());
    const unavailable = this.unavailable();
    if (!unavailable) return;
    for (const w of this.readyWaiters.splice(0)) w.reject(unavailable);
    for (const [fnId, l] of this.loading) {
      this.loading.delete(fnId);
      l.reject(unavailable, false);
    }
    this.hold();
    this.runs.endAll(unavailable, false);
  }

  /**
   * A worker died on its own while making an instance of a function outside a run (its load, an
   * instance made ahead): that function's fault, so the worker's replacement must not meet it
   * again. A deploy still waiting is refused; a deployed function is loaded from now on without
   * instances made ahead or a first instance (its runs make their own, and answer for them).
   * A death in a run is that run's failure (`RunSlots.workerGone`).
   */
  private blame(h: WorkerHandle, why: string): void {
    const { i32 } = this.table;
    if (Atomics.load(i32, this.table.worker(h.index, WorkerWord.BUSY)) !== Busy.INSTANTIATING) return;
    const fnId = Atomics.load(i32, this.table.worker(h.index, WorkerWord.BUSY_FN));
    const reason = `making an instance crashed the worker thread (${why})`;
    const pending = this.loading.get(fnId);
    if (pending) {
      this.loading.delete(fnId);
      this.loaded.delete(fnId);
      this.hold();
      pending.reject(reason, false);
      return;
    }
    const msg = this.loaded.get(fnId);
    if (!msg) return;
    msg.prewarmed = 0;
    msg.lazy = true;
    for (const x of this.handles) x.post({ type: 'stock-off', fnId, reason });
  }

  /** Checks, while there is work, that no worker is stuck making an instance. */
  private armWatchdog(): void {
    if (this.watchdog || this.closed) return;
    const every = Math.max(25, this.options.instantiateTimeoutMs / 4);
    this.watchdog = setInterval(() => this.checkInstantiations(), every);
    this.watchdog.unref();
  }

  private checkInstantiations(): void {
    const { i32, f64 } = this.table;
    let busy = this.runs.active > 0 || this.loading.size > 0;
    for (const h of this.handles) {
      if (h.state !== 'ready') continue;
      const kind = Atomics.load(i32, this.table.worker(h.index, WorkerWord.BUSY));
      if (kind !== Busy.IDLE) busy = true;
      if (
        kind !== Busy.INSTANTIATING ||
        nowMs() - f64[this.table.busySince(h.index)]! <= this.options.instantiateTimeoutMs
      )
        continue;
      const fnId = Atomics.load(i32, this.table.worker(h.index, WorkerWord.BUSY_FN));
      const why = `making an instance did not finish within ${this.options.instantiateTimeoutMs} ms (a start function that does not return?)`;
      h.terminate();
      const pending = this.loading.get(fnId);
      if (pending) {
        this.loading.delete(fnId);
        this.loaded.delete(fnId);
        this.hold();
        pending.reject(why, true);
      } else {
        const msg = this.loaded.get(fnId);
        if (msg) msg.prewarmed = 0;
        for (const x of this.handles) x.post({ type: 'stock-off', fnId, reason: why });
      }
    }
    if (!busy) {
      clearInterval(this.watchdog);
      this.watchdog = undefined;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.watchdog);
    clearInterval(this.keepAlive);
    this.runs.endAll('the runtime was closed', true);
    for (const w of this.readyWaiters.splice(0)) w.reject('the runtime was closed');
    for (const [, l] of this.loading) l.reject('the runtime was closed', false);
    this.loading.clear();
    await Promise.all(this.handles.map((h) => h.close()));
  }
}
