/**
 * The memory the pool (main thread) and its workers share: a table of run slots and a few control
 * words per worker. A run is handed over by writing its slot and flipping its state word; a worker
 * claims it with one compare-and-swap, writes the result into the same slot and flips the state
 * again. Sleeping and waking use `Atomics.wait` / `notify` (workers) and `Atomics.waitAsync`
 * (main thread), so a hand-over costs no message, no structured clone and no event-loop turn
 * on the worker. Inputs and outputs up to {@link SLOT_DATA_BYTES} travel inside the slot; a
 * larger input goes into the slot's own large-input buffer (shared with the workers once, and
 * again only when a larger one replaces it), a larger output through the worker's message port.
 *
 * Ownership: the main thread writes a slot only while it is FREE (then QUEUED); a worker only after
 * claiming it (RUNNING + its index) until it sets DONE; the main thread frees it after reading it.
 */

export const MAX_WORKERS = 64;
/** Slots shared by all workers; after them, one scratch slot per worker for its start-up self-test. */
export const SLOT_COUNT = 64;
export const SLOT_DATA_BYTES = 64 * 1024;
const ALL_SLOTS = SLOT_COUNT + MAX_WORKERS;

/** Global control words (Int32 indices). */
export const GlobalWord = {
  /** Bumped by a worker each time it finishes a run; the main thread waits on it. */
  DONE_SEQ: 0,
  /** 1 while the main thread waits on DONE_SEQ (a worker notifies only then). */
  MAIN_WAITING: 1,
  /** Slots in state QUEUED (a hint for spinning workers). */
  QUEUED: 2,
  /** 1 + the index of the one worker allowed to poll for work before sleeping (0: none polls). */
  SPINNER: 3,
} as const;

/** Per-worker control words. */
export const WorkerWord = {
  /** The futex word a parked worker sleeps on. */
  WAKE: 0,
  /** 1 while the worker is parked (or about to be). */
  PARKED: 1,
  /** Bumped by the main thread after posting a control message to the worker. */
  CONTROL: 2,
  /** What the worker is doing: {@link Busy}. */
  BUSY: 3,
  /** The function it is instantiating (when BUSY is INSTANTIATING). */
  BUSY_FN: 4,
  /** Queued slots only this worker may take (their AFFINITY names it): the others do not wait for them. */
  AFFINE: 5,
} as const;

/** Per-slot words. */
export const SlotWord = {
  STATE: 0,
  TICKET: 1,
  FN: 2,
  MODE: 3,
  /** Input bytes in the slot, or -1: in the slot's large-input buffer (BIG_LEN bytes, buffer BIG_GEN). */
  INPUT_LEN: 4,
  RUN_ID: 5,
  RESULT: 6,
  EXIT_CODE: 7,
  STDOUT_LEN: 8,
  STDERR_LEN: 9,
  MESSAGE_LEN: 10,
  FLAGS: 11,
  MEMORY_PAGES: 12,
  /** The worker that ran it. */
  WORKER: 13,
  BIG_LEN: 14,
  /** Which large-input buffer of the slot holds the input (bumped each time the buffer is replaced by a larger one). */
  BIG_GEN: 15,
  /**
   * 0: any worker may take the run; k + 1: only worker k, which keeps the idle instance a `warm` run
   * of a held function is to take (a kept instance lives in one thread; see `pool.ts`, keepers).
   */
  AFFINITY: 16,
  /** The sandbox the run was in: the worker thread's id and the instance's number in that thread (0: none was made). */
  SANDBOX_THREAD: 17,
  SANDBOX_SERIAL: 18,
} as const;

/**
 * Per-slot times (Float64 indices): epoch ms on the main thread's clock, then durations in ms.
 * CPU_* is the worker thread's CPU time from claiming the run to its end (NaN: not read, or not split).
 */
export const SlotTime = {
  CLAIMED_AT: 0,
  START_AT: 1,
  END_AT: 2,
  INSTANTIATE_MS: 3,
  CPU_MS: 4,
  CPU_USER_MS: 5,
  CPU_SYSTEM_MS: 6,
} as const;
const SLOT_TIMES = 7;

export const State = { FREE: 0, QUEUED: 1, DONE: 2, RUNNING: 16 } as const;
export const Mode = { cold: 0, prewarmed: 1, warm: 2 } as const;
export const Result = { EXITED: 0, TRAPPED: 1, OUTPUT_LIMIT: 2, INSTANTIATE_FAILED: 3, UNKNOWN_FUNCTION: 4 } as const;
export const Flag = { STDOUT_CUT: 1, STDERR_CUT: 2, VIA_PORT: 4, GROW_FAILED: 8 } as const;
export const SANDBOX_SHIFT = 4;
export const Sandbox = ['fresh', 'prewarmed', 'reused'] as const;
export const Busy = { IDLE: 0, RUN: 1, INSTANTIATING: 2 } as const;

