/**
 * Where the helper makes a cgroup per run, so `limits.memoryMiB` bounds a function's whole process
 * tree rather than each process: found once from /proc/self/cgroup and /proc/self/mountinfo. Also
 * the removal of cgroups that killed helpers left behind (`nebula-exec --reap`).
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { UsageError } from '../../errors.js';
import { errnoName, type TreeBound } from './limits.js';

/**
 * A directory the helper makes its run's cgroup in: `v2` (cgroup v2 with the memory controller: the
 * tree's memory limit, kill switch and CPU time), `memory` (cgroup v1 memory, as on a v1/v2 hybrid),
 * `cpuacct` (cgroup v1, the tree's CPU time beside a v1 memory one).
 */
export interface CgroupParent {
  kind: 'v2' | 'memory' | 'cpuacct';
  dir: string;
}

/** The parents of each run's cgroups, the memory one first; none, with the reason. */
export type CgroupSetup = { parents: CgroupParent[]; why?: undefined } | { parents: []; why: string };

/** What the choice reads of the host (the real one by default; tests pass their own). */
export interface CgroupHost {
  /** /proc/self/cgroup */
  procCgroup: string;
  /** /proc/self/mountinfo */
  mountinfo: string;
  /** A file's content, or `undefined` when it cannot be read. */
  read(path: string): string | undefined;
  /** True when this user may write to the path. */
  writable(path: string): boolean;
}

interface CgroupMount {
  point: string;
  /** The cgroup shown at the mount point (not `/` for a bind mount of a sub-tree). */
  root: string;
  v2: boolean;
  controllers: string[];
}

const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

/** The cgroup mounts listed in a mountinfo text (proc(5)): `cgroup2`, and `cgroup` with its controllers. */
export function parseCgroupMounts(mountinfo: string): CgroupMount[] {
  const mounts: CgroupMount[] = [];
  for (const line of mountinfo.split('\n')) {
    const [left, right] = line.split(' - ');
    const f = left?.split(' ') ?? [];
    const [fstype, , superOptions] = right?.split(' ') ?? [];
    if (f.length < 5 || (fstype !== 'cgroup' && fstype !== 'cgroup2')) continue;
    const options = superOptions?.split(',') ?? [];
    mounts.push({
      point: unescape(f[4]!),
      root: unescape(f[3]!),
      v2: fstype === 'cgroup2',
      controllers: fstype === 'cgroup' ? options : [],
    });
  }
  return mounts;
}

/** This process's cgroup in each hierarchy from a /proc/self/cgroup text: `v2` (the `0::` line), and v1 by controller. */
export function parseProcCgroup(text: string): { v2?: string; v1: Map<string, string> } {
  const own: { v2?: string; v1: Map<string, string> } = { v1: new Map() };
  for (const line of text.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    if (m[1] === '0' && m[2] === '') own.v2 = m[3]!;
    else for (const c of m[2]!.split(',')) own.v1.set(c, m[3]!);
  }
  return own;
}

/** The directory of cgroup `path` under `mount`, when the mount shows it. */
function dirIn(mount: CgroupMount, path: string): string | undefined {
  const inside =
    mount.root === '/'
      ? path
      : path === mount.root || path.startsWith(`${mount.root}/`)
        ? path.slice(mount.root.length)
        : undefined;
  return inside === undefined ? undefined : join(mount.point, inside).replace(/(.)\/$/, '$1');
}

const words = (s: string | undefined) => (s ?? '').split(/\s+/).filter(Boolean);

/**
 * Picks where each run's cgroup goes, in this order: a cgroup v2 directory with the memory
 * controller enabled for its children (the host's own cgroup, or the one above it when delegated
 * to this user); else the host's own cgroup v1 memory directory, with its v1 cpuacct one beside it
 * for the tree's CPU time. Every directory must be writable, with its cgroup.procs. (On a hybrid,
 * a v2 cgroup beside the v1 ones would cost each start a clone into it, 0.5-2 ms measured, for
 * nothing cpuacct does not give.)
 */
export function chooseCgroups(host: CgroupHost): CgroupSetup {
  const mounts = parseCgroupMounts(host.mountinfo);
  const own = parseProcCgroup(host.procCgroup);
  const usable = (dir: string | undefined): dir is string =>
    !!dir && host.writable(dir) && host.writable(join(dir, 'cgroup.procs'));
  const v2 = mounts.find((m) => m.v2);
  const ownV2 = v2 && own.v2 !== undefined ? dirIn(v2, own.v2) : undefined;
  const why: string[] = [];
  if (v2 && ownV2) {
    const above = ownV2 === v2.point ? undefined : dirname(ownV2);
    for (const dir of [ownV2, above])
      if (dir && words(host.read(join(dir, 'cgroup.subtree_control'))).includes('memory') && usable(dir))
        return { parents: [{ kind: 'v2', dir }] };
    if (words(host.read(join(v2.point, 'cgroup.controllers'))).includes('memory'))
      why.push(
        `neither ${ownV2} nor the cgroup above it has the memory controller enabled for its children and is writable by this user (cgroup v2)`,
      );
  }
  const v1 = (controller: string) => {
    const mount = mounts.find((m) => !m.v2 && m.controllers.includes(controller));
    const path = own.v1.get(controller);
    return mount && path !== undefined ? dirIn(mount, path) : undefined;
  };
  const memory = v1('memory');
  if (memory && usable(memory)) {
    const cpuacct = v1('cpuacct');
    return {
      parents: [
        { kind: 'memory', dir: memory },
        ...(usable(cpuacct) ? [{ kind: 'cpuacct' as const, dir: cpuacct }] : []),
      ],
    };
  }
  if (memory) why.push(`${memory} (cgroup v1 memory) is not writable by this user`);
  if (!why.length) why.push('no cgroup with a memory controller is mounted where this process can see it');
  return { parents: [], why: `no cgroup could be made: ${why.join('; ')}` };
}

