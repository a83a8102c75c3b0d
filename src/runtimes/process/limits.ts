/**
 * The resource limits of one process run: what the helper sets with setrlimit and in the run's
 * cgroup, and which of them the kernel enforces for this user (what `record.limits` reports).
 */
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { UsageError } from '../../errors.js';
import type { FunctionSpec, LimitState } from '../../types.js';

const MiB = 1024 * 1024;

/** What the helper is asked to set for one run; 0 leaves a limit alone. */
export interface RlimitPlan {
  /** RLIMIT_AS, bytes: `limits.memoryMiB`. */
  addressSpaceBytes: number;
  /** RLIMIT_CPU, seconds of CPU time: the timeout times `limits.cpus`, rounded up. */
  cpuSeconds: number;
  /** RLIMIT_NPROC: `limits.pids`, only when given (it counts every process of the user). */
  processes: number;
  /** RLIMIT_FSIZE, bytes: the runtime's `maxFileBytes`. */
  fileSizeBytes: number;
}

/**
 * Checks a spec's limits for this runtime.
 * @throws UsageError `INVALID_ARGUMENT` for a limit that is not a positive number (pids: a whole one).
 */
export function checkLimits(fn: FunctionSpec): void {
  const l = fn.limits ?? {};
  const positive = (v: unknown) => v === undefined || (typeof v === 'number' && Number.isFinite(v) && v > 0);
  for (const key of ['memoryMiB', 'cpus'] as const)
    if (!positive(l[key]))
      throw new UsageError(
        'INVALID_ARGUMENT',
        `Function "${fn.name}": limits.${key} must be a positive number, got ${String(l[key])}.`,
      );
  if (l.pids !== undefined && !(Number.isInteger(l.pids) && l.pids > 0))
    throw new UsageError(
      'INVALID_ARGUMENT',
      `Function "${fn.name}": limits.pids must be a positive whole number, got ${String(l.pids)}.`,
    );
}

/** `limits.memoryMiB` in bytes (default 256 MiB): RLIMIT_AS of each process, and the memory limit of the run's cgroup. */
export function memoryBytes(fn: FunctionSpec): number {
  return Math.round((fn.limits?.memoryMiB ?? 256) * MiB);
}

/** The limits of one run of `fn` with this timeout (ms). */
export function planLimits(fn: FunctionSpec, timeoutMs: number, fileSizeBytes: number): RlimitPlan {
  return {
    addressSpaceBytes: memoryBytes(fn),
    cpuSeconds: Math.max(1, Math.ceil((timeoutMs / 1000) * (fn.limits?.cpus ?? 1))),
    processes: fn.limits?.pids ?? 0,
    fileSizeBytes,
  };
}

/** The line that releases a parked helper (its protocol: helper/nebula-exec.c). */
export function goLine(p: RlimitPlan): string {
  return `go ${p.addressSpaceBytes} ${p.cpuSeconds} ${p.processes} ${p.fileSizeBytes}\n`;
}

let nprocExempt: string | undefined | null = null;

/**
 * Why RLIMIT_NPROC cannot hold for processes started by this one, or `undefined` when it can: the
 * kernel does not apply it to root or to holders of CAP_SYS_RESOURCE or CAP_SYS_ADMIN.
 */
function nprocExemption(): string | undefined {
  if (nprocExempt !== null) return nprocExempt;
  nprocExempt = undefined;
  if (process.getuid?.() === 0) nprocExempt = 'not enforced: the kernel exempts root from RLIMIT_NPROC';
  else {
    const cap = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    const eff = cap ? BigInt(`0x${cap}`) : 0n;
    // CAP_SYS_ADMIN is 21, CAP_SYS_RESOURCE 24 (linux/capability.h).
    if (eff & ((1n << 21n) | (1n << 24n)))
      nprocExempt = 'not enforced: this user holds CAP_SYS_ADMIN or CAP_SYS_RESOURCE, which the kernel exempts';
  }
  return nprocExempt;
}

/** Names by number, the first name of each number winning (SIGABRT before its alias SIGIOT). */
export function byNumber(table: Record<string, number>): Map<number, string> {
  const names = new Map<number, string>();
  for (const [name, n] of Object.entries(table)) if (!names.has(n)) names.set(n, name);
  return names;
}

const ERRNO_NAMES = byNumber(constants.errno);

/** The name of an errno value (`EACCES`), or `errno N` for one this platform does not name. */
export function errnoName(errno: number): string {
  return ERRNO_NAMES.get(errno) ?? `errno ${errno}`;
}

function state(value: number, errno: number | undefined, how: string): LimitState {
  if (errno === undefined) return { value, held: false, how: `${how}: not reached (the function did not start)` };
  if (errno !== 0) return { value, held: false, how: `${how} could not be set: ${errnoName(errno)}` };
  return { value, held: true, how };
}

/** Whether `limits.memoryMiB` bound the function's whole process tree in a run: the cgroup that did, or why none did. */
export type TreeBound = { held: true; how: string } | { held: false; why: string };

/** `limits.memoryMiB`: the cgroup bounds the tree; RLIMIT_AS alone bounds each process, and then the limit did not hold. */
function memoryState(value: number, errno: number | undefined, tree: TreeBound): LimitState {
  if (errno === undefined) return state(value, errno, 'RLIMIT_AS (address space)');
  const rlimit =
    errno === 0 ? 'RLIMIT_AS (address space) per process' : `RLIMIT_AS could not be set (${errnoName(errno)})`;
  if (tree.held)
    return { value, held: true, how: `${tree.how}: the whole process tree, killed together at the limit; ${rlimit}` };
  const each = errno === 0 ? 'RLIMIT_AS (address space) bounds each process alone' : rlimit;
  return { value, held: false, how: `${each}, not the process tree: ${tree.why}` };
}

/**
 * What `record.limits` says for a run: each limit with its value (in the unit of its key) and
 * whether it held. `errnos` are the helper's setrlimit results (0: set), absent when it never got there.
 */
export function limitReport(
  plan: RlimitPlan,
  cpus: number,
  errnos: readonly number[] | undefined,
  tree: TreeBound,
): Record<string, LimitState> {
  const report: Record<string, LimitState> = {
    memoryMiB: memoryState(plan.addressSpaceBytes / MiB, errnos?.[0], tree),
    cpuSeconds: state(plan.cpuSeconds, errnos?.[1], 'RLIMIT_CPU (SIGXCPU at the limit, SIGKILL a second later)'),
    fileSizeMiB: state(plan.fileSizeBytes / MiB, errnos?.[3], 'RLIMIT_FSIZE (largest file written)'),
    cpus: {
      value: cpus,
      held: false,
      how: 'not enforced: no per-process core cap without cgroups; CPU time is capped instead (cpuSeconds)',
    },
  };
  if (plan.processes > 0) {
    const exempt = nprocExemption();
    const processes = state(
      plan.processes,
      errnos?.[2],
      "RLIMIT_NPROC (counts every process of the user, not only the function's)",
    );
    report.processes =
      processes.held && exempt ? { ...processes, held: false, how: `RLIMIT_NPROC set but ${exempt}` } : processes;
  }
  return report;
}
