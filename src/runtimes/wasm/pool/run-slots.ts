/**
 * Runs in the shared slot table (`shared-slots.ts`), as the main thread sees them: a run is
 * written into a free slot (or waits for one), a sleeping worker is woken, and the result is read
 * back from the same slot once the worker says it is done. A run still queued at its deadline or
 * abort is taken off the queue; only a run that is running has its worker stopped.
 */
import { nowMs } from '../../../clock.js';
import {
  GlobalWord,
  SlotWord,
  SLOT_COUNT,
  SLOT_DATA_BYTES,
  State,
  SlotTime,
  WorkerWord,
  type KeptCounts,
  type SlotTable,
} from './shared-slots.js';
import type { WorkerHandle } from './worker-handle.js';

/** How a run ended, as the pool sees it. Times are epoch ms on nebula's clock. */
export type PoolResult = { setupWaitMs: number; dispatchAt: number } & (
  | { kind: 'done'; slot: DoneSlot }
  /** `startAt`: when the stopped function had started (0 when it had not). */
  | { kind: 'timeout' | 'aborted'; at: number; started: boolean; startAt: number }
  | { kind: 'crashed' | 'unavailable'; at: number; message: string }
);

/** A finished run as read from its slot. */
export interface DoneSlot {
  result: number;
  exitCode: number;
  flags: number;
  memoryBytes: number;
  stdout: string;
  stderr: string;
  message: string;
  claimedAt: number;
  startAt: number;
  endAt: number;
  instantiateMs: number;
  /** The worker thread's CPU time from claiming the run to its end, ms (NaN: not read; user and system NaN: not split). */
  cpuMs: number;
  cpuUserMs: number;
  cpuSystemMs: number;
  /** The sandbox it ran in, `thread.instance` (undefined: no instance was made). */
  sandboxId: string | undefined;
}

/** A `warm` run of a held function sent to the worker that keeps an idle instance of it. */
export interface Affinity {
  worker: number;
  counts: KeptCounts;
}

export interface Run {
  id: number;
  fnId: number;
  mode: number;
  /** Only this worker may take it, while it is queued. */
  affinity: Affinity | undefined;
  input: string;
  slot: number;
  dispatchAt: number;
  /** Set while the run waits for a worker to start (set-up, not start-up). */
  setupFrom: number;
  setupWaitMs: number;
  timer: NodeJS.Timeout;
  signal: AbortSignal | undefined;
  onAbort: () => void;
  resolve: (r: PoolResult) => void;
}

const decoder = new TextDecoder();
/** `Atomics.waitAsync` (V8 since Node 16; not yet in this TypeScript lib). */
const waitAsync = (
  Atomics as unknown as {
    waitAsync(
      a: Int32Array,
      i: number,
      v: number,
    ): { async: false; value: string } | { async: true; value: Promise<string> };
  }
).waitAsync.bind(Atomics);

export class RunSlots {
  /** Runs in a slot (not those stopped while running: their slot waits for the worker to go). */
  active = 0;
  private readonly buf: Buffer;
  private readonly slots = new Array<Run | undefined>(SLOT_COUNT);
  private readonly free: number[] = [];
  private readonly overflow: Run[] = [];
  /** Each slot's large-input buffer and its generation (shared with the workers when made). */
  private readonly bigInputs = new Array<{ buffer: SharedArrayBuffer; generation: number } | undefined>(SLOT_COUNT);
  private nextRun = 1;
  private ticket = 0;
  private watching = false;
  /** Moving average of recent runs, from a worker taking one to its end, ms. */
  private recentRunMs = 0;

  constructor(
    private readonly table: SlotTable,
    private readonly handles: WorkerHandle[],
    private readonly onPlaced: () => void,
    private readonly spinMs: number,
  ) {
    this.buf = Buffer.from(table.sab);
    for (let s = SLOT_COUNT - 1; s >= 0; s--) this.free.push(s);
  }

  /** Queues a run; resolves when it ends, whichever way. */
  run(
    fnId: number,
    mode: number,
    input: string,
    deadlineAt: number,
    signal: AbortSignal | undefined,
    waitingForSetup: boolean,
    affinity?: Affinity,
  ): Promise<PoolResult> {
    return new Promise<PoolResult>((resolve) => {
      const dispatchAt = nowMs();
      if (signal?.aborted)
        return resolve({ kind: 'aborted', at: dispatchAt, started: false, startAt: 0, setupWaitMs: 0, dispatchAt });
      affinity?.counts.promise(affinity.worker, 1);
      const run: Run = {
        id: this.nextRun++,
        fnId,
        mode,
        affinity,
        input,
        slot: -1,
        dispatchAt,
        setupFrom: waitingForSetup ? dispatchAt : 0,
        setupWaitMs: 0,
        signal,
        resolve,
        timer: undefined as unknown as NodeJS.Timeout,
        onAbort: () => this.stop(run, 'aborted'),
      };
      run.timer = setTimeout(() => this.stop(run, 'timeout'), Math.max(0, deadlineAt - dispatchAt));
      signal?.addEventListener('abort', run.onAbort, { once: true });
      const s = this.free.pop();
      if (s === undefined) this.overflow.push(run);
      else this.place(run, s);
    });
  }

