/**
 * The container settings every invocation gets, cold, prewarmed and warm alike: no network,
 * memory/CPU/process caps, read-only root, no new privileges, no capabilities, an unprivileged
 * user, a small private /dev/shm, a private capped tmpfs for each path the image declares as a
 * VOLUME (never a volume on the host's disk). Warm containers differ only in their entrypoint
 * (the supervisor, mounted read-only) and in keeping stdin open.
 */
import { posix } from 'node:path';
import type Docker from 'dockerode';
import { NebulaError } from '../../errors.js';
import type { FunctionSpec } from '../../types.js';
import type { ImageRef } from './image.js';
import { FUNCTION_LABEL, MODE_LABEL } from './owner.js';

const MiB = 1024 * 1024;
/** The user functions run as when the image names none but root: nobody. */
const UNPRIVILEGED_USER = '65534:65534';
/** Size of the private /dev/shm, bytes (the engine's default is 64 MiB). */
const SHM_BYTES = 1 * MiB;
/** Where the supervisor's volume is mounted in a warm container. */
export const SUPERVISOR_DIR = '/.nebula-faas';
export const SUPERVISOR_PATH = `${SUPERVISOR_DIR}/nebula-supervisor`;

const isRoot = (user: string) => user === '' || /^(0|root)(:|$)/.test(user);

/**
 * The user a container runs as: `user` when given (`'image'`: whatever the image says, root
 * included); by default the image's own user when it is not root, else {@link UNPRIVILEGED_USER}.
 */
function userFor(image: ImageRef, user: string | undefined): string | undefined {
  if (user === 'image') return undefined;
  if (user !== undefined) return user;
  return isRoot(image.user) ? UNPRIVILEGED_USER : undefined;
}

/** The command a container runs: the image's ENTRYPOINT, then `grants.args` or the image's CMD. */
export function commandOf(fn: FunctionSpec, image: ImageRef): string[] {
  return [...image.entrypoint, ...(fn.grants?.args ?? image.cmd)];
}

/** Where an image's VOLUME cannot be a tmpfs of its own: the engine's and the supervisor's places. */
const RESERVED = ['/proc', '/sys', '/dev', SUPERVISOR_DIR];

/**
 * A private tmpfs for each path the image declares as a VOLUME, in `docker run --tmpfs` syntax:
 * the engine would otherwise make each an anonymous volume on the host's disk, uncapped and kept
 * between a kept container's runs. Together they hold at most half of `memoryBytes` (their pages
 * count against the memory limit, so a full one gives the function ENOSPC rather than an OOM
 * kill), and one file per 4 KiB of that; each starts empty, as a fresh volume of an image with
 * nothing there does (files the image has under the path are hidden).
 * @throws NebulaError `INVALID_FUNCTION` for a VOLUME at `/` or inside /proc, /sys, /dev or the supervisor's folder.
 */
function volumeTmpfs(name: string, image: ImageRef, memoryBytes: number): Record<string, string> {
  const tmpfs: Record<string, string> = {};
  const size = Math.floor(memoryBytes / 2 / Math.max(1, image.volumes.length) / 4096) * 4096;
  for (const declared of image.volumes) {
    const path = posix.normalize(declared).replace(/(.)\/+$/, '$1');
    if (!path.startsWith('/') || path === '/' || RESERVED.some((r) => path === r || path.startsWith(`${r}/`)))
      throw new NebulaError(
        'INVALID_FUNCTION',
        `Function "${name}": the image ${image.image} declares VOLUME ${JSON.stringify(declared)}, where nebula-faas cannot give it a private tmpfs ` +
          `(not at /, nor inside ${RESERVED.join(', ')}); build it without that VOLUME.`,
      );
    tmpfs[path] = `rw,nosuid,nodev,exec,size=${size},nr_inodes=${Math.max(1024, size / 4096)},mode=1777`;
  }
  return tmpfs;
}

/**
 * Create options of a container that runs the function once (cold and prewarmed).
 * @throws NebulaError `INVALID_FUNCTION` when an image VOLUME cannot be given a tmpfs (see {@link volumeTmpfs}).
 */
export function onceOptions(
  fn: FunctionSpec,
  image: ImageRef,
  labels: Record<string, string>,
  user: string | undefined,
): Docker.ContainerCreateOptions {
  const memory = (fn.limits?.memoryMiB ?? 256) * MiB;
  const tmpfs = volumeTmpfs(fn.name, image, memory);
  const options: Docker.ContainerCreateOptions = {
    Image: image.image,
    Cmd: fn.grants?.args,
    Env: Object.entries(fn.grants?.env ?? {}).map(([k, v]) => `${k}=${v}`),
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
    OpenStdin: true,
    StdinOnce: true,
    Tty: false,
    NetworkDisabled: true,
    Labels: { ...labels, [FUNCTION_LABEL]: fn.name },
    HostConfig: {
      NetworkMode: 'none',
      Memory: memory,
      MemorySwap: memory,
      NanoCpus: Math.round((fn.limits?.cpus ?? 1) * 1e9),
      PidsLimit: fn.limits?.pids ?? 64,
      ReadonlyRootfs: true,
      SecurityOpt: ['no-new-privileges'],
      CapDrop: ['ALL'],
      IpcMode: 'private',
      ShmSize: SHM_BYTES,
      LogConfig: { Type: 'none', Config: {} },
      ...(Object.keys(tmpfs).length ? { Tmpfs: tmpfs } : {}),
    },
  };
  const u = userFor(image, user);
  if (u !== undefined) options.User = u;
  return options;
}

/**
 * Create options of a kept container: the same settings, with the supervisor as process 1
 * (from a read-only volume) running the image's own command for each invocation.
 */
export function warmOptions(
  once: Docker.ContainerCreateOptions,
  command: string[],
  supervisorVolume: string,
): Docker.ContainerCreateOptions {
  return {
    ...once,
    Entrypoint: [SUPERVISOR_PATH],
    Cmd: command,
    StdinOnce: false,
    Labels: { ...once.Labels, [MODE_LABEL]: 'warm' },
    HostConfig: {
      ...once.HostConfig,
      Mounts: [
        {
          Type: 'volume',
          Source: supervisorVolume,
          Target: SUPERVISOR_DIR,
          ReadOnly: true,
          VolumeOptions: { NoCopy: true } as never,
        },
      ],
    },
  };
}
