/**
 * A cold or prewarmed invocation, from start to end in this file: a container created and
 * attached on the way (cold) or taken from the prewarmed pool, started with the input on stdin,
 * waited for, its output and engine times collected; removed after the result. Every engine call
 * ends by the invocation's deadline; an abort or a timeout at any point, even before the
 * container started, ends the invocation and the container.
 */
import type Docker from 'dockerode';
import { nowMs, parseRfc3339Ms } from '../../clock.js';
import { NebulaError } from '../../errors.js';
import { failedOutcome, unmeasured } from '../outcome.js';
import type { Phase, RunContext, RunOutcome } from '../runtime.js';
import { arm, type Armed } from './arm.js';
import { containerResources, type CgroupPlan } from './cgroup.js';
import { ABORTED, by, sleep } from './deadline.js';
import { engineAlive, engineFailure, GRACE_MS, stopError, type StopReason } from './failures.js';
import type { PrewarmedPool } from './prewarmed-pool.js';
import type { Reaper } from './reaper.js';

/** What a cold or prewarmed invocation needs of its function and runtime. */
export interface OnceSide {
  docker: Docker;
  reaper: Reaper;
  maxOutputBytes: number;
  /** Create options of the function's containers. */
  options: Docker.ContainerCreateOptions;
  /** Prewarmed mode: the pool to take a container from (none ready: one is made as in cold mode). */
  pool?: PrewarmedPool;
  /** Each container's cgroup parent, for its CPU time and memory (none: records say they have no figures). */
  cgroups?: CgroupPlan;
}

const status = (e: unknown) => (e as { statusCode?: number })?.statusCode;

/** Runs the function once in a container of its own; never throws. */
export async function runOnce(side: OnceSide, input: string, ctx: RunContext): Promise<RunOutcome> {
  const { docker, reaper, maxOutputBytes, pool } = side;
  const stopped = (why: StopReason) => stopError(why, ctx.timeoutMs, maxOutputBytes);
  if (ctx.signal?.aborted) return failedOutcome(stopped('ABORTED'));
  let armed = pool?.take();
  const sandbox = armed ? 'prewarmed' : 'fresh';
  if (!armed) {
    try {
      const a = await arm(docker, side.options, maxOutputBytes, ctx.deadlineAt, reaper, side.cgroups, ctx.signal);
      if (a === ABORTED) return failedOutcome(stopped('ABORTED'));
      armed = a;
    } catch (e) {
      return failedOutcome(await engineFailure(docker, e, ctx.timeoutMs, undefined));
    }
  }
  const outcome = await fire(docker, armed, input, ctx, maxOutputBytes);
  outcome.sandbox = sandbox;
  outcome.sandboxId = armed.container.id;
  if (sandbox === 'prewarmed') {
    // Created and attached ahead of time: not part of this invocation.
    delete outcome.phases.create;
    delete outcome.phases.attach;
  }
  const cgroup = armed.cgroup;
  outcome.cleanup = reaper.remove(armed.container.id).then(async (ms) => {
    await cgroup?.remove();
    return ms;
  });
  pool?.refill();
  return outcome;
}

/**
 * Starts an armed container with `input` on stdin and waits for it; never throws. Settles by
 * `deadlineAt + GRACE_MS` even when the engine stops answering.
 */
