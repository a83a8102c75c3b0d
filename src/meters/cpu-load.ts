/** This host's CPU time counters, for utilisation over an interval (busy and total, ms, all cores). */
import { cpus } from 'node:os';

export function cpuTimes(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const c of cpus()) {
    const t = c.times;
    const all = t.user + t.nice + t.sys + t.irq + t.idle;
    total += all;
    busy += all - t.idle;
  }
  return { busy, total };
}
