/**
 * A function deployed on Docker: its create options, command and pools, and the one place a run
 * enters the runtime. The run's context goes on to the file of its mode and stays there:
 * once.ts (cold, prewarmed) or warm-run.ts (warm).
 */
import type Docker from 'dockerode';
import { nowMs } from '../../clock.js';
import type { ArtifactInfo } from '../../types.js';
import type { Prepared, RunContext, RunOutcome, SandboxKeeper } from '../runtime.js';
import type { CgroupPlan } from './cgroup.js';
import { runOnce } from './once.js';
import { PrewarmedPool } from './prewarmed-pool.js';
import type { Reaper } from './reaper.js';
import { prewarm, runWarm, type WarmSide } from './warm-run.js';
import type { WarmPool } from './warm-pool.js';

/** What a prepared function shares with its runtime. */
export interface DockerParts {
  docker: Docker;
  reaper: Reaper;
  warm: WarmPool;
  /** The supervisor volume's name (made once per runtime). */
  supervisor: () => Promise<string>;
  maxOutputBytes: number;
  prewarmedContainers: number;
  /** Each container's cgroup parent, for its CPU time and memory (set once the engine said which cgroups it uses). */
  cgroups: CgroupPlan | undefined;
}

/** How long a pre-warm may take to create and start its container, ms. */
const PREWARM_DEADLINE_MS = 60_000;

export class PreparedDocker implements Prepared {
  private readonly prewarmed: PrewarmedPool;
  private readonly warm: WarmSide;

  constructor(
    private readonly parts: DockerParts,
    private readonly options: Docker.ContainerCreateOptions,
    command: string[],
    readonly info: ArtifactInfo,
    private readonly onRelease: () => void,
  ) {
    const { docker, reaper, maxOutputBytes, cgroups } = parts;
    this.prewarmed = new PrewarmedPool(docker, reaper, options, parts.prewarmedContainers, maxOutputBytes, cgroups);
    this.warm = {
      docker,
      reaper,
      pool: parts.warm,
      owner: this,
      supervisor: parts.supervisor,
      maxOutputBytes,
      options,
      command,
      cgroups,
    };
  }

  /** Its kept containers, for keep-alive policies: held, made ahead, removed, counted in the runtime's warm pool. */
  readonly keeper: SandboxKeeper = {
    hold: () => this.parts.warm.hold(this),
    prewarm: () => prewarm(this.warm, nowMs() + PREWARM_DEADLINE_MS),
    drop: async () => this.parts.warm.dropIdle(this),
    idle: () => this.parts.warm.idleCount(this),
  };

  run(input: string, ctx: RunContext): Promise<RunOutcome> {
    if (ctx.mode === 'warm') return runWarm(this.warm, input, ctx);
    const { docker, reaper, maxOutputBytes, cgroups } = this.parts;
    const pool = ctx.mode === 'prewarmed' ? this.prewarmed : undefined;
    return runOnce({ docker, reaper, maxOutputBytes, options: this.options, pool, cgroups }, input, ctx);
  }

  /**
   * Removes its prewarmed and kept containers (in the background: the runtime's close() waits for
   * the removals); waits up to 5 s for prewarmed containers still being created, to remove them too.
   */
  async release(): Promise<void> {
    this.parts.warm.drop(this);
    await this.prewarmed.release();
    this.onRelease();
  }
}
