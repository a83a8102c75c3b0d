/**
 * DockerRuntime: functions as containers on a Docker engine (dockerode), isolated by default, in
 * three modes: cold (a container per invocation), prewarmed (created ahead, used once) and warm
 * (kept containers reused by successive invocations, through a supervisor the package supplies).
 */
import { checkKnownKeys, keysOf } from '../../known-keys.js';
import type Docker from 'dockerode';
import { nowMs } from '../../clock.js';
import { NebulaError, UsageError } from '../../errors.js';
import type { ArtifactInfo, FunctionSpec } from '../../types.js';
import type { CloseOptions, Prepared, Removal, Runtime } from '../runtime.js';
import { removeImages, removeVolumes } from './clean.js';
import { by } from './deadline.js';
import { connect, engineError, ping, type DockerConnection } from './engine.js';
import { DEPLOY_CALL_MS, ensureImage } from './image.js';
import { commandOf, onceOptions } from './isolation.js';
import { CgroupPlan } from './cgroup.js';
import { closeInstance, openInstance, ownerLabels } from './owner.js';
import { PreparedDocker, type DockerParts } from './prepared.js';
import { Reaper } from './reaper.js';
import { ensureSupervisorVolume, supervisorImageOf } from './supervisor-volume.js';
import { WarmPool } from './warm-pool.js';

/** Options of {@link DockerRuntime}. */
export interface DockerRuntimeOptions {
  /** dockerode connection settings (socketPath, or host/port/protocol with ca/cert/key). Default: DOCKER_HOST or the default socket. */
  connection?: DockerConnection;
  /** Containers kept created and attached (not started) per function for `prewarmed` mode. Default 2. */
  prewarmedContainers?: number;
  /** How long a `warm` container is kept idle before it is removed, ms. Default 60 000. */
  keepAliveMs?: number;
  /** Most `warm` containers kept alive at once, all functions together. Default {@link DEFAULT_MAX_WARM_CONTAINERS}. */
  maxWarmContainers?: number;
  /** Largest stdout and stderr kept per invocation, bytes; more stdout is `OUTPUT_LIMIT`. Default 1 MiB. */
  maxOutputBytes?: number;
  /**
   * The user functions run as. Default: the image's own user when it is not root, else
   * `65534:65534` (nobody). `'image'`: whatever the image says, root included. Or any `uid:gid`.
   */
  user?: string;
  /**
   * The cgroup under which each container gets a cgroup parent of its own, from which its CPU
   * time and peak memory are read after it exits (engines with the cgroupfs driver; see
   * docs/timing.md#resources). An absolute cgroup path. Default `/nebula-faas`.
   */
  cgroupParent?: string;
}

/** Most `warm` containers kept alive at once unless `maxWarmContainers` says otherwise. */
export const DEFAULT_MAX_WARM_CONTAINERS = 8;

/** How long close() waits for removals before leaving them to the next sweep, ms. */
const CLOSE_MS = 10_000;

/**
 * Runs functions as containers: any image whose entrypoint reads the input on stdin and writes
 * the result on stdout. Nothing is pulled: images come from the engine, a `docker save` archive,
 * or a static binary wrapped in a `FROM scratch` image built through the engine's API.
 */
export class DockerRuntime implements Runtime {
  readonly kind = 'docker' as const;
  /** This instance's id: the `nebula-faas.runtime` label of every container it creates. */
  readonly instanceId = openInstance();
  private parts: DockerParts | undefined;
  private reachable: Promise<void> | undefined;
  private arch: Promise<string> | undefined;
  private volume: Promise<string> | undefined;
  private cgroups: Promise<CgroupPlan> | undefined;
  private readonly prepared = new Set<PreparedDocker>();
  /** Images this runtime built or loaded (not those given by name), for `close({ removeImages })`. */
  private readonly made = new Map<string, number | undefined>();
  private closed = false;

  /**
   * @throws UsageError `INVALID_ARGUMENT` for an option that is not one, naming the nearest, or a
   *   `cgroupParent` that is not an absolute cgroup path.
   */
  constructor(readonly options: DockerRuntimeOptions = {}) {
    checkKnownKeys(
      options,
      keysOf<DockerRuntimeOptions>({
        connection: true,
        prewarmedContainers: true,
        keepAliveMs: true,
        maxWarmContainers: true,
        maxOutputBytes: true,
        user: true,
        cgroupParent: true,
      }),
      'DockerRuntime options',
    );
    const cg = options.cgroupParent;
    if (cg !== undefined && (typeof cg !== 'string' || !/^(\/[A-Za-z0-9_.-]+)+$/.test(cg) || /\/\.\.?(\/|$)/.test(cg)))
      throw new UsageError(
        'INVALID_ARGUMENT',
        `DockerRuntime cgroupParent must be an absolute cgroup path such as "/nebula-faas", got ${JSON.stringify(cg)}.`,
      );
  }

