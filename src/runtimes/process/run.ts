/**
 * One run on a launched helper: hand over the input and the limits, stop the function at the
 * deadline or on abort, and turn what the helper reported into a RunOutcome.
 */
import { constants } from 'node:os';
import { fromMonotonicNs, MAX_TIMEOUT_MS, nowMs } from '../../clock.js';
import { NebulaError } from '../../errors.js';
import type { InvocationResources, ResourceSource } from '../../types.js';
import { unmeasured } from '../outcome.js';
import type { Phase, RunContext, RunOutcome } from '../runtime.js';
import { treeBound, type CgroupSetup } from './cgroup.js';
import type { HelperReport, Launch } from './launch.js';
import { byNumber, errnoName, goLine, limitReport, type RlimitPlan } from './limits.js';

/** What a run needs besides its launch. */
export interface RunFacts {
  plan: RlimitPlan;
  /** `limits.cpus`, reported (not enforced). */
  cpus: number;
  /** The launch was made ahead of the invocation (a parked helper). */
  prewarmed: boolean;
  binary: string;
  /** Where the run's cgroups were made, if anywhere. */
  cgroups: CgroupSetup;
}

/**
 * What the kernel counted for one run (internal: not on the record yet). With a cgroup the figures
 * cover the whole process tree; without, wait4's rusage covers the function and the descendants it
 * waited for, and its peak is the largest resident set of one process.
 */
interface ProcessUsage {
  /** CPU time in user and in kernel mode, µs. */
  cpuUserUs: number;
  cpuSystemUs: number;
  cpuFrom: 'cgroup v2 cpu.stat' | 'cgroup v1 cpuacct' | 'wait4 rusage';
  /** Peak memory, bytes: charged to the cgroup (anonymous memory, page cache, kernel memory), or ru_maxrss. */
  maxMemoryBytes: number;
  memoryFrom: 'cgroup v2 memory.peak' | 'cgroup v1 memory.max_usage_in_bytes' | 'wait4 ru_maxrss';
}

/** A process run's outcome, with what the kernel counted when the function ran to its end. */
export interface ProcessRunOutcome extends RunOutcome {
  usage?: ProcessUsage;
}

/** ms the helper gets to kill the function's group after SIGTERM before its session is SIGKILLed. */
const KILL_GRACE_MS = 1000;
/**
 * A failed run whose peak resident memory reached this share of RLIMIT_AS is MEMORY_LIMIT: an
 * allocation refused at the limit shows up as the function's own failure, not as a signal.
 */
const MEMORY_NEAR = 0.75;
const MiB = 1024 * 1024;
const SIGNAL_NAMES = byNumber(constants.signals);

type Stop = 'TIMEOUT' | 'ABORTED';

/** Runs the function once on `launch`; never throws for the function's fault. */
export async function runOnce(
  launch: Launch,
  input: string,
  ctx: RunContext,
  facts: RunFacts,
): Promise<ProcessRunOutcome> {
  let stopped: Stop | undefined;
  let backup: NodeJS.Timeout | undefined;
  const stop = (why: Stop) => {
    if (stopped) return;
    stopped = why;
    launch.stop();
    backup = setTimeout(() => launch.kill(), KILL_GRACE_MS);
  };
  const goAt = nowMs();
  launch.go(input, goLine(facts.plan));
  const timer = setTimeout(() => stop('TIMEOUT'), Math.min(MAX_TIMEOUT_MS, Math.max(0, ctx.deadlineAt - nowMs())));
  const onAbort = () => stop('ABORTED');
  ctx.signal?.addEventListener('abort', onAbort, { once: true });
  if (ctx.signal?.aborted) stop('ABORTED');
  try {
    await launch.done;
  } finally {
    clearTimeout(timer);
    clearTimeout(backup);
    ctx.signal?.removeEventListener('abort', onAbort);
  }
  return toOutcome(launch, facts, ctx, stopped, goAt, nowMs());
}

