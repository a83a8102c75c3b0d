/**
 * A function deployed on Docker and its three ways to run: `cold` (a container made for the
 * invocation), `prewarmed` (one of a few containers created and attached ahead, used once) and
 * `warm` (a kept container whose supervisor runs the image's command again, see warm-container.ts).
 */
import type { Duplex } from 'node:stream';
import type Docker from 'dockerode';
import { nowMs } from '../../clock.js';
import type { Prepared, PreparedInfo, RunContext, RunOutcome } from '../runtime.js';
import type { CgroupPlan } from './cgroup.js';
import { arm, fire, type Armed } from './container.js';
import { ABORTED, by, sleep, untilAborted } from './deadline.js';
import { engineFailure, failed, stopError } from './failures.js';
import { DEPLOY_CALL_MS } from './image.js';
import { warmOptions } from './isolation.js';
import type { Reaper } from './reaper.js';
import { WarmContainer } from './warm-container.js';
import type { WarmPool } from './warm-pool.js';

/** What a prepared function shares with its runtime. */
export interface DockerParts {
  docker: Docker;
  reaper: Reaper;
  warm: WarmPool;
  /** The supervisor volume's name (made once per runtime). */
  supervisor(): Promise<string>;
  maxOutputBytes: number;
  prewarmedContainers: number;
  /** Each container's cgroup parent, for its CPU time and memory (set once the engine said which cgroups it uses). */
  cgroups: CgroupPlan | undefined;
}

export class PreparedDocker implements Prepared {
  private readonly prewarmed: Array<{ armed?: Armed }> = [];
  /** Prewarmed containers being created. */
  private readonly arming = new Set<Promise<unknown>>();
  private released = false;

  constructor(
    private readonly parts: DockerParts,
    private readonly once: Docker.ContainerCreateOptions,
    private readonly command: string[],
    readonly info: PreparedInfo,
    private readonly onRelease: () => void,
  ) {}

  run(input: string, ctx: RunContext): Promise<RunOutcome> {
    if (ctx.signal?.aborted) return Promise.resolve(failed(stopError('ABORTED', ctx, this.parts.maxOutputBytes)));
    return ctx.mode === 'warm' ? this.runWarm(input, ctx) : this.runOnce(input, ctx);
  }

  private async runOnce(input: string, ctx: RunContext): Promise<RunOutcome> {
    const { docker, reaper, maxOutputBytes } = this.parts;
    let armed = ctx.mode === 'prewarmed' ? this.takePrewarmed() : undefined;
    const sandbox = armed ? 'prewarmed' : 'fresh';
    if (!armed) {
      try {
        const a = await arm(docker, this.once, maxOutputBytes, ctx.deadlineAt, reaper, this.parts.cgroups, ctx.signal);
        if (a === ABORTED) return failed(stopError('ABORTED', ctx, maxOutputBytes));
        armed = a;
      } catch (e) {
        return failed(await engineFailure(docker, e, ctx, undefined));
      }
    }
    const outcome = await fire(docker, armed, input, ctx, maxOutputBytes);
    outcome.sandbox = sandbox;
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
    if (ctx.mode === 'prewarmed') this.refill();
    return outcome;
  }

  /** A prewarmed container that is ready (created and attached); none while they are being made. */
  private takePrewarmed(): Armed | undefined {
    for (let i = 0; i < this.prewarmed.length; i++) {
      const armed = this.prewarmed[i]!.armed;
      if (!armed) continue;
      this.prewarmed.splice(i, 1);
      if (!armed.stream.destroyed) return armed;
      void this.parts.reaper.remove(armed.container.id).catch(() => undefined);
      i--;
    }
    this.refill();
    return undefined;
  }