  private place(run: Run, s: number): void {
    const { i32 } = this.table;
    run.slot = s;
    this.slots[s] = run;
    this.active++;
    const base = this.table.data(s);
    const size = run.input.length * 3 <= SLOT_DATA_BYTES ? -1 : Buffer.byteLength(run.input);
    if (size <= SLOT_DATA_BYTES)
      i32[this.table.slot(s, SlotWord.INPUT_LEN)] =
        run.input.length === 0 ? 0 : this.buf.write(run.input, base, 'utf8');
    else {
      // Too large for the slot: into the slot's large-input buffer, made (or replaced by a larger one) and shared only when needed.
      let big = this.bigInputs[s];
      if (!big || big.buffer.byteLength < size) {
        big = this.bigInputs[s] = {
          buffer: new SharedArrayBuffer(Math.max(size, 2 * (big?.buffer.byteLength ?? 0))),
          generation: (big?.generation ?? 0) + 1,
        };
        for (const h of this.handles)
          h.post({ type: 'input-buffer', slot: s, generation: big.generation, buffer: big.buffer });
      }
      i32[this.table.slot(s, SlotWord.INPUT_LEN)] = -1;
      i32[this.table.slot(s, SlotWord.BIG_LEN)] = Buffer.from(big.buffer).write(run.input, 'utf8');
      i32[this.table.slot(s, SlotWord.BIG_GEN)] = big.generation;
    }
    i32[this.table.slot(s, SlotWord.FN)] = run.fnId;
    i32[this.table.slot(s, SlotWord.MODE)] = run.mode;
    i32[this.table.slot(s, SlotWord.RUN_ID)] = run.id;
    i32[this.table.slot(s, SlotWord.TICKET)] = this.ticket = (this.ticket + 1) | 0;
    const only = run.affinity ? this.handles[run.affinity.worker] : undefined;
    Atomics.store(i32, this.table.slot(s, SlotWord.AFFINITY), only ? only.index + 1 : 0);
    this.table.f64[this.table.time(s, SlotTime.START_AT)] = 0;
    Atomics.store(i32, this.table.slot(s, SlotWord.STATE), State.QUEUED);
    const queued = Atomics.add(i32, GlobalWord.QUEUED, 1) + 1;
    if (only) {
      Atomics.add(i32, this.table.worker(only.index, WorkerWord.AFFINE), 1);
      only.wake();
    } else {
      // Workers awake and idle (polling) take queued runs without a wake-up (a futex call costs the
      // host several microseconds): wake a sleeping one only for runs beyond them.
      let awake = 0;
      const now = nowMs();
      for (const h of this.handles) if (h.idleAwake(now)) awake++;
      if (queued > awake) for (const h of this.handles) if (h.wake()) break;
    }
    if (!this.watching) void this.watch();
    this.onPlaced();
  }

  /**
   * Reads finished slots until no run is left in a slot. In between it sleeps on DONE_SEQ; when
   * recent runs were short, it first polls for up to `spinMs`, and only once the host has
   * nothing else to do (a `setImmediate`), so a back-to-back caller does not pay for waking the
   * event loop while no other work of the host is held up by more than that.
   */
  private async watch(): Promise<void> {
    if (this.watching) return;
    this.watching = true;
    const { i32 } = this.table;
    try {
      while (this.active > 0) {
        const seen = Atomics.load(i32, GlobalWord.DONE_SEQ);
        for (let s = 0; s < SLOT_COUNT; s++)
          if (this.slots[s] && Atomics.load(i32, this.table.slot(s, SlotWord.STATE)) === State.DONE) this.finish(s);
        if (this.active === 0) break;
        if (this.spinMs > 0 && this.recentRunMs < this.spinMs) {
          await new Promise((r) => setImmediate(r));
          const until = performance.now() + this.spinMs;
          while (Atomics.load(i32, GlobalWord.DONE_SEQ) === seen && this.active > 0 && performance.now() < until);
          if (Atomics.load(i32, GlobalWord.DONE_SEQ) !== seen) continue;
        }
        Atomics.store(i32, GlobalWord.MAIN_WAITING, 1);
        const wait = waitAsync(i32, GlobalWord.DONE_SEQ, seen);
        if (wait.async) await wait.value;
        Atomics.store(i32, GlobalWord.MAIN_WAITING, 0);
      }
    } finally {
      this.watching = false;
    }
  }