function toOutcome(
  launch: Launch,
  facts: RunFacts,
  ctx: RunContext,
  stopped: Stop | undefined,
  goAt: number,
  doneAt: number,
): ProcessRunOutcome {
  const r = launch.report;
  const startAt = r.start ? fromMonotonicNs(r.start.ns) : doneAt;
  const endAt = r.end ? fromMonotonicNs(r.end.ns) : r.start ? doneAt : startAt;
  const phases: Partial<Record<Phase, number>> = facts.prewarmed ? {} : { ...launch.phases };
  if (r.start) {
    phases.start = startAt - goAt;
    phases.run = endAt - startAt;
  }
  phases.collect = doneAt - endAt;
  const status = r.end?.status;
  const signal = status !== undefined && (status & 0x7f) !== 0 ? status & 0x7f : undefined;
  const exitCode = status !== undefined && signal === undefined ? (status >> 8) & 0xff : null;
  const outcome: ProcessRunOutcome = {
    exitCode: stopped ? null : exitCode,
    stdout: launch.stdout.text(),
    stderr: launch.stderr.text(),
    functionStartAt: startAt,
    functionEndAt: endAt,
    phases,
    compiled: false,
    // A process cannot take a second input on stdin: `warm` runs on a parked helper too, never a reused process.
    sandbox: facts.prewarmed ? 'prewarmed' : 'fresh',
    limits: limitReport(facts.plan, facts.cpus, r.start?.limitErrnos, treeBound(facts.cgroups, r.start?.cgroups)),
  };
  if (r.end) outcome.usage = usage(r.end, facts.cgroups);
  outcome.resources = outcome.usage
    ? resourcesOf(outcome.usage, goAt)
    : unmeasured(
        r.fail !== undefined
          ? 'the function could not be started'
          : "the helper ended without reporting the function's usage",
      );
  if (launch.stdout.truncated) outcome.stdoutTruncated = true;
  if (launch.stderr.truncated) outcome.stderrTruncated = true;
  const error = failure(launch, facts, ctx, stopped, signal, exitCode);
  if (error) outcome.error = error;
  return outcome;
}

function failure(
  launch: Launch,
  facts: RunFacts,
  ctx: RunContext,
  stopped: Stop | undefined,
  signal: number | undefined,
  exitCode: number | null,
): NebulaError | undefined {
  const r = launch.report;
  const killed = facts.cgroups.parents.length
    ? 'its process group and cgroup were killed'
    : 'its process group was killed';
  if (stopped === 'TIMEOUT')
    return new NebulaError('TIMEOUT', `The process ran longer than its timeout of ${ctx.timeoutMs} ms; ${killed}.`);
  if (stopped === 'ABORTED') return new NebulaError('ABORTED', `The invocation was aborted by its signal; ${killed}.`);
  if (r.fail !== undefined) {
    const errno = errnoName(r.fail);
    return new NebulaError('FUNCTION_FAILED', `Could not start ${facts.binary}: execve failed with ${errno}.`, {
      details: { errno },
    });
  }
  if (!r.end) {
    const why = launch.spawnError
      ? `could not be started: ${launch.spawnError.message}`
      : `ended (${launch.child.signalCode ?? `exit code ${String(launch.child.exitCode)}`}) without reporting the function's end`;
    return new NebulaError('RUNTIME_ERROR', `The process runtime's helper ${why}.`);
  }
  const name = signal === undefined ? undefined : (SIGNAL_NAMES.get(signal) ?? `signal ${signal}`);
  const details = name ? { signal: name } : {};
  const oomKills = r.end.tree.oomKills ?? 0;
  if (oomKills > 0)
    return new NebulaError(
      'MEMORY_LIMIT',
      `The function's process tree reached its memory limit of ${facts.plan.addressSpaceBytes / MiB} MiB (limits.memoryMiB, bound by its cgroup): the kernel killed ${oomKills === 1 ? 'a process' : `${oomKills} processes`} there and the whole tree was stopped.`,
      { details },
    );
  if (name === 'SIGXCPU' || (name === 'SIGKILL' && r.end.userUs + r.end.systemUs >= facts.plan.cpuSeconds * 1e6))
    return new NebulaError(
      'TIMEOUT',
      `The function used up its CPU-time limit of ${facts.plan.cpuSeconds} s (RLIMIT_CPU: timeoutMs x limits.cpus) and was killed.`,
      { details },
    );
  if (name === 'SIGXFSZ')
    return new NebulaError(
      'FUNCTION_FAILED',
      `The function wrote a file over its size limit of ${facts.plan.fileSizeBytes / MiB} MiB (RLIMIT_FSIZE, option maxFileBytes).`,
      { details },
    );
  const failed = name !== undefined || exitCode !== 0;
  if (failed && r.end.maxRssKiB * 1024 >= MEMORY_NEAR * facts.plan.addressSpaceBytes)
    return new NebulaError(
      'MEMORY_LIMIT',
      `The function failed with ${(r.end.maxRssKiB / 1024).toFixed(1)} MiB resident, at its address-space limit of ${facts.plan.addressSpaceBytes / MiB} MiB (RLIMIT_AS, limits.memoryMiB).`,
      { details },
    );
  if (name) return new NebulaError('FUNCTION_FAILED', `The function was killed by ${name}.`, { details });
  return undefined;
}

