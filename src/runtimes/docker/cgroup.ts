/**
 * Each container's CPU time and peak memory, from the kernel's cgroups. Every container gets a
 * cgroup parent of its own (`<base>/<pid>-<start>-<n>`, with the engine's cgroupfs driver): the
 * kernel charges the container's usage to it as well, and it stays after the container's own
 * cgroup is removed at its exit, so it can be read once the container is done, on cgroup v1 and
 * v2 alike. It is removed after the container.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { rmdir } from 'node:fs/promises';
import type Docker from 'dockerode';
import { hierarchies, type Hierarchies } from '../../cgroup-mounts.js';
import { nowMs } from '../../clock.js';
import { unmeasured } from '../outcome.js';
import type { InvocationResources } from '../../types.js';
import { by, sleep } from './deadline.js';
import { processGone, selfStart } from './owner.js';

/** What a container's cgroup parent held when read. */
interface Usage {
  cpuMs: number;
  userMs?: number;
  systemMs?: number;
  /** The most memory charged to it since the container started, bytes. */
  peakBytes: number | null;
}

const errno = (e: unknown) => (e as NodeJS.ErrnoException)?.code;

function readNumber(path: string): number {
  const n = Number(readFileSync(path, 'latin1').trim());
  if (!Number.isFinite(n) || n < 0) throw new Error(`${path} does not hold a count`);
  return n;
}

/** `key value` lines (cpu.stat) as a map. */
function readKeyed(path: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of readFileSync(path, 'latin1').split('\n')) {
    const [k, v] = line.split(' ');
    if (k && v !== undefined) out.set(k, Number(v));
  }
  return out;
}

/** One container's cgroup parent. */
export class ContainerCgroup {
  constructor(
    /** The parent's path inside the hierarchy, e.g. `/nebula-faas/4242-1234-7`. */
    readonly path: string,
    readonly version: 1 | 2,
    /** Where the hierarchies are mounted (this process's, unless a test gives others). */
    private readonly mounts: Hierarchies = hierarchies(),
  ) {}

  /** The container's create options with this parent set. */
  apply(options: Docker.ContainerCreateOptions): Docker.ContainerCreateOptions {
    return { ...options, HostConfig: { ...options.HostConfig, CgroupParent: this.path } };
  }

  /**
   * Reads what was charged so far (all of the container's usage once it has exited), or says why
   * it cannot be read. CPU: v1 `cpuacct.usage` (ns), split in the proportion of
   * `cpuacct.usage_user` and `usage_sys` (counted in scheduler ticks); v2 `cpu.stat` (us). Memory: v1
   * `memory.max_usage_in_bytes`, v2 `memory.peak` (Linux 5.19 and later).
   */
  read(): Usage | string {
    const h = this.mounts;
    try {
      if (this.version === 1) {
        const cpu = h.v1.get('cpuacct');
        if (!cpu) return 'this host has no cgroup v1 cpuacct hierarchy to read the container from';
        const dir = `${cpu}${this.path}`;
        const usage: Usage = { cpuMs: readNumber(`${dir}/cpuacct.usage`) / 1e6, peakBytes: null };
        try {
          // Counted in scheduler ticks, so their sum is not the exact total: the total is split in their proportion.
          const user = readNumber(`${dir}/cpuacct.usage_user`);
          const system = readNumber(`${dir}/cpuacct.usage_sys`);
          if (user + system > 0) {
            usage.userMs = (usage.cpuMs * user) / (user + system);
            usage.systemMs = usage.cpuMs - usage.userMs;
          }
        } catch {
          // Kernels before 4.7 do not split it.
        }
        const memory = h.v1.get('memory');
        if (memory) usage.peakBytes = readNumber(`${memory}${this.path}/memory.max_usage_in_bytes`);
        return usage;
      }
      if (!h.v2) return 'this host has no cgroup v2 hierarchy to read the container from';
      const dir = `${h.v2}${this.path}`;
      const stat = readKeyed(`${dir}/cpu.stat`);
      const total = stat.get('usage_usec');
      if (total === undefined || !Number.isFinite(total)) return `${dir}/cpu.stat has no usage_usec`;
      const usage: Usage = { cpuMs: total / 1000, peakBytes: null };
      const user = stat.get('user_usec');
      const system = stat.get('system_usec');
      if (user !== undefined && system !== undefined) {
        usage.userMs = user / 1000;
        usage.systemMs = system / 1000;
      }
      try {
        usage.peakBytes = readNumber(`${dir}/memory.peak`);
      } catch {
        // memory.peak came with Linux 5.19.
      }
      return usage;
    } catch (e) {
      if (errno(e) === 'ENOENT')
        return `the container's cgroup ${this.path} is not on this host (an engine on another host or in another cgroup namespace)`;
      if (errno(e) === 'EACCES' || errno(e) === 'EPERM')
        return `the container's cgroup ${this.path} cannot be read by this user (${errno(e)})`;
      return `the container's cgroup ${this.path} could not be read: ${(e as Error).message}`;
    }
  }