async function fire(
  docker: Docker,
  armed: Armed,
  input: string,
  ctx: RunContext,
  maxOutputBytes: number,
): Promise<RunOutcome> {
  const { container, stream } = armed;
  const phases: Partial<Record<Phase, number>> = { ...armed.phases };
  const settleBy = ctx.deadlineAt + GRACE_MS;
  let stopped: StopReason | undefined;
  let starting = false;
  let exited = false;

  // Kill until it takes: a kill before the start is refused (409) and repeated once started.
  const kill = async () => {
    while (!exited && nowMs() < settleBy) {
      try {
        await by(settleBy, 'killing a container', (abortSignal) => container.kill({ signal: 'SIGKILL', abortSignal }));
        return;
      } catch (e) {
        if (status(e) === 404 || status(e) === 409) return;
        await sleep(100);
      }
    }
  };
  const stop = (why: StopReason) => {
    if (stopped) return;
    stopped = why;
    if (starting) void kill();
  };
  const timer = setTimeout(() => stop('TIMEOUT'), Math.max(0, ctx.deadlineAt - nowMs()));
  const onAbort = () => stop('ABORTED');
  ctx.signal?.addEventListener('abort', onAbort, { once: true });
  if (ctx.signal?.aborted) stop('ABORTED');
  armed.stdout.onOverflow = () => stop('OUTPUT_LIMIT');
  const life = new AbortController();
  /** The container's CPU time counts from its start; its cgroup parent is read once it has exited. */
  let cpuSinceAt: number | undefined;
  let usage: ReturnType<NonNullable<Armed['cgroup']>['read']> | undefined;
  const resources = () =>
    armed.cgroup
      ? containerResources(usage ?? armed.cgroup.read(), cpuSinceAt ?? nowMs(), armed.cgroup.version)
      : unmeasured(armed.cgroupNote ?? 'the container has no cgroup of its own to read');
  try {
    if (stopped)
      return failedOutcome(stopError(stopped, ctx.timeoutMs, maxOutputBytes), 'RUNTIME_ERROR', nowMs(), phases);
    let t = nowMs();
    // Ask for the exit before starting, so a very short run cannot slip past the wait.
    const exit = by(
      settleBy,
      'waiting for a container',
      (abortSignal) => container.wait({ condition: 'next-exit', abortSignal }) as Promise<{ StatusCode: number }>,
      life.signal,
    );
    exit.catch(() => undefined);
    starting = true;
    cpuSinceAt = nowMs();
    await by(ctx.deadlineAt, 'starting a container', (abortSignal) => container.start({ abortSignal }));
    phases.start = nowMs() - t;
    if (stopped) void kill();
    stream.end(input);
    t = nowMs();
    // The attach stream ends when the container's output ends, just before the engine reports the
    // exit; when the report does not follow, the engine may be gone (a wait whose answer had begun
    // is not ended by a dropped connection): ask it.
    const first = await Promise.race([exit, armed.ended]);
    if (first === undefined && (await Promise.race([exit.then(() => 'exit'), sleep(1000)])) !== 'exit')
      await engineAlive(docker, 'waiting for a container');
    const { StatusCode } = await exit;
    exited = true;
    // Everything the container used is charged by now: its process has exited.
    usage = armed.cgroup?.read();
    phases.wait = nowMs() - t;
    t = nowMs();
    await Promise.race([armed.ended, sleep(Math.max(0, Math.min(2000, settleBy - nowMs())))]);
    const info = await by(settleBy, 'inspecting a container', (abortSignal) => container.inspect({ abortSignal }));
    phases.collect = nowMs() - t;
    const startAt = parseRfc3339Ms(info.State.StartedAt);
    const endAt = parseRfc3339Ms(info.State.FinishedAt);
    const now = nowMs();
    const outcome: RunOutcome = {
      exitCode: stopped ? null : StatusCode,
      stdout: armed.stdout.text(),
      stderr: armed.stderr.text(),
      functionStartAt: Number.isFinite(startAt) ? startAt : now,
      functionEndAt: Number.isFinite(endAt) ? endAt : now,
      phases,
      compiled: false,
      sandbox: 'fresh',
      resources: resources(),
    };
    if (armed.stdout.truncated) outcome.stdoutTruncated = true;
    if (armed.stderr.truncated) outcome.stderrTruncated = true;
    if (stopped) outcome.error = stopError(stopped, ctx.timeoutMs, maxOutputBytes);
    else if (info.State.OOMKilled)
      outcome.error = new NebulaError(
        'MEMORY_LIMIT',
        'The container went over its memory limit and was killed (limits.memoryMiB).',
      );
    return outcome;
  } catch (e) {
    const outcome = failedOutcome(
      await engineFailure(docker, e, ctx.timeoutMs, stopped),
      'RUNTIME_ERROR',
      nowMs(),
      phases,
    );
    if (armed.stdout.truncated) outcome.stdoutTruncated = true;
    if (cpuSinceAt !== undefined) outcome.resources = resources();
    return outcome;
  } finally {
    clearTimeout(timer);
    ctx.signal?.removeEventListener('abort', onAbort);
    life.abort();
    stream.destroy();
  }
}