  /** Connects (once), and on the first answer sweeps containers left by processes that are gone. */
  private engine(): Promise<DockerParts> {
    if (this.closed)
      return Promise.reject(new NebulaError('CLOSED', 'This DockerRuntime is closed; create a new one.'));
    if (!this.parts) {
      const docker = connect(this.options.connection);
      const reaper = new Reaper(docker, this.instanceId);
      const warm = new WarmPool(
        this.options.maxWarmContainers ?? DEFAULT_MAX_WARM_CONTAINERS,
        this.options.keepAliveMs ?? 60_000,
        (wc) => {
          wc.close();
          void reaper
            .remove(wc.container.id)
            .then(() => (typeof wc.cgroup === 'object' ? wc.cgroup.remove() : undefined))
            .catch(() => undefined);
        },
      );
      this.parts = {
        docker,
        reaper,
        warm,
        supervisor: () => this.supervisor(),
        maxOutputBytes: this.options.maxOutputBytes ?? 1024 * 1024,
        prewarmedContainers: this.options.prewarmedContainers ?? 2,
        cgroups: undefined,
      };
    }
    const parts = this.parts;
    if (!this.reachable) {
      const r = ping(parts.docker).then(() => void parts.reaper.sweep(nowMs() + DEPLOY_CALL_MS));
      r.catch(() => (this.reachable = undefined));
      this.reachable = r;
    }
    return this.reachable.then(() => parts);
  }

  /** The engine's architecture in Docker's names (amd64, arm64, ...). */
  private engineArch(docker: Docker): Promise<string> {
    const version = docker.version.bind(docker) as unknown as (o: object) => Promise<Docker.DockerVersion>;
    this.arch ??= by(nowMs() + DEPLOY_CALL_MS, 'reading its version', (abortSignal) => version({ abortSignal })).then(
      (v) => v.Arch,
      (e: unknown) => {
        this.arch = undefined;
        throw engineError(e, 'reading its version');
      },
    );
    return this.arch;
  }

  /** How containers get their cgroup parents (asked of the engine once; parents left by dead processes are removed then). */
  private cgroupPlan(docker: Docker): Promise<CgroupPlan> {
    this.cgroups ??= CgroupPlan.of(docker, this.options.cgroupParent ?? '/nebula-faas').then((plan) => {
      void plan.sweep().catch(() => undefined);
      return plan;
    });
    return this.cgroups;
  }

  private supervisor(): Promise<string> {
    const parts = this.parts!;
    this.volume ??= this.engineArch(parts.docker)
      .then((arch) => ensureSupervisorVolume(parts.docker, arch, ownerLabels(this.instanceId), parts.reaper))
      .catch((e: unknown) => {
        this.volume = undefined;
        throw e;
      });
    return this.volume;
  }

  /**
   * Gets the image into the engine (building or loading it when needed) and fills the prewarmed pool.
   * @throws NebulaError `RUNTIME_UNAVAILABLE` (no engine), `INVALID_FUNCTION` (no such image, bad
   * archive, a binary that cannot run in a FROM scratch image on this engine, nothing to run).
   */
  async prepare(fn: FunctionSpec): Promise<Prepared> {
    if (!fn.docker) throw new UsageError('INVALID_ARGUMENT', `Function "${fn.name}" has no docker source.`);
    const parts = await this.engine();
    parts.cgroups = await this.cgroupPlan(parts.docker);
    const ref = await ensureImage(parts.docker, fn.name, fn.docker, await this.engineArch(parts.docker));
    if (!('image' in fn.docker)) this.made.set(ref.image, ref.sizeBytes);
    const command = commandOf(fn, ref);
    if (command.length === 0)
      throw new NebulaError(
        'INVALID_FUNCTION',
        `Function "${fn.name}": the image ${ref.image} has no ENTRYPOINT or CMD and grants.args is empty: nothing to run.`,
      );
    const info: ArtifactInfo = { image: ref.image, imageId: ref.imageId };
    if (ref.sizeBytes !== undefined) info.sizeBytes = ref.sizeBytes;
    if (ref.digest) info.digest = ref.digest;
    if (ref.path) info.path = ref.path;
    const once = onceOptions(fn, ref, ownerLabels(this.instanceId), this.options.user);
    const p = new PreparedDocker(parts, once, command, info, () => this.prepared.delete(p));
    this.prepared.add(p);
    // Ready before the first warm invocation; a failure is reported by that invocation.
    this.supervisor().catch(() => undefined);
    return p;
  }

  /**
   * Removes every container this runtime made (prewarmed, kept, and any whose creation answered
   * too late) and those of processes that are gone; resolves within about 10 s even when the
   * engine does not answer (what is left then is removed by the next runtime on this host).
   * With `removeImages`, then removes the images it built or loaded and the warm-mode
   * supervisor's volume and image, and lists them (one still in use by a container, perhaps of
   * another nebula-faas on the same engine, stays and says so).
   */
  async close(options: CloseOptions = {}): Promise<Removal[]> {
    if (this.closed) return [];
    this.closed = true;
    closeInstance(this.instanceId);
    await Promise.allSettled([...this.prepared].map((p) => p.release()));
    const parts = this.parts;
    if (!parts) return [];
    parts.warm.close();
    const deadline = nowMs() + CLOSE_MS;
    await parts.reaper.sweep(deadline);
    const left = await parts.reaper.drain(deadline);
    await parts.cgroups?.removeBase();
    if (left > 0)
      process.emitWarning(
        `nebula-faas: ${left} container(s) could not be removed yet (the Docker engine does not answer); ` +
          'they are retried in the background and swept by the next DockerRuntime on this host.',
      );
    if (!options.removeImages) return [];
    const removed: Removal[] = [];
    const volume = await this.volume?.catch(() => undefined);
    if (volume) {
      removed.push(...(await removeVolumes(parts.docker, [volume])));
      this.made.set(supervisorImageOf(volume), undefined);
    }
    removed.push(
      ...(await removeImages(
        parts.docker,
        [...this.made].map(([name, sizeBytes]) => ({ name, ...(sizeBytes !== undefined ? { sizeBytes } : {}) })),
      )),
    );
    return removed;
  }
}
