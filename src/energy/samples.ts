/**
 * The bounded history of one meter's samples and read errors, with the lookups attribution
 * needs: the samples around a window (binary search) and the errors inside it.
 */
import type { ErrorCode } from '../errors.js';
import type { PowerSample } from '../types.js';

/** Bounds of a {@link SampleHistory}. */
export interface SampleHistoryOptions {
  /** Sample history kept, ms. Default 10 minutes. */
  historyMs?: number;
  /** Samples kept at most. Default 200 000. */
  maxSamples?: number;
}

/** A read error of the meter, on nebula's clock. */
export interface MeterFault {
  t: number;
  code: ErrorCode;
  message: string;
}

export class SampleHistory {
  private samples: PowerSample[] = [];
  private faults: MeterFault[] = [];
  /** Time of the first sample since the meter (re)started; windows before it were never sampled. */
  firstT = Number.POSITIVE_INFINITY;

  constructor(private readonly options: SampleHistoryOptions = {}) {}

  /** Samples held, oldest first. */
  get all(): readonly PowerSample[] {
    return this.samples;
  }

  /** Time of the newest sample, or -Infinity. */
  get lastT(): number {
    return this.samples.length ? this.samples[this.samples.length - 1]!.t : Number.NEGATIVE_INFINITY;
  }

  /** Adds a sample; returns false for one out of order or not a number (dropped). */
  add(s: PowerSample): boolean {
    if (!Number.isFinite(s.t) || !Number.isFinite(s.powerW)) return false;
    const last = this.samples[this.samples.length - 1];
    if (last && s.t <= last.t) return false;
    this.samples.push(s);
    if (s.t < this.firstT) this.firstT = s.t;
    // Trimmed in steps (at 110% of the bounds), so adding stays O(1) amortised.
    const historyMs = this.options.historyMs ?? 600_000;
    const max = this.options.maxSamples ?? 200_000;
    const keepFrom = s.t - historyMs;
    if (this.samples.length > max * 1.1 || this.samples[0]!.t < keepFrom - historyMs * 0.1) {
      let drop = 0;
      while (drop < this.samples.length - 2 && (this.samples[drop]!.t < keepFrom || this.samples.length - drop > max))
        drop++;
      this.samples.splice(0, drop);
    }
    return true;
  }

  /** Records a read error (kept for the same time as samples, at most 1000). */
  fault(f: MeterFault): void {
    this.faults.push(f);
    if (this.faults.length > 1000) this.faults.splice(0, 500);
  }

  /** The meter (re)started: windows before its next sample were not sampled. */
  restarted(): void {
    this.firstT = Number.POSITIVE_INFINITY;
  }

  /** The newest read error within [from, to], if any. */
  faultIn(from: number, to: number): MeterFault | undefined {
    for (let i = this.faults.length - 1; i >= 0; i--) {
      const f = this.faults[i]!;
      if (f.t < from) return undefined;
      if (f.t <= to) return f;
    }
    return undefined;
  }

  /**
   * The samples inside [from, to] plus the one just before and the one just after it (so a gap
   * around the window shows as a gap), found by binary search: this runs per invocation.
   */
  around(from: number, to: number): PowerSample[] {
    return this.samples.slice(Math.max(0, this.firstAfter(from, true) - 1), this.firstAfter(to, false) + 1);
  }

  /** Index of the first sample with t >= `t` (or t > `t` when `strict`). */
  private firstAfter(t: number, strict: boolean): number {
    let lo = 0;
    let hi = this.samples.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const st = this.samples[mid]!.t;
      if (st < t || (strict && st === t)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
