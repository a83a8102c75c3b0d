/**
 * The pool of worker threads that run wasm instances off the host's event loop: their start and
 * restart (`worker-handle.ts`), the functions loaded into them, and the runs (`run-slots.ts`).
 * Making instances is bounded: a worker stuck instantiating (a start function that never returns)
 * is stopped by a watchdog, and the function is refused or no longer instantiated ahead. Workers
 * are unref'd: an idle pool never keeps the host alive.
 */
import { nowMs } from '../../../clock.js';
import type { FromWorker, LoadMessage } from './protocol.js';
import { RunSlots, type Affinity, type PoolResult } from './run-slots.js';
import { Busy, KeptCounts, Mode, WorkerWord, offsetToMonotonic, SlotTable } from './shared-slots.js';
import { WorkerHandle } from './worker-handle.js';

export type { DoneSlot, PoolResult } from './run-slots.js';

/** Longest a keeper's discard waits for the workers' answers, ms (a worker out of a run answers within microseconds). */
const DISCARD_WAIT_MS = 5000;

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
  /** Functions a keeper holds, with what each worker keeps of them. */
  private readonly held = new Map<number, KeptCounts>();
  /** Pre-warms asked of a worker and not answered yet, by token. */
  private readonly prewarms = new Map<
    number,
    { fnId: number; worker: number; timer: NodeJS.Timeout; settle: (error?: string) => void }
  >();
  private nextToken = 1;
  /** Discards waiting for workers' answers, by token. */
  private readonly discards = new Map<number, { waiting: Set<number>; done: () => void }>();
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
      workers: options.size,
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
    this.held.delete(fnId);
    for (const [token, p] of this.prewarms) if (p.fnId === fnId) this.settlePrewarm(token);
    for (const h of this.handles) h.post({ type: 'drop', fnId });
  }

  /**
   * A keeper holds function `fnId` from now on: its idle instances stay until `discardIdle`, and
   * none is made ahead but by `prewarm`. A `warm` run of it goes to a worker keeping an idle
   * instance (an instance lives in the thread that made it), or, with none kept, to any worker.
   */
  keepIdle(fnId: number): void {
    const msg = this.loaded.get(fnId);
    if (!msg || this.held.has(fnId)) return;
    const counts = new KeptCounts();
    this.held.set(fnId, counts);
    msg.held = counts.sab;
    for (const h of this.handles) h.post({ type: 'hold', fnId, counts: counts.sab });
  }

  /** Idle instances of a held function, in the workers running now. */
  idleCount(fnId: number): number {
    const counts = this.held.get(fnId);
    if (!counts) return 0;
    return this.handles.reduce((n, h) => n + (h.state === 'ready' ? counts.idle(h.index) : 0), 0);
  }

  /**
   * Makes one instance of a held function ahead (holding it first), in the worker keeping the
   * fewest, in that worker's next idle moment; resolves once it is made, or a discard cancelled it.
   * @throws Error when it cannot be made (its reason), its worker went away, or `timeoutMs` passed.
   */
  prewarm(fnId: number, timeoutMs: number): Promise<void> {
    const why = this.unavailable();
    if (why) return Promise.reject(new Error(why));
    if (!this.loaded.has(fnId)) return Promise.reject(new Error('the function was undeployed'));
    this.keepIdle(fnId);
    const counts = this.held.get(fnId)!;
    const pending = (k: number) => [...this.prewarms.values()].filter((p) => p.worker === k).length;
    const ready = this.handles.filter((h) => h.state === 'ready');
    if (ready.length === 0) return Promise.reject(new Error('no wasm worker thread is running'));
    const load = (k: number) => counts.idle(k) + pending(k);
    const h = ready.reduce((a, b) => (load(b.index) < load(a.index) ? b : a));
    const token = this.nextToken++;
    return new Promise<void>((resolve, reject) => {
      // A ref'd timer: the host stays up while a pre-warm is on its way.
      const timer = setTimeout(
        () => this.settlePrewarm(token, `making the instance did not finish within ${timeoutMs} ms`),
        timeoutMs,
      );
      this.prewarms.set(token, {
        fnId,
        worker: h.index,
        timer,
        settle: (error) => (error === undefined ? resolve() : reject(new Error(error))),
      });
      h.post({ type: 'prewarm', fnId, token });
    });
  }

  private settlePrewarm(token: number, error?: string): void {
    const p = this.prewarms.get(token);
    if (!p) return;
    this.prewarms.delete(token);
    clearTimeout(p.timer);
    p.settle(error);
  }

  /**
   * Drops a held function's idle instances and its pre-warms not made yet: no run queued from now
   * on takes one (a worker reads the message before its next run). Resolves once every worker not
   * in the middle of a run has dropped them; one in a run drops its own when the run ends (the
   * instance of that run is not idle, and stays), and its count says so until then.
   */
  discardIdle(fnId: number): Promise<void> {
    if (!this.held.has(fnId)) return Promise.resolve();
    const token = this.nextToken++;
    const at = nowMs();
    const waiting = new Set<number>();
    for (const h of this.handles) {
      if (h.state !== 'ready') continue;
      h.post({ type: 'discard', fnId, at, token });
      // In a run: its result is not handed over yet (a worker that just handed one over answers at once).
      if (!this.runs.running(h.index)) waiting.add(h.index);
    }
    if (waiting.size === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      // A ref'd deadline: the host waits for the answers, never longer than this.
      const timer = setTimeout(() => {
        this.discards.delete(token);
        resolve();
      }, DISCARD_WAIT_MS);
      this.discards.set(token, {
        waiting,
        done: () => {
          clearTimeout(timer);
          this.discards.delete(token);
          resolve();
        },
      });
    });
  }

  /** Worker `k` answered discard `token` (or went away): the discard resolves once no worker it waits for is left. */
  private discarded(token: number, k: number): void {
    const d = this.discards.get(token);
    if (d && d.waiting.delete(k) && d.waiting.size === 0) d.done();
  }

  /** Runs function `fnId` once in `mode` (0 cold, 1 prewarmed, 2 warm) with `input` on stdin. */
  run(fnId: number, mode: number, input: string, deadlineAt: number, signal?: AbortSignal): Promise<PoolResult> {
    const why = this.unavailable();
    if (why) {
      const at = nowMs();
      return Promise.resolve({ kind: 'unavailable', at, message: why, setupWaitMs: 0, dispatchAt: at });
    }
    const affinity = mode === Mode.warm ? this.keeping(fnId) : undefined;
    return this.runs.run(
      fnId,
      mode,
      input,
      deadlineAt,
      signal,
      !this.handles.some((h) => h.state === 'ready'),
      affinity,
    );
  }

  /**
   * For a `warm` run of a held function: a running worker keeping an idle instance of it not
   * promised to a run already queued (an idle worker first, then the one keeping most), or none.
   */
  private keeping(fnId: number): Affinity | undefined {
    const counts = this.held.get(fnId);
    if (!counts) return undefined;
    let best: number | undefined;
    let bestFree = 0;
    let bestIdle = false;
    for (const h of this.handles) {
      if (h.state !== 'ready') continue;
      const free = counts.idle(h.index) - counts.promised(h.index);
      if (free <= 0) continue;
      const idle = Atomics.load(this.table.i32, this.table.worker(h.index, WorkerWord.BUSY)) === Busy.IDLE;
      if (best === undefined || (idle && !bestIdle) || (idle === bestIdle && free > bestFree)) {
        best = h.index;
        bestFree = free;
        bestIdle = idle;
      }
    }
    return best === undefined ? undefined : { worker: best, counts };
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
    if (m.type === 'prewarmed') return this.settlePrewarm(m.token, m.error);
    if (m.type === 'discarded') return this.discarded(m.token, h.index);
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
    // The instances it kept went with it; its replacement starts with none.
    for (const counts of this.held.values()) counts.setIdle(h.index, 0);
    for (const [token, p] of this.prewarms)
      if (p.worker === h.index) this.settlePrewarm(token, `the worker thread making the instance went away (${why})`);
    for (const token of [...this.discards.keys()]) this.discarded(token, h.index);
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
    for (const token of [...this.prewarms.keys()]) this.settlePrewarm(token, 'the runtime was closed');
    for (const d of [...this.discards.values()]) d.done();
    await Promise.all(this.handles.map((h) => h.close()));
  }
}
