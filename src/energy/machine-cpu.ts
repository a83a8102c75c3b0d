/**
 * The CPU time the machine has used, read beside every meter sample, so the power above idle in
 * any span can be divided by the CPU time spent in it: the invocations' (each sandbox's own, from
 * its record) and the rest (the host process, the container engine, other programs).
 */
import { readFileSync } from 'node:fs';
import { hierarchies } from '../cgroup-mounts.js';
import { nowMs } from '../clock.js';
import { cpuTimes } from '../meters/cpu-load.js';

/**
 * This host's CPU time, ms, cumulative: the root cgroup's `cpuacct.usage` (nanoseconds, the
 * same count the sandboxes' figures come from) where cgroup v1 is mounted, else the busy time of
 * `/proc/stat` (scheduler ticks) through `os.cpus()`.
 */
export function hostCpuMs(): () => number {
  const cpuacct = hierarchies().v1.get('cpuacct');
  if (cpuacct) {
    const file = `${cpuacct}/cpuacct.usage`;
    try {
      const first = Number(readFileSync(file, 'latin1'));
      if (Number.isFinite(first) && first > 0) return () => Number(readFileSync(file, 'latin1')) / 1e6;
    } catch {
      // Not readable here: the ticks below.
    }
  }
  return () => cpuTimes().busy;
}

/** Options of {@link CpuHistory}. */
export interface CpuHistoryOptions {
  /** Readings kept, ms. Default 10 minutes. */
  historyMs?: number;
}

/** Readings of a cumulative CPU-time counter (ms) at the times they were taken (epoch ms). */
export class CpuHistory {
  private readonly at: number[] = [];
  private readonly ms: number[] = [];
  /** Why the last reading failed, until one succeeds. */
  error: string | undefined;

  constructor(
    private readonly read: () => number,
    private readonly options: CpuHistoryOptions = {},
  ) {}

  /** Takes a reading now; a counter that fails, is not a number or went backwards is remembered as the error. */
  take(t = nowMs()): void {
    let v: number;
    try {
      v = this.read();
    } catch (e) {
      this.error = `the machine's CPU time could not be read: ${(e as Error)?.message ?? String(e)}`;
      return;
    }
    const last = this.ms[this.ms.length - 1];
    if (!Number.isFinite(v) || (last !== undefined && v < last)) {
      this.error = `the machine's CPU time counter gave ${String(v)}${last !== undefined ? ` after ${last}` : ''}`;
      return;
    }
    if (this.at.length && t <= this.at[this.at.length - 1]!) return;
    this.error = undefined;
    this.at.push(t);
    this.ms.push(v);
    const keepFrom = t - (this.options.historyMs ?? 600_000);
    if (this.at[0]! < keepFrom - 60_000) {
      let drop = 0;
      while (drop < this.at.length - 2 && this.at[drop]! < keepFrom) drop++;
      this.at.splice(0, drop);
      this.ms.splice(0, drop);
    }
  }

  /** Readings held. */
  get size(): number {
    return this.at.length;
  }

  /**
   * CPU time used in [from, to], ms, the counter taken as rising at an even rate between readings;
   * beyond the first or last reading it is taken as flat. NaN with fewer than two readings.
   */
  between(from: number, to: number): number {
    if (this.at.length < 2) return Number.NaN;
    return this.value(to) - this.value(from);
  }

  private value(t: number): number {
    const n = this.at.length;
    if (t <= this.at[0]!) return this.ms[0]!;
    if (t >= this.at[n - 1]!) return this.ms[n - 1]!;
    let lo = 0;
    let hi = n - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (this.at[mid]! <= t) lo = mid;
      else hi = mid;
    }
    const f = (t - this.at[lo]!) / (this.at[hi]! - this.at[lo]!);
    return this.ms[lo]! + f * (this.ms[hi]! - this.ms[lo]!);
  }
}
