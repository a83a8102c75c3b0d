/**
 * The first half of a container's life for one invocation: created (stdin open) and attached,
 * not started. A cold invocation does it on its way; the prewarmed pool does it ahead of time.
 */
import type { Duplex } from 'node:stream';
import type Docker from 'dockerode';
import { nowMs } from '../../clock.js';
import type { CgroupPlan, ContainerCgroup } from './cgroup.js';
import { ABORTED, by, untilAborted } from './deadline.js';
import { CappedOutput } from '../capped-output.js';
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
