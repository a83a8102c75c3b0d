/** The machine an experiment ran on, as its summary records it. */
import { arch, cpus, loadavg, platform, release, totalmem } from 'node:os';

/**
 * How busy the machine was during a run: the 1-minute load average (runnable processes, all
 * programs together) at its start and its end. Two runs compared at different loads did not
 * share their conditions.
 */
export interface RunLoad {
  start: number;
  /** Null until the run ends. */
  end: number | null;
}

/** The 1-minute load average now. */
export const loadNow = (): number => loadavg()[0]!;

export function machineInfo(): Record<string, string | number> {
  const c = cpus();
  return {
    cpu: c[0]?.model ?? 'unknown',
    cores: c.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: `${platform()} ${release()} ${arch()}`,
    node: process.version,
  };
}
