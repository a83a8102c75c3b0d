/**
 * One container's life for one invocation: create and attach (ahead of time in warm mode), then
 * start, feed stdin, wait, collect, and remove after the result.
 */
import { PassThrough, type Duplex } from 'node:stream';
import type Docker from 'dockerode';
import { nowMs, parseRfc3339Ms } from '../../clock.js';
import { NebulaError } from '../../errors.js';
import type { RunContext, RunOutcome } from '../runtime.js';
import { engineError } from './engine.js';

/** A created container with its stdio attached, not started yet. */
export interface Armed {
  container: Docker.Container;
  stream: Duplex;
  stdout: Buffer[];
  stderr: Buffer[];
  /** Resolves when the engine closes the attach stream (all output delivered). */
  ended: Promise<void>;
  phases: { create: number; attach: number };
}

/** Collects a stream into chunks up to `max` bytes; the rest is counted but dropped. */
function collector(chunks: Buffer[], max: number): PassThrough {
  let kept = 0;
  const sink = new PassThrough();
  sink.on('data', (b: Buffer) => {
    if (kept >= max) return;
    const part = b.length <= max - kept ? b : b.subarray(0, max - kept);
    chunks.push(part);
    kept += part.length;
  });
  return sink;
}

/** Creates the container and attaches to its stdio. */
export async function arm(docker: Docker, options: Docker.ContainerCreateOptions, maxOutputBytes: number): Promise<Armed> {
  let t = nowMs();
  let container: Docker.Container;
  try {
    container = await docker.createContainer(options);
  } catch (e) {
    throw engineError(e, `creating a container from ${options.Image}`);
  }
  const create = nowMs() - t;
  t = nowMs();
  let stream: Duplex;
  try {
    stream = (await container.attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true })) as unknown as Duplex;
  } catch (e) {
    void remove(container);
    throw engineError(e, 'attaching to a container');
  }
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  docker.modem.demuxStream(stream, collector(stdout, maxOutputBytes), collector(stderr, maxOutputBytes));
  const ended = new Promise<void>((resolve) => {
    stream.on('end', resolve);
    stream.on('close', resolve);
    stream.on('error', () => resolve());
  });
  return { container, stream, stdout, stderr, ended, phases: { create, attach: nowMs() - t } };
}

/** Removes the container (and its anonymous volumes); resolves with the ms it took. */
export async function remove(container: Docker.Container): Promise<number> {
  const t = nowMs();
  try {
    await container.remove({ force: true, v: true });
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode !== 404 && (e as { statusCode?: number }).statusCode !== 409) throw e;
  }
  return nowMs() - t;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  return Promise.race([p, new Promise<undefined>((r) => (setTimeout(r, ms) as unknown as NodeJS.Timeout).unref())]);
}

/** Starts an armed container with `input` on stdin and waits for it; never throws for the function's fault. */
export async function fire(armed: Armed, input: string, ctx: RunContext): Promise<RunOutcome> {
  const { container, stream } = armed;
  const phases: Record<string, number> = { ...armed.phases };
  let stopped: 'TIMEOUT' | 'ABORTED' | undefined;
  const stop = (why: 'TIMEOUT' | 'ABORTED') => {
    if (stopped) return;
    stopped = why;
    container.kill({ signal: 'SIGKILL' }).catch(() => undefined);
  };
  const elapsed = nowMs() - ctx.requestAt;
  const timer = setTimeout(() => stop('TIMEOUT'), Math.max(1, ctx.timeoutMs - elapsed));
  const onAbort = () => stop('ABORTED');
  ctx.signal?.addEventListener('abort', onAbort, { once: true });
  if (ctx.signal?.aborted) stop('ABORTED');
  try {
    let t = nowMs();
    // Ask for the exit before starting, so a very short run cannot slip past the wait.
    const exited = container.wait({ condition: 'next-exit' }) as Promise<{ StatusCode: number }>;
    exited.catch(() => undefined);
    await container.start();
    phases.start = nowMs() - t;
    stream.end(input);
    t = nowMs();
    const { StatusCode } = await exited;
    phases.wait = nowMs() - t;
    t = nowMs();
    await withTimeout(armed.ended, 2000);
    const info = await container.inspect();
    phases.collect = nowMs() - t;
    const startAt = parseRfc3339Ms(info.State.StartedAt);
    const endAt = parseRfc3339Ms(info.State.FinishedAt);
    const now = nowMs();
    const outcome: RunOutcome = {
      exitCode: stopped ? null : StatusCode,
      stdout: Buffer.concat(armed.stdout).toString('utf8'),
      stderr: Buffer.concat(armed.stderr).toString('utf8'),
      functionStartAt: Number.isFinite(startAt) ? startAt : now,
      functionEndAt: Number.isFinite(endAt) ? endAt : now,
      phases,
      compiled: false,
      sandbox: 'fresh',
    };
    if (stopped === 'TIMEOUT')
      outcome.error = new NebulaError('TIMEOUT', `The container ran longer than its timeout of ${ctx.timeoutMs} ms and was killed.`);
    else if (stopped === 'ABORTED') outcome.error = new NebulaError('ABORTED', 'The invocation was aborted by its signal; the container was killed.');
    else if (info.State.OOMKilled)
      outcome.error = new NebulaError('MEMORY_LIMIT', 'The container went over its memory limit and was killed (limits.memoryMiB).');
    return outcome;
  } catch (e) {
    const now = nowMs();
    return { exitCode: null, stdout: '', stderr: '', functionStartAt: now, functionEndAt: now, phases, compiled: false, sandbox: 'fresh', error: engineError(e, 'running a container') };
  } finally {
    clearTimeout(timer);
    ctx.signal?.removeEventListener('abort', onAbort);
    stream.destroy();
  }
}