const SOURCES: Record<ProcessUsage['cpuFrom'] | ProcessUsage['memoryFrom'], ResourceSource> = {
  'cgroup v2 cpu.stat': 'cgroup-v2',
  'cgroup v1 cpuacct': 'cgroup-v1',
  'wait4 rusage': 'rusage',
  'cgroup v2 memory.peak': 'cgroup-v2',
  'cgroup v1 memory.max_usage_in_bytes': 'cgroup-v1',
  'wait4 ru_maxrss': 'rusage',
};

/**
 * The record's resources from the run's figures. The kernel keeps the CPU total to the nanosecond
 * and reports it in microseconds; the split between user and system is apportioned by scheduler ticks.
 */
function resourcesOf(u: ProcessUsage, goAt: number): InvocationResources {
  return {
    cpuMs: (u.cpuUserUs + u.cpuSystemUs) / 1000,
    userMs: u.cpuUserUs / 1000,
    systemMs: u.cpuSystemUs / 1000,
    cpuSinceAt: goAt,
    maxMemoryBytes: u.maxMemoryBytes,
    cpuSource: SOURCES[u.cpuFrom],
    memorySource: SOURCES[u.memoryFrom],
  };
}

/** The run's figures: the cgroup's for the whole tree where it gave them, else wait4's. */
function usage(end: NonNullable<HelperReport['end']>, setup: CgroupSetup): ProcessUsage {
  const { userUs, systemUs, peakBytes } = end.tree;
  const cpu = setup.parents.find((p) => p.kind !== 'memory')?.kind;
  const cpuFromTree = userUs !== undefined && systemUs !== undefined && cpu !== undefined;
  const memoryFromTree = peakBytes !== undefined && setup.parents.length > 0;
  return {
    cpuUserUs: cpuFromTree ? userUs : end.userUs,
    cpuSystemUs: cpuFromTree ? systemUs : end.systemUs,
    cpuFrom: !cpuFromTree ? 'wait4 rusage' : cpu === 'v2' ? 'cgroup v2 cpu.stat' : 'cgroup v1 cpuacct',
    maxMemoryBytes: memoryFromTree ? peakBytes : end.maxRssKiB * 1024,
    memoryFrom: !memoryFromTree
      ? 'wait4 ru_maxrss'
      : setup.parents[0]!.kind === 'v2'
        ? 'cgroup v2 memory.peak'
        : 'cgroup v1 memory.max_usage_in_bytes',
  };
}
