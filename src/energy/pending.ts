/**
 * Records whose energy is pending. An invocation only pushes its record here; the records
 * settle in batches when a sample covering their end arrives and no invocation that overlapped
 * them is still running (their shares need its CPU time), when their deadline passes (the meter
 * stopped sampling), when the meter stops, or when the process exits. Each record settles
 * exactly once.
 */
import { nowMs } from '../clock.js';
import type { InvocationRecord } from '../types.js';
import { ShareBook } from './shares.js';
import type { Attribution, EnergyTracker, FinalCause } from './tracker.js';

/** Queues holding records, so the process's exit can still settle and write them. */
const live = new Set<PendingEnergy>();
let exitHooked = false;

function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  // 'exit' listeners run synchronously: the settled records are written with synchronous writes.
  process.on('exit', () => {
    for (const p of [...live]) p.flush('exit');
  });
}

interface Waiter {
  records: InvocationRecord[];
  resolve: () => void;
}

/** The pending records of one tracker. */
export class PendingEnergy {
  private queue: InvocationRecord[] = [];
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private waiters: Waiter[] = [];
  /** Every record that ended, for shares and ledgers. */
  readonly book: ShareBook;

  /**
   * @param deadlineMs how long after a function's end its energy may wait for the covering sample, ms.
   * @param onSettled receives each batch of records once their energy is settled (never throws back here).
   * @param runningSince epoch ms of the earliest `invoke()` still running (+Infinity when none): a
   *   record that ended after it waits for it, since its share depends on that invocation's CPU time.
   */
  constructor(
    private readonly tracker: EnergyTracker,
    readonly deadlineMs: number,
    private readonly onSettled: (records: InvocationRecord[]) => void,
    private readonly runningSince: () => number = () => Number.POSITIVE_INFINITY,
  ) {
    this.book = new ShareBook(tracker, tracker.options.historyMs);
    tracker.onSample = (t) => this.pass(t, 0);
    const before = tracker.onStartFailed;
    tracker.onStartFailed = (e) => {
      before?.(e);
      this.pass(Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY);
    };
    hookExit();
  }

  /** Records waiting for their energy. */
  get size(): number {
    return this.queue.length;
  }

  /** Queues a record (the hot path: an array push; a timer only when the queue was empty). */
  track(record: InvocationRecord): void {
    record.energyStatus = 'pending';
    if (this.tracker.failed || this.tracker.stopped) {
      this.settle([record], this.tracker.stopped ? 'stopped' : 'deadline');
      return;
    }
    this.queue.push(record);
    if (this.queue.length === 1) {
      live.add(this);
      this.arm(record.timing.functionEndAt + this.deadlineMs);
    }
  }

  /** Resolves once every record pending now has settled (bounded by their deadlines); never rejects. */
  settled(records: InvocationRecord[] = this.queue): Promise<void> {
    const waiting = records.filter((r) => r.energyStatus === 'pending');
    if (!waiting.length) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.waiters.push({ records: waiting, resolve });
      // Someone awaits: the deadline timer must keep the process alive until it fires.
      this.timer?.ref();
    });
  }

  /** Settles every queued record now, for good (the meter stopped, the process exits). */
  flush(cause: FinalCause): void {
    this.book.note(this.queue);
    this.settle(this.queue.splice(0), cause);
    this.afterPass();
  }

  /**
   * Settles the records covered by a sample at `lastT`, and decides those whose deadline is
   * at or before `now` (`+Infinity`: decide all, as after a failed start).
   */
  private pass(lastT: number, now: number): void {
    if (!this.queue.length) return;
    // Every queued record has ended: each counts in the others' shares from now on.
    this.book.note(this.queue);
    const running = this.runningSince();
    const covered: InvocationRecord[] = [];
    const expired: InvocationRecord[] = [];
    let keep = 0;
    for (const r of this.queue) {
      const end = r.timing.functionEndAt;
      if (end <= lastT && end <= running) covered.push(r);
      else if (end + this.deadlineMs <= now) expired.push(r);
      else this.queue[keep++] = r;
    }
    this.queue.length = keep;
    // A covered record whose window still cannot be decided (no sample at all yet) goes back.
    const back = this.settle(covered);
    for (const r of back) this.queue.push(r);
    this.settle(expired, 'deadline');
    this.afterPass();
  }

  /** Attributes and hands over a batch; returns the records that must keep waiting. */
  private settle(records: InvocationRecord[], final?: FinalCause): InvocationRecord[] {
    if (!records.length) return [];
    const done: InvocationRecord[] = [];
    const back: InvocationRecord[] = [];
    for (const r of records) {
      let a: Attribution | undefined;
      try {
        const t = r.timing;
        a = this.tracker.resolveWindow(t.requestAt + t.prepareMs, t.functionStartAt, t.functionEndAt, final);
      } catch (e) {
        a = {
          energy: null,
          note: {
            reason: 'METER_OUTAGE',
            message: `no energy figure: attribution failed: ${(e as Error)?.message ?? String(e)}`,
          },
        };
      }
      if (!a) {
        back.push(r);
        continue;
      }
      r.energy = a.energy;
      r.energyStatus = a.energy ? 'settled' : 'unavailable';
      if (a.note) r.energyNote = a.note;
      done.push(r);
    }
    try {
      this.book.share(done);
    } catch (e) {
      // The records keep their window figures (method 'window'); they are never lost for a share.
      for (const r of done)
        if (r.energy && r.energy.method === 'window' && !r.energy.shareNote)
          r.energy.shareNote = `no share: dividing the energy failed: ${(e as Error)?.message ?? String(e)}`;
    }
    if (done.length) {
      try {
        this.onSettled(done);
      } catch (e) {
        process.emitWarning(`nebula-faas: settling energy failed: ${(e as Error)?.message ?? String(e)}`);
      }
    }
    return back;
  }

  private afterPass(): void {
    if (this.waiters.length) {
      this.waiters = this.waiters.filter((w) => {
        w.records = w.records.filter((r) => r.energyStatus === 'pending');
        if (w.records.length) return true;
        w.resolve();
        return false;
      });
    }
    if (!this.queue.length) {
      live.delete(this);
      clearTimeout(this.timer);
      this.timer = undefined;
      this.timerAt = Number.POSITIVE_INFINITY;
      return;
    }
    if (!this.timer) {
      let next = Number.POSITIVE_INFINITY;
      for (const r of this.queue) next = Math.min(next, r.timing.functionEndAt + this.deadlineMs);
      this.arm(next);
    }
  }

  /** One timer for the earliest deadline; unref'd unless someone awaits `settled()`. */
  private arm(at: number): void {
    if (this.timer && this.timerAt <= at) return;
    clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.timerAt = Number.POSITIVE_INFINITY;
        this.pass(this.tracker.lastSampleT, nowMs());
      },
      Math.max(0, at - nowMs()) + 1,
    );
    if (!this.waiters.length) this.timer.unref();
  }
}
