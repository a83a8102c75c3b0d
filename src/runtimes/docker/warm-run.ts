/**
 * A warm invocation, from start to end in this file: a kept container of the function (or a new
 * one, created, attached and started for it), the function run once in it by its supervisor
 * (warm-container.ts), the container given back to be cleaned and kept, or retired when the
 * supervisor cannot prove it clean or breaks its protocol.
 */
import type { Duplex } from 'node:stream';
import type Docker from 'dockerode';
import { nowMs } from '../../clock.js';
import { NebulaError } from '../../errors.js';
import { failedOutcome, unmeasured } from '../outcome.js';
import type { Phase, RunContext, RunOutcome } from '../runtime.js';
import { containerResources, type CgroupPlan } from './cgroup.js';
import { ABORTED, by, DeadlineError, untilAborted } from './deadline.js';
import { engineFailure, GRACE_MS, stopError, type StopReason } from './failures.js';
import { warmOptions } from './isolation.js';
import { CappedOutput } from '../capped-output.js';
import type { Reaper } from './reaper.js';
import { errnoName, WarmContainer } from './warm-container.js';
import type { WarmPool } from './warm-pool.js';

/** What a warm invocation needs of its function and runtime. */
export interface WarmSide {
  docker: Docker;
  reaper: Reaper;
  pool: WarmPool;
  /** The function's key in the pool. */
  owner: object;
  /** The supervisor volume's name (made once per runtime). */
  supervisor: () => Promise<string>;
  maxOutputBytes: number;
  /** Create options of the function's containers (warm ones add the supervisor). */
  options: Docker.ContainerCreateOptions;
  /** The image's command, run by the supervisor for each invocation. */
  command: string[];
  /** Each container's cgroup parent, for its CPU time and memory (none: records say they have no figures). */
  cgroups?: CgroupPlan;
}

/** Runs the function once in a kept container; never throws. */
export async function runWarm(side: WarmSide, input: string, ctx: RunContext): Promise<RunOutcome> {
  const { docker, pool, maxOutputBytes } = side;
  if (ctx.signal?.aborted) return failedOutcome(stopError('ABORTED', ctx.timeoutMs, maxOutputBytes));
  let wc = pool.take(side.owner);
  // The last run in it may still be clearing up (usually well under a millisecond).
  while (wc && !(await wc.cleaned())) {
    pool.evict(wc);
    wc = pool.take(side.owner);
  }
  const sandbox = wc ? (pool.wasAhead(wc) ? 'prewarmed' : 'reused') : 'fresh';
  const phases: Partial<Record<Phase, number>> = {};
  let setupWaitMs = 0;
  if (!wc) {
    try {
      const t = nowMs();
      const volume = await by(ctx.deadlineAt, 'preparing the warm-mode supervisor', () => side.supervisor());
      setupWaitMs = nowMs() - t;
      const spawned = await untilAborted(spawn(side, volume, ctx.deadlineAt, phases), ctx.signal, (late) =>
        pool.giveBack(late),
      );
      if (spawned === ABORTED)
        return failedOutcome(stopError('ABORTED', ctx.timeoutMs, maxOutputBytes), 'RUNTIME_ERROR', nowMs(), phases);
      wc = spawned;
    } catch (e) {
      return failedOutcome(await engineFailure(docker, e, ctx.timeoutMs, undefined), 'RUNTIME_ERROR', nowMs(), phases);
    }
  }
  const outcome = await runIn(side, wc, input, ctx);
  outcome.sandbox = sandbox;
  outcome.sandboxId = wc.container.id;
  outcome.phases = { ...phases, ...outcome.phases };
  if (setupWaitMs > 1) outcome.setupWaitMs = setupWaitMs;
  const kept = wc;
  const given = nowMs();
  pool.giveBack(kept);
  outcome.cleanup = kept.cleaned().then((clean) => {
    if (!clean) pool.evict(kept);
    return nowMs() - given;
  });
  return outcome;
}

/** Makes a container of the function ahead and keeps it idle (a keep-alive policy's pre-warm), by `deadlineAt`. */
export async function prewarm(side: WarmSide, deadlineAt: number): Promise<void> {
  const volume = await by(deadlineAt, 'preparing the warm-mode supervisor', () => side.supervisor());
  side.pool.giveAhead(await spawn(side, volume, deadlineAt, {}));
}

/** Creates, attaches and starts a warm container, by `deadlineAt`; it joins the pool busy. */
async function spawn(
  side: WarmSide,
  volume: string,
  deadlineAt: number,
  phases: Partial<Record<Phase, number>>,
): Promise<WarmContainer> {
  const { docker, reaper, pool } = side;
  let t = nowMs();
  const cgroup = side.cgroups?.next();
  const options = warmOptions(side.options, side.command, volume);
  const container = await reaper.create(
    cgroup ? cgroup.apply(options) : options,
    deadlineAt,
    'creating a warm container',
  );
  phases.create = nowMs() - t;
  let wc: WarmContainer | undefined;
  try {
    t = nowMs();
    const stream = await by(deadlineAt, 'attaching to a warm container', async (abortSignal) => {
      const opts = { stream: true, stdin: true, stdout: true, stderr: true, hijack: true, abortSignal };
      return (await container.attach(opts)) as unknown as Duplex;
    });
    phases.attach = nowMs() - t;
    wc = new WarmContainer(docker, container, stream, cgroup ?? side.cgroups?.note);
    pool.add(side.owner, wc);
    t = nowMs();
    await by(deadlineAt, 'starting a warm container', (abortSignal) => container.start({ abortSignal }));
    phases.start = nowMs() - t;
    t = nowMs();
    await wc.ready(deadlineAt);
    phases.ready = nowMs() - t;
    return wc;
  } catch (e) {
    if (wc) pool.giveBack(wc, false);
    else
      void reaper
        .remove(container.id)
        .then(() => cgroup?.remove())
        .catch(() => undefined);
    throw e;
  }
}

