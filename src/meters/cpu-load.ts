/** This host's CPU time counters, for utilisation over an interval (busy and total, ms). */
import { cpus } from 'node:os';

/** Busy and total CPU time of one core since boot, ms. */
export interface CoreTimes {
  busy: number;
  total: number;
}

/** Every online core's counters, in the order the OS lists them. */
export function coreTimes(): CoreTimes[] {
  return cpus().map((c) => {
    const t = c.times;
    const total = t.user + t.nice + t.sys + t.irq + t.idle;
    return { busy: total - t.idle, total };
  });
}

/** The counters of all cores together. */
export function cpuTimes(): CoreTimes {
  let busy = 0;
  let total = 0;
  for (const c of coreTimes()) {
    busy += c.busy;
    total += c.total;
  }
  return { busy, total };
}

/**
 * The share of CPU time spent busy between two readings of {@link coreTimes}, over the cores
 * whose counters moved forward. `undefined` when the readings say nothing: a core went on or off
 * line (`changed`), every core's counters stood still (`still`: less than a clock tick passed),
 * or went backwards (`backwards`: a counter reset, seen on some virtual machines and kernels).
 */
export function utilisation(
  prev: readonly CoreTimes[],
  now: readonly CoreTimes[],
): { u: number } | { u: undefined; why: 'changed' | 'still' | 'backwards' } {
  if (prev.length !== now.length) return { u: undefined, why: 'changed' };
  let busy = 0;
  let total = 0;
  let backwards = 0;
  for (let i = 0; i < now.length; i++) {
    const db = now[i]!.busy - prev[i]!.busy;
    const dt = now[i]!.total - prev[i]!.total;
    if (db < 0 || dt - db < 0) {
      backwards++;
      continue;
    }
    busy += db;
    total += dt;
  }
  if (total > 0) return { u: busy / total };
  return { u: undefined, why: backwards ? 'backwards' : 'still' };
}