  /** Keeps `prewarmedContainers` containers created ahead, in the background. */
  private refill(): void {
    const { docker, reaper, maxOutputBytes, prewarmedContainers } = this.parts;
    while (!this.released && this.prewarmed.length < prewarmedContainers) {
      const slot: { armed?: Armed } = {};
      this.prewarmed.push(slot);
      const arming = arm(docker, this.once, maxOutputBytes, nowMs() + DEPLOY_CALL_MS, reaper, this.parts.cgroups).then(
        (a) => {
          if (a === ABORTED) return;
          if (this.released || !this.prewarmed.includes(slot)) {
            a.stream.destroy();
            return void reaper.remove(a.container.id).catch(() => undefined);
          }
          slot.armed = a;
          // Its attach stream ends only when the engine connection breaks: drop it then.
          void a.ended.then(() => {
            const i = this.prewarmed.indexOf(slot);
            if (i < 0) return;
            this.prewarmed.splice(i, 1);
            void reaper.remove(a.container.id).catch(() => undefined);
          });
        },
        () => {
          const i = this.prewarmed.indexOf(slot);
          if (i >= 0) this.prewarmed.splice(i, 1);
        },
      );
      this.arming.add(arming);
      void arming.finally(() => this.arming.delete(arming));
    }
  }

  private async runWarm(input: string, ctx: RunContext): Promise<RunOutcome> {
    const { docker, warm, maxOutputBytes } = this.parts;
    let wc = warm.take(this);
    // The last run in it may still be clearing up (usually well under a millisecond).
    while (wc && !(await wc.cleaned())) {
      warm.evict(wc);
      wc = warm.take(this);
    }
    const sandbox = wc ? 'reused' : 'fresh';
    const phases: Record<string, number> = {};
    let setupWaitMs = 0;
    if (!wc) {
      try {
        const t = nowMs();
        const volume = await by(ctx.deadlineAt, 'preparing the warm-mode supervisor', () => this.parts.supervisor());
        setupWaitMs = nowMs() - t;
        const spawned = await untilAborted(this.spawn(volume, ctx.deadlineAt, phases), ctx.signal, (late) =>
          warm.giveBack(late),
        );
        if (spawned === ABORTED) return failed(stopError('ABORTED', ctx, maxOutputBytes), phases);
        wc = spawned;
      } catch (e) {
        return failed(await engineFailure(docker, e, ctx, undefined), phases);
      }
    }
    const outcome = await wc.run(input, ctx, maxOutputBytes);
    outcome.sandbox = sandbox;
    outcome.phases = { ...phases, ...outcome.phases };
    if (setupWaitMs > 1) outcome.setupWaitMs = setupWaitMs;
    const kept = wc;
    const t = nowMs();
    warm.giveBack(kept);
    outcome.cleanup = kept.cleaned().then((clean) => {
      if (!clean) warm.evict(kept);
      return nowMs() - t;
    });
    return outcome;
  }

  /** Creates, attaches and starts a warm container, by `deadlineAt`; it joins the pool busy. */
  private async spawn(volume: string, deadlineAt: number, phases: Record<string, number>): Promise<WarmContainer> {
    const { docker, reaper, warm } = this.parts;
    let t = nowMs();
    const cgroup = this.parts.cgroups?.next();
    const options = warmOptions(this.once, this.command, volume);
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
      wc = new WarmContainer(docker, container, stream, this.command, cgroup);
      warm.add(this, wc);
      t = nowMs();
      await by(deadlineAt, 'starting a warm container', (abortSignal) => container.start({ abortSignal }));
      phases.start = nowMs() - t;
      t = nowMs();
      await wc.ready(deadlineAt);
      phases.ready = nowMs() - t;
      return wc;
    } catch (e) {
      if (wc) warm.giveBack(wc, false);
      else
        void reaper
          .remove(container.id)
          .then(() => cgroup?.remove())
          .catch(() => undefined);
      throw e;
    }
  }

  /**
   * Removes its prewarmed and kept containers (in the background: the runtime's close() waits for
   * the removals); waits up to 5 s for prewarmed containers still being created, to remove them too.
   */
  async release(): Promise<void> {
    this.released = true;
    this.parts.warm.drop(this);
    for (const { armed } of this.prewarmed.splice(0)) {
      if (!armed) continue;
      armed.stream.destroy();
      void this.parts.reaper.remove(armed.container.id).catch(() => undefined);
    }
    await Promise.race([Promise.allSettled([...this.arming]), sleep(5000)]);
    this.onRelease();
  }
}