  /** Removes the parent from every hierarchy, once the container is gone (its own cgroup may take a moment to go). */
  async remove(): Promise<void> {
    await removeEverywhere(this.path, this.mounts);
  }
}

async function removeEverywhere(path: string, mounts: Hierarchies = hierarchies()): Promise<void> {
  await Promise.all(
    mounts.all.map(async (mount) => {
      for (let wait = 50; ; wait *= 2) {
        try {
          await rmdir(`${mount}${path}`);
          return;
        } catch (e) {
          if (errno(e) !== 'EBUSY' && errno(e) !== 'ENOTEMPTY') return;
          if (wait > 1600) return;
        }
        await sleep(wait);
      }
    }),
  );
}

/** The record's resources from a reading (a note when there is none); `before` is subtracted for a reused container. */
export function containerResources(
  after: Usage | string | undefined,
  cpuSinceAt: number,
  version: 1 | 2,
  before?: Usage | string,
): InvocationResources {
  if (after === undefined) return unmeasured('no cgroup was read for this container');
  if (typeof after === 'string') return unmeasured(after);
  if (typeof before === 'string') return unmeasured(before);
  const out: InvocationResources = {
    cpuMs: after.cpuMs - (before?.cpuMs ?? 0),
    cpuSinceAt,
    maxMemoryBytes: after.peakBytes,
    cpuSource: version === 1 ? 'cgroup-v1' : 'cgroup-v2',
    memorySource: after.peakBytes === null ? null : version === 1 ? 'cgroup-v1' : 'cgroup-v2',
  };
  if (after.userMs !== undefined && after.systemMs !== undefined) {
    out.userMs = after.userMs - (before?.userMs ?? 0);
    out.systemMs = after.systemMs - (before?.systemMs ?? 0);
  }
  if (after.peakBytes === null) out.note = 'the kernel gives no peak memory for the cgroup (memory.peak: Linux 5.19)';
  return out;
}

let made = 0;

/** How containers of one engine get their cgroup parents, or why they cannot. */
export class CgroupPlan {
  private constructor(
    readonly base: string,
    readonly version: 1 | 2 | undefined,
    /** Why containers get no cgroup parent (and records no CPU time or memory). */
    readonly note: string | undefined,
  ) {}

  /** Asks the engine which cgroup driver and version it uses; never rejects (a plan with a note instead). */
  static async of(docker: Docker, base: string): Promise<CgroupPlan> {
    let info: { CgroupDriver?: string; CgroupVersion?: string };
    try {
      const read = docker.info.bind(docker) as unknown as (o: object) => Promise<typeof info>;
      info = await by(nowMs() + 10_000, 'reading its settings', (abortSignal) => read({ abortSignal }));
    } catch (e) {
      return new CgroupPlan(base, undefined, `the engine did not say which cgroups it uses: ${(e as Error).message}`);
    }
    if (info.CgroupDriver !== 'cgroupfs')
      return new CgroupPlan(
        base,
        undefined,
        `the engine's cgroup driver is ${info.CgroupDriver ?? 'unknown'}; per-container CPU time and memory need the cgroupfs driver (docs/timing.md#resources)`,
      );
    return new CgroupPlan(base, info.CgroupVersion === '2' ? 2 : 1, undefined);
  }

  /** A parent for the next container, or undefined when containers get none. */
  next(): ContainerCgroup | undefined {
    if (this.note || !this.version) return undefined;
    return new ContainerCgroup(`${this.base}/${process.pid}-${selfStart}-${++made}`, this.version);
  }

  /** Removes parents left by processes that are gone (a kill -9), and the base when it is empty. */
  async sweep(): Promise<void> {
    if (!this.version) return;
    const h = hierarchies();
    const listed = this.version === 1 ? h.v1.get('cpuacct') : h.v2;
    if (!listed) return;
    let names: string[];
    try {
      names = readdirSync(`${listed}${this.base}`, { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => d.name);
    } catch {
      return;
    }
    const left = names.filter((n) => {
      const m = /^(\d+)-(\d+|\?)-\d+$/.exec(n);
      return m !== null && processGone(Number(m[1]), m[2]!);
    });
    await Promise.all(left.map((n) => removeEverywhere(`${this.base}/${n}`)));
  }

  /** Removes the base from every hierarchy when nothing is left in it (another runtime may still use it). */
  async removeBase(): Promise<void> {
    if (!this.version) return;
    await Promise.all(hierarchies().all.map((mount) => rmdir(`${mount}${this.base}`).catch(() => undefined)));
  }
}