/**
 * Checks a parent cgroup directory named by the `cgroup` option.
 * @throws UsageError `INVALID_ARGUMENT` when it is not a cgroup v2 directory with the memory controller
 * enabled for its children, nor a cgroup v1 memory directory, or is not writable by this user.
 */
export function namedCgroup(dir: string, host: CgroupHost): CgroupSetup {
  const refuse = (why: string) =>
    new UsageError('INVALID_ARGUMENT', `The process runtime's cgroup option: ${JSON.stringify(dir)} ${why}.`);
  if (!isAbsolute(dir)) throw refuse('is not an absolute path');
  const writable = host.writable(dir) && host.writable(join(dir, 'cgroup.procs'));
  if (host.read(join(dir, 'cgroup.controllers')) !== undefined) {
    if (!words(host.read(join(dir, 'cgroup.subtree_control'))).includes('memory'))
      throw refuse(
        'does not enable the memory controller for its children (write +memory to its cgroup.subtree_control)',
      );
    if (!writable) throw refuse('is not writable by this user (delegate it: chown it and its cgroup.procs)');
    return { parents: [{ kind: 'v2', dir }] };
  }
  if (host.read(join(dir, 'memory.limit_in_bytes')) !== undefined) {
    if (!writable) throw refuse('is not writable by this user');
    return { parents: [{ kind: 'memory', dir }] };
  }
  throw refuse('is not a cgroup directory (cgroup v2, or cgroup v1 memory)');
}

/** This machine, read as the process runtime sees it. */
export function thisHost(): CgroupHost {
  const read = (path: string) => {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return undefined;
    }
  };
  return {
    procCgroup: read('/proc/self/cgroup') ?? '',
    mountinfo: read('/proc/self/mountinfo') ?? '',
    read,
    writable(path) {
      try {
        accessSync(path, constants.W_OK);
        return true;
      } catch {
        return false;
      }
    },
  };
}

/** Where this runtime's runs get their cgroups, per its `cgroup` option (`true` or absent: found; `false`: none). */
export function cgroupSetup(option: boolean | string | undefined, host: CgroupHost = thisHost()): CgroupSetup {
  if (option !== undefined && typeof option !== 'boolean' && typeof option !== 'string')
    throw new UsageError(
      'INVALID_ARGUMENT',
      `The process runtime's cgroup option must be true, false or the path of a parent cgroup, got ${typeof option}.`,
    );
  if (option === false)
    return { parents: [], why: "cgroups are turned off (the process runtime's option cgroup: false)" };
  if (typeof option === 'string') return namedCgroup(option, host);
  return chooseCgroups(host);
}

/** The helper's arguments that give a run its cgroups, with the tree's memory limit in bytes. */
export function cgroupArgs(setup: CgroupSetup, memoryMaxBytes: number): string[] {
  if (!setup.parents.length) return [];
  return [...setup.parents.flatMap((p) => ['--cgroup', `${p.kind}:${p.dir}`]), '--memory-max', String(memoryMaxBytes)];
}

/**
 * How the memory limit applied to a run's tree, from the setup and the helper's report of its
 * cgroups (`ok`, or `<step>:<errno>` of the step that failed; absent when it never got there).
 */
export function treeBound(setup: CgroupSetup, reported: string | undefined): TreeBound {
  if (setup.why !== undefined) return { held: false, why: setup.why };
  if (reported === 'ok')
    return {
      held: true,
      how:
        setup.parents[0]!.kind === 'v2'
          ? 'cgroup v2 memory.max (swap.max 0)'
          : 'cgroup v1 memory.limit_in_bytes (and memsw where swap is accounted)',
    };
  const [step, errno] = (reported ?? '').split(':');
  return {
    held: false,
    why: `the run's cgroup could not be set up (${step || 'no report'}${errno ? `: ${errnoName(Number(errno))}` : ''})`,
  };
}

/**
 * Removes the cgroups of helpers that are gone (killed with SIGKILL, so they could not remove their
 * own), killing what is left in them. Helpers still running hold a lock on theirs and are left alone.
 * Never rejects.
 */
export function reapCgroups(helper: string, parents: readonly CgroupParent[]): Promise<void> {
  if (!parents.length) return Promise.resolve();
  return new Promise((resolve) => {
    try {
      const child = spawn(helper, ['--reap', ...parents.map((p) => p.dir)], { stdio: 'ignore' });
      child.once('error', () => resolve());
      child.once('exit', () => resolve());
    } catch {
      resolve();
    }
  });
}

const reaped = new Set<string>();

/** Reaps each parent once per host process, before its first run: what a killed host's helpers left. */
export async function reapOnce(helper: string, parents: readonly CgroupParent[]): Promise<void> {
  const fresh = parents.filter((p) => !reaped.has(p.dir));
  for (const p of fresh) reaped.add(p.dir);
  await reapCgroups(helper, fresh);
}
