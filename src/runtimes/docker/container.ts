/**
 * One container's life for one invocation (cold and prewarmed): create and attach (ahead of time
 * when prewarmed), then start, feed stdin, wait, collect; removal after the result. Every engine
 * call ends by the invocation's deadline; an abort or a timeout at any point, even before the
 * container started, ends the invocation and the container.
 */
import type { Duplex } from 'node:stream';
import type Docker from 'dockerode';
import { nowMs, parseRfc3339Ms } from '../../clock.js';
import { NebulaError } from '../../errors.js';
import { unmeasured } from '../../record.js';
import { containerResources, type CgroupPlan, type ContainerCgroup } from './cgroup.js';
import type { RunContext, RunOutcome } from '../runtime.js';
import { ABORTED, by, sleep, untilAborted } from './deadline.js';
import { engineAlive, engineFailure, failed, GRACE_MS, stopError, type StopReason } from './failures.js';
import { CappedOutput } from './output.js';
import type { Reaper } from './reaper.js';

/** A created container with its stdio attached, not started yet. */
export interface Armed {
  container: Docker.Container;
  stream: Duplex;
  stdout: CappedOutput;
  stderr: CappedOutput;
  /** Resolves when the engine closes the attach stream (all output delivered). */
  ended: Promise<void>;
  phases: { create: number; attach: number };
  /** The container's own cgroup parent, read once it has exited (none when the engine's cgroups are not readable). */
  cgroup: ContainerCgroup | undefined;
  /** Why it has none. */
  cgroupNote: string | undefined;
}

const status = (e: unknown) => (e as { statusCode?: number })?.statusCode;

/**
 * Creates the container and attaches to its stdio, by `deadlineAt`; a container made after an
 * abort or a failure goes to the reaper. Resolves with {@link ABORTED} when `signal` fired first.
 */
export async function arm(
  docker: Docker,
  options: Docker.ContainerCreateOptions,
  maxOutputBytes: number,
  deadlineAt: number,
  reaper: Reaper,
  cgroups: CgroupPlan | undefined,
  signal?: AbortSignal,
): Promise<Armed | typeof ABORTED> {
  const drop = (c: Docker.Container) => void reaper.remove(c.id).catch(() => undefined);
  let t = nowMs();
  const cgroup = cgroups?.next();
  const creating = reaper.create(cgroup ? cgroup.apply(options) : options, deadlineAt, 'creating a container');
  const container = await untilAborted(creating, signal, drop);
  if (container === ABORTED) return ABORTED;
  const create = nowMs() - t;
  t = nowMs();
  let stream: Duplex | typeof ABORTED;
  try {
    const attaching = by(deadlineAt, 'attaching to a container', async (abortSignal) => {
      const opts = { stream: true, stdin: true, stdout: true, stderr: true, hijack: true, abortSignal };
      return (await container.attach(opts)) as unknown as Duplex;
    });
    stream = await untilAborted(attaching, signal, (s) => s.destroy());
  } catch (e) {
    drop(container);
    throw e;
  }
  if (stream === ABORTED) {
    drop(container);
    return ABORTED;
  }
  const stdout = new CappedOutput(maxOutputBytes);
  const stderr = new CappedOutput(maxOutputBytes);
  docker.modem.demuxStream(stream, stdout, stderr);
  const s = stream;
  const ended = new Promise<void>((resolve) => {
    s.on('end', resolve);
    s.on('close', resolve);
    s.on('error', () => resolve());
  });
  return {
    container,
    stream,
    stdout,
    stderr,
    ended,
    phases: { create, attach: nowMs() - t },
    cgroup,
    cgroupNote: cgroups ? cgroups.note : 'the engine was not asked which cgroups it uses',
  };
}

/**
 * Starts an armed container with `input` on stdin and waits for it; never throws. Settles by
 * `deadlineAt + GRACE_MS` even when the engine stops answering.
 */
export async function fire(
  docker: Docker,
  armed: Armed,
  input: string,
  ctx: RunContext,
  maxOutputBytes: number,
): Promise<RunOutcome> {
  const { container, stream } = armed;
  const phases: Record<string, number> = { ...armed.phases };
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
  let cpuSinceAt: number | undefined;
  let usage: ReturnType<ContainerCgroup['read']> | undefined;
  const resources = () =>
    armed.cgroup
      ? containerResources(usage ?? armed.cgroup.read(), cpuSinceAt ?? nowMs(), armed.cgroup.version)
      : unmeasured(armed.cgroupNote ?? 'the container has no cgroup of its own to read');
  try {
    if (stopped) return failed(stopError(stopped, ctx, maxOutputBytes), phases);
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
    if (stopped) outcome.error = stopError(stopped, ctx, maxOutputBytes);
    else if (info.State.OOMKilled)
      outcome.error = new NebulaError(
        'MEMORY_LIMIT',
        'The container went over its memory limit and was killed (limits.memoryMiB).',
      );
    return outcome;
  } catch (e) {
    const outcome = failed(await engineFailure(docker, e, ctx, stopped), phases);
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