/** One run in a started container: stopped at the deadline, on abort or over the output cap. */
async function runIn(side: WarmSide, wc: WarmContainer, input: string, ctx: RunContext): Promise<RunOutcome> {
  const { docker, maxOutputBytes } = side;
  if (ctx.signal?.aborted) return failedOutcome(stopError('ABORTED', ctx.timeoutMs, maxOutputBytes));
  const out = new CappedOutput(maxOutputBytes);
  const err = new CappedOutput(maxOutputBytes);
  let stopped: StopReason | undefined;
  const stop = (why: StopReason) => {
    if (stopped) return;
    stopped = why;
    wc.kill();
  };
  out.onOverflow = () => stop('OUTPUT_LIMIT');
  const timer = setTimeout(() => stop('TIMEOUT'), Math.max(0, ctx.deadlineAt - nowMs()));
  const onAbort = () => stop('ABORTED');
  ctx.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const t = nowMs();
    // A kept container's cgroup counts every run so far: this run's CPU time is the difference across it.
    const cgroup = typeof wc.cgroup === 'object' ? wc.cgroup : undefined;
    const before = cgroup?.read();
    const end = await wc.run(input, out, err, ctx.deadlineAt + GRACE_MS);
    const phases = { wait: nowMs() - t };
    if ('late' in end) {
      const error = await engineFailure(
        docker,
        new DeadlineError('waiting for a function in a warm container'),
        ctx.timeoutMs,
        stopped,
      );
      return failedOutcome(error, 'RUNTIME_ERROR', nowMs(), phases);
    }
    if ('broken' in end) {
      const why = `The warm container's supervisor ${end.broken}: no result or time of this run can be trusted, so none is returned; the container was retired.`;
      return failedOutcome(new NebulaError('SANDBOX_PROTOCOL', why), 'RUNTIME_ERROR', nowMs(), phases);
    }
    if ('ended' in end) return { ...(await died(docker, wc, ctx, stopped, maxOutputBytes)), phases };
    const x = end.exit;
    const outcome: RunOutcome = {
      exitCode: stopped || x.how === 2 ? null : x.how === 0 ? x.value : 128 + x.value,
      stdout: out.text(),
      stderr: err.text(),
      functionStartAt: x.startAt,
      functionEndAt: x.endAt,
      phases,
      compiled: false,
      sandbox: 'reused',
      // The supervisor has reaped the run's processes: their usage is charged. Memory: the container's peak since it started.
      resources: cgroup
        ? containerResources(cgroup.read(), t, cgroup.version, before)
        : unmeasured(typeof wc.cgroup === 'string' ? wc.cgroup : 'the container has no cgroup of its own to read'),
    };
    if (out.truncated) outcome.stdoutTruncated = true;
    if (err.truncated) outcome.stderrTruncated = true;
    if (stopped) outcome.error = stopError(stopped, ctx.timeoutMs, maxOutputBytes);
    else if (x.how === 2)
      outcome.error = new NebulaError(
        'RUNTIME_ERROR',
        `The image's command ${JSON.stringify(side.command)} could not be started: ${errnoName(x.value)}.`,
      );
    else if (x.how === 1 && x.value === 9 && x.oomKills > 0)
      outcome.error = new NebulaError(
        'MEMORY_LIMIT',
        'The function went over the container memory limit and was killed (limits.memoryMiB).',
      );
    return outcome;
  } finally {
    clearTimeout(timer);
    ctx.signal?.removeEventListener('abort', onAbort);
  }
}

/** The container stopped during a run: the supervisor itself was killed (memory) or the engine went away. */
async function died(
  docker: Docker,
  wc: WarmContainer,
  ctx: RunContext,
  stopped: StopReason | undefined,
  maxOutputBytes: number,
): Promise<RunOutcome> {
  try {
    const info = await by(ctx.deadlineAt + GRACE_MS, 'inspecting a warm container', (abortSignal) =>
      wc.container.inspect({ abortSignal }),
    );
    if (stopped) return failedOutcome(stopError(stopped, ctx.timeoutMs, maxOutputBytes));
    if (info.State.OOMKilled)
      return failedOutcome(
        new NebulaError('MEMORY_LIMIT', 'The container went over its memory limit and was killed (limits.memoryMiB).'),
      );
    return failedOutcome(
      new NebulaError(
        'RUNTIME_ERROR',
        `The warm container stopped during the invocation (exit code ${info.State.ExitCode}).`,
      ),
    );
  } catch (e) {
    return failedOutcome(await engineFailure(docker, e, ctx.timeoutMs, stopped));
  }
}