  private finish(s: number): void {
    const run = this.slots[s]!;
    const { i32, f64 } = this.table;
    const word = (f: number) => i32[this.table.slot(s, f)]!;
    const outLen = word(SlotWord.STDOUT_LEN);
    const errLen = word(SlotWord.STDERR_LEN);
    const msgLen = word(SlotWord.MESSAGE_LEN);
    const base = this.table.data(s);
    const slot: DoneSlot = {
      result: word(SlotWord.RESULT),
      exitCode: word(SlotWord.EXIT_CODE),
      flags: word(SlotWord.FLAGS),
      memoryBytes: word(SlotWord.MEMORY_PAGES) * 65536,
      stdout: '',
      stderr: '',
      message: '',
      claimedAt: f64[this.table.time(s, SlotTime.CLAIMED_AT)]!,
      startAt: f64[this.table.time(s, SlotTime.START_AT)]!,
      endAt: f64[this.table.time(s, SlotTime.END_AT)]!,
      instantiateMs: f64[this.table.time(s, SlotTime.INSTANTIATE_MS)]!,
      cpuMs: f64[this.table.time(s, SlotTime.CPU_MS)]!,
      cpuUserMs: f64[this.table.time(s, SlotTime.CPU_USER_MS)]!,
      cpuSystemMs: f64[this.table.time(s, SlotTime.CPU_SYSTEM_MS)]!,
      sandboxId: word(SlotWord.SANDBOX_SERIAL)
        ? `${word(SlotWord.SANDBOX_THREAD)}.${word(SlotWord.SANDBOX_SERIAL)}`
        : undefined,
    };
    if (slot.flags & 4) {
      const out = this.handles[word(SlotWord.WORKER)]?.takeOutput(run.id);
      slot.stdout = out ? decoder.decode(out.stdout) : '';
      slot.stderr = out ? decoder.decode(out.stderr) : '';
      slot.message = out?.message ?? '';
    } else {
      if (outLen) slot.stdout = this.buf.toString('utf8', base, base + outLen);
      if (errLen) slot.stderr = this.buf.toString('utf8', base + outLen, base + outLen + errLen);
      if (msgLen) slot.message = this.buf.toString('utf8', base + outLen + errLen, base + outLen + errLen + msgLen);
    }
    this.recentRunMs += (slot.endAt - slot.claimedAt - this.recentRunMs) / 8;
    this.release(s);
    this.settle(run, { kind: 'done', slot, setupWaitMs: run.setupWaitMs, dispatchAt: run.dispatchAt });
  }

  /** Frees the slot of a run that is over. */
  private release(s: number): void {
    this.slots[s] = undefined;
    this.active--;
    this.reuse(s);
  }

  /** Gives slot `s` to the next run waiting for one. */
  reuse(s: number): void {
    Atomics.store(this.table.i32, this.table.slot(s, SlotWord.STATE), State.FREE);
    const next = this.overflow.shift();
    if (next) this.place(next, s);
    else this.free.push(s);
  }

  /** True while worker `k` runs a run whose result it has not handed over. */
  running(k: number): boolean {
    for (let s = 0; s < SLOT_COUNT; s++)
      if (Atomics.load(this.table.i32, this.table.slot(s, SlotWord.STATE)) === State.RUNNING + k) return true;
    return false;
  }

  /** Takes a queued run off its slot; false when a worker claimed it first. */
  private unqueue(s: number): boolean {
    const { i32 } = this.table;
    if (Atomics.compareExchange(i32, this.table.slot(s, SlotWord.STATE), State.QUEUED, State.FREE) !== State.QUEUED)
      return false;
    this.unpin(s);
    Atomics.sub(i32, GlobalWord.QUEUED, 1);
    this.release(s);
    return true;
  }

  /**
   * A queued run in slot `s` no longer waits for one worker (it left the queue, or its worker is
   * gone): the worker's count of runs only it may take, and the instances promised, are lowered.
   */
  private unpin(s: number): void {
    const { i32 } = this.table;
    const affinity = Atomics.exchange(i32, this.table.slot(s, SlotWord.AFFINITY), 0);
    if (affinity === 0) return;
    Atomics.sub(i32, this.table.worker(affinity - 1, WorkerWord.AFFINE), 1);
    const run = this.slots[s];
    run?.affinity?.counts.promise(affinity - 1, -1);
  }

