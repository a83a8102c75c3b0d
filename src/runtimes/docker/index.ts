/**
 * DockerRuntime: functions as containers on a Docker engine (dockerode), isolated by default,
 * one container per invocation, with a small pool of pre-created containers for `warm` mode.
 */
import type Docker from 'dockerode';
import { nowMs } from '../../clock.js';
import { NebulaError } from '../../errors.js';
import type { FunctionSpec } from '../../types.js';
import type { Prepared, PreparedInfo, RunContext, RunOutcome, Runtime } from '../runtime.js';
import { arm, fire, remove, type Armed } from './container.js';
import { connect, ping, type DockerConnection } from './engine.js';
import { ensureImage } from './image.js';

/** Options of {@link DockerRuntime}. */
export interface DockerRuntimeOptions {
  /** dockerode connection settings (socketPath, or host/port/protocol with ca/cert/key). Default: DOCKER_HOST or the default socket. */
  connection?: DockerConnection;
  /** Containers kept created (not started) per function for `warm` mode. Default 2. */
  warmContainers?: number;
  /** Largest stdout and stderr kept per invocation, bytes. Default 1 MiB. */
  maxOutputBytes?: number;
}

const MiB = 1024 * 1024;
/** Label on every container nebula-faas creates, so leftovers can be found (`docker ps -a -f label=nebula-faas`). */
export const CONTAINER_LABEL = 'nebula-faas';

function createOptions(fn: FunctionSpec, image: string): Docker.ContainerCreateOptions {
  const memory = (fn.limits?.memoryMiB ?? 256) * MiB;
  return {
    Image: image,
    Cmd: fn.grants?.args,
    Env: Object.entries(fn.grants?.env ?? {}).map(([k, v]) => `${k}=${v}`),
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
    OpenStdin: true,
    StdinOnce: true,
    Tty: false,
    NetworkDisabled: true,
    Labels: { [CONTAINER_LABEL]: '1', 'nebula-faas.function': fn.name },
    HostConfig: {
      NetworkMode: 'none',
      Memory: memory,
      MemorySwap: memory,
      NanoCpus: Math.round((fn.limits?.cpus ?? 1) * 1e9),
      PidsLimit: fn.limits?.pids ?? 64,
      ReadonlyRootfs: true,
      SecurityOpt: ['no-new-privileges'],
      CapDrop: ['ALL'],
      LogConfig: { Type: 'none', Config: {} },
    },
  };
}

/**
 * Runs functions as containers: any image whose entrypoint reads the input on stdin and writes
 * the result on stdout. Nothing is pulled: images come from the engine, a `docker save` archive,
 * or a static binary wrapped in a `FROM scratch` image built through the engine's API.
 */
export class DockerRuntime implements Runtime {
  readonly kind = 'docker' as const;
  private docker: Docker | undefined;
  private reachable: Promise<void> | undefined;
  private readonly prepared = new Set<PreparedDocker>();

  constructor(readonly options: DockerRuntimeOptions = {}) {}

  private engine(): Promise<Docker> {
    this.docker ??= connect(this.options.connection);
    const docker = this.docker;
    this.reachable ??= ping(docker);
    this.reachable.catch(() => (this.reachable = undefined));
    return this.reachable.then(() => docker);
  }

  /**
   * Gets the image into the engine (building or loading it when needed) and fills the warm pool.
   * @throws NebulaError `RUNTIME_UNAVAILABLE` (no engine), `INVALID_FUNCTION` (no such image, bad archive or binary).
   */
  async prepare(fn: FunctionSpec): Promise<Prepared> {
    if (!fn.docker) throw new NebulaError('INVALID_ARGUMENT', `Function "${fn.name}" has no docker source.`);
    const docker = await this.engine();
    const ref = await ensureImage(docker, fn.name, fn.docker);
    const info: PreparedInfo = { image: ref.image };
    if (ref.sizeBytes !== undefined) info.sizeBytes = ref.sizeBytes;
    if (ref.digest) info.digest = ref.digest;
    const p = new PreparedDocker(docker, createOptions(fn, ref.image), info, this.options.warmContainers ?? 2, this.options.maxOutputBytes ?? MiB, () =>
      this.prepared.delete(p),
    );
    this.prepared.add(p);
    return p;
  }

  /** Removes pooled containers and waits for pending removals. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.prepared].map((p) => p.release()));
  }
}

class PreparedDocker implements Prepared {
  private readonly pool: Array<Promise<Armed>> = [];
  private readonly removals = new Set<Promise<number>>();
  private released = false;

  constructor(
    private readonly docker: Docker,
    private readonly create: Docker.ContainerCreateOptions,
    readonly info: PreparedInfo,
    private readonly warmSize: number,
    private readonly maxOutputBytes: number,
    private readonly onRelease: () => void,
  ) {}

  async run(input: string, ctx: RunContext): Promise<RunOutcome> {
    let armed: Armed;
    let warmHit = false;
    try {
      const pooled = ctx.mode !== 'cold' ? this.pool.shift() : undefined;
      if (pooled) {
        armed = await pooled;
        warmHit = true;
      } else {
        armed = await arm(this.docker, this.create, this.maxOutputBytes);
      }
    } catch (e) {
      const now = nowMs();
      return { exitCode: null, stdout: '', stderr: '', functionStartAt: now, functionEndAt: now, phases: {}, compiled: false, sandbox: 'fresh', error: e as NebulaError };
    }
    if (ctx.mode !== 'cold') this.refill();
    const outcome = await fire(armed, input, ctx);
    if (warmHit) {
      outcome.sandbox = 'prewarmed';
      // Created and attached ahead of time: not part of this invocation.
      delete outcome.phases.create;
      delete outcome.phases.attach;
    }
    outcome.cleanup = this.track(remove(armed.container));
    return outcome;
  }

  /** Keeps `warmSize` containers created ahead, in the background. */
  private refill(): void {
    while (!this.released && this.pool.length < this.warmSize) {
      const p = arm(this.docker, this.create, this.maxOutputBytes);
      p.catch(() => {
        const i = this.pool.indexOf(p);
        if (i >= 0) this.pool.splice(i, 1);
      });
      this.pool.push(p);
    }
  }

  private track(p: Promise<number>): Promise<number> {
    this.removals.add(p);
    p.catch(() => undefined).finally(() => this.removals.delete(p));
    return p;
  }

  async release(): Promise<void> {
    this.released = true;
    const pooled = this.pool.splice(0);
    await Promise.allSettled(
      pooled.map(async (p) => {
        const a = await p;
        a.stream.destroy();
        await this.track(remove(a.container));
      }),
    );
    await Promise.allSettled([...this.removals]);
    this.onRelease();
  }
}