const WORKER_BASE = 8;
const WORKER_WORDS = 8;
const SLOT_BASE = WORKER_BASE + MAX_WORKERS * WORKER_WORDS;
const SLOT_WORDS = 19;
const INT_WORDS = SLOT_BASE + ALL_SLOTS * SLOT_WORDS;
/** Float64 area: one busy-since per worker, SLOT_TIMES per slot, then the clock offset. */
const F64_BASE = Math.ceil((INT_WORDS * 4) / 8);
const F64_WORKER = 0;
const F64_SLOT = MAX_WORKERS;
const F64_CLOCK = F64_SLOT + ALL_SLOTS * SLOT_TIMES;
const DATA_BASE = (F64_BASE + F64_CLOCK + 1) * 8;
const TOTAL = DATA_BASE + ALL_SLOTS * SLOT_DATA_BYTES;

/** Typed views of the shared memory, the same on both sides. */
export class SlotTable {
  readonly i32: Int32Array;
  readonly f64: Float64Array;
  readonly u8: Uint8Array;

  constructor(readonly sab: SharedArrayBuffer = new SharedArrayBuffer(TOTAL)) {
    this.i32 = new Int32Array(sab, 0, INT_WORDS);
    this.f64 = new Float64Array(sab, F64_BASE * 8, F64_CLOCK + 1);
    this.u8 = new Uint8Array(sab);
  }

  worker(k: number, field: number): number {
    return WORKER_BASE + k * WORKER_WORDS + field;
  }

  slot(s: number, field: number): number {
    return SLOT_BASE + s * SLOT_WORDS + field;
  }

  time(s: number, field: number): number {
    return F64_SLOT + s * SLOT_TIMES + field;
  }

  /**
   * Queued runs worker `me` may take: those queued less those only another worker may take. A
   * moment's overcount (a counter not yet lowered) makes a worker look once more, never sleep
   * past a run: writers raise QUEUED before AFFINE and lower AFFINE before QUEUED.
   */
  claimable(me: number, workers: number): number {
    let n = Atomics.load(this.i32, GlobalWord.QUEUED);
    for (let k = 0; k < workers && n > 0; k++)
      if (k !== me) n -= Atomics.load(this.i32, this.worker(k, WorkerWord.AFFINE));
    return n;
  }

  busySince(k: number): number {
    return F64_WORKER + k;
  }

  /** Worker k's own slot, used only by its self-test. */
  scratch(k: number): number {
    return SLOT_COUNT + k;
  }

  /** Byte offset of a slot's data area in `u8`. */
  data(s: number): number {
    return DATA_BASE + s * SLOT_DATA_BYTES;
  }

  /** Epoch ms minus monotonic ms on the main thread, so workers report times on its clock. */
  get clockOffset(): number {
    return this.f64[F64_CLOCK]!;
  }

  set clockOffset(v: number) {
    this.f64[F64_CLOCK] = v;
  }
}

/** Monotonic ms (the same clock in every thread of the process). */
function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/**
 * `clock() - monotonicMs()`, from the reading pair with the shortest gap of 25: a thread
 * descheduled between two readings (tens of ms on a loaded machine) would otherwise skew every
 * time reported afterwards.
 */
export function offsetToMonotonic(clock: () => number): number {
  let best = Infinity;
  let offset = 0;
  for (let i = 0; i < 25; i++) {
    const a = clock();
    const m = monotonicMs();
    const b = clock();
    if (b - a < best) {
      best = b - a;
      offset = (a + b) / 2 - m;
    }
  }
  return offset;
}

/**
 * What a held function's workers keep, shared by the pool and its workers (one per held function):
 * each worker's idle instances (written by that worker), and the `warm` runs queued for it that
 * are to take one of them (raised by the pool when it queues such a run, lowered by the worker
 * that takes it, or by the pool when the run leaves the queue otherwise).
 */
export class KeptCounts {
  readonly i32: Int32Array;
  constructor(readonly sab: SharedArrayBuffer = new SharedArrayBuffer(2 * MAX_WORKERS * 4)) {
    this.i32 = new Int32Array(sab);
  }

  idle(k: number): number {
    return Atomics.load(this.i32, k);
  }

  setIdle(k: number, n: number): void {
    Atomics.store(this.i32, k, n);
  }

  promised(k: number): number {
    return Atomics.load(this.i32, MAX_WORKERS + k);
  }

  promise(k: number, delta: 1 | -1): void {
    Atomics.add(this.i32, MAX_WORKERS + k, delta);
  }
}
