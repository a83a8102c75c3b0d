/** The machine an experiment ran on, as its summary records it. */
import { arch, cpus, platform, release, totalmem } from 'node:os';

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