  private settle(run: Run, r: PoolResult): void {
    clearTimeout(run.timer);
    run.signal?.removeEventListener('abort', run.onAbort);
    run.resolve(r);
  }

  /** A run's deadline passed or its signal fired: off the queue if queued, its worker stopped if running. */
  private stop(run: Run, kind: 'timeout' | 'aborted'): void {
    const at = nowMs();
    const base = {
      at,
      setupWaitMs: run.setupWaitMs + (run.setupFrom ? at - run.setupFrom : 0),
      dispatchAt: run.dispatchAt,
    };
    if (run.slot < 0) {
      const i = this.overflow.indexOf(run);
      if (i < 0) return;
      this.overflow.splice(i, 1);
      return this.settle(run, { kind, started: false, startAt: 0, ...base });
    }
    const s = run.slot;
    if (this.slots[s] !== run) return;
    if (this.unqueue(s)) return this.settle(run, { kind, started: false, startAt: 0, ...base });
    const state = Atomics.load(this.table.i32, this.table.slot(s, SlotWord.STATE));
    if (state === State.DONE) return this.finish(s);
    const h = this.handles[state - State.RUNNING];
    this.slots[s] = undefined;
    this.active--;
    h?.zombies.push(s);
    h?.terminate();
    this.settle(run, { kind, started: true, startAt: this.table.f64[this.table.time(s, SlotTime.START_AT)]!, ...base });
  }

  /** No worker runs: every run from now on waits for set-up. */
  setupStarted(at: number): void {
    for (const run of [...this.slots, ...this.overflow]) if (run && !run.setupFrom) run.setupFrom = at;
  }

  /** A worker is ready: waiting runs stop counting set-up, and it gets the slots' large-input buffers. */
  setupDone(h: WorkerHandle, at: number): void {
    for (const run of [...this.slots, ...this.overflow]) {
      if (run?.setupFrom) {
        run.setupWaitMs += at - run.setupFrom;
        run.setupFrom = 0;
      }
    }
    this.bigInputs.forEach(
      (big, slot) => big && h.post({ type: 'input-buffer', slot, generation: big.generation, buffer: big.buffer }),
    );
  }

  /**
   * Worker `h` is gone: its stopped runs' slots are free again, the run it was in the middle of
   * crashed, and runs queued for the instances it kept may go to any worker (as cold starts).
   */
  workerGone(h: WorkerHandle, why: string): void {
    const { i32 } = this.table;
    for (const s of h.zombies.splice(0)) this.reuse(s);
    let freed = false;
    for (let s = 0; s < SLOT_COUNT; s++) {
      if (
        Atomics.load(i32, this.table.slot(s, SlotWord.STATE)) === State.QUEUED &&
        Atomics.load(i32, this.table.slot(s, SlotWord.AFFINITY)) === h.index + 1
      ) {
        this.unpin(s);
        freed = true;
      }
    }
    Atomics.store(i32, this.table.worker(h.index, WorkerWord.AFFINE), 0);
    if (freed) for (const other of this.handles) other.wake();
    for (let s = 0; s < SLOT_COUNT; s++) {
      const run = this.slots[s];
      if (run && Atomics.load(i32, this.table.slot(s, SlotWord.STATE)) === State.RUNNING + h.index) {
        this.release(s);
        this.settle(run, {
          kind: 'crashed',
          at: nowMs(),
          message: why,
          setupWaitMs: run.setupWaitMs,
          dispatchAt: run.dispatchAt,
        });
      }
    }
  }

  /** Ends every run not yet running (or every run: on close) as unavailable, with the reason. */
  endAll(message: string, running: boolean): void {
    const ended = (run: Run) =>
      this.settle(run, {
        kind: 'unavailable',
        at: nowMs(),
        message,
        setupWaitMs: run.setupWaitMs,
        dispatchAt: run.dispatchAt,
      });
    for (const run of this.overflow.splice(0)) ended(run);
    for (let s = 0; s < SLOT_COUNT; s++) {
      const run = this.slots[s];
      if (!run) continue;
      if (this.unqueue(s)) ended(run);
      else if (Atomics.load(this.table.i32, this.table.slot(s, SlotWord.STATE)) === State.DONE) this.finish(s);
      else if (running) {
        this.slots[s] = undefined;
        this.active--;
        ended(run);
      }
    }
  }
}
