/**
 * The prewarmed containers of one function: a few created and attached ahead of time, each
 * started by one invocation and never shared; refilled in the background after each one.
 */
import type Docker from 'dockerode';
import { nowMs } from '../../clock.js';
import { arm, type Armed } from './arm.js';
import { ABORTED, sleep } from './deadline.js';
import { DEPLOY_CALL_MS } from './image.js';
import type { Reaper } from './reaper.js';

export class PrewarmedPool {
  private readonly slots: Array<{ armed?: Armed }> = [];
  /** Containers being created. */
  private readonly arming = new Set<Promise<unknown>>();
  private released = false;

  /**
   * @param size containers kept ready
   * @param options create options of the function's containers
   */
  constructor(
    private readonly docker: Docker,
    private readonly reaper: Reaper,
    private readonly options: Docker.ContainerCreateOptions,
    private readonly size: number,
    private readonly maxOutputBytes: number,
  ) {}

  /**
   * A container that is ready (created and attached), or undefined while they are being made (a
   * refill starts then; after a taken one's run, the caller refills, so it never competes with it).
   */
  take(): Armed | undefined {
    for (let i = 0; i < this.slots.length; i++) {
      const armed = this.slots[i]!.armed;
      if (!armed) continue;
      this.slots.splice(i, 1);
      if (!armed.stream.destroyed) return armed;
      void this.reaper.remove(armed.container.id).catch(() => undefined);
      i--;
    }
    this.refill();
    return undefined;
  }

  /** Keeps `size` containers created ahead, in the background. */
  refill(): void {
    const { docker, reaper, maxOutputBytes } = this;
    while (!this.released && this.slots.length < this.size) {
      const slot: { armed?: Armed } = {};
      this.slots.push(slot);
      const arming = arm(docker, this.options, maxOutputBytes, nowMs() + DEPLOY_CALL_MS, reaper).then(
        (a) => {
          if (a === ABORTED) return;
          if (this.released || !this.slots.includes(slot)) {
            a.stream.destroy();
            return void reaper.remove(a.container.id).catch(() => undefined);
          }
          slot.armed = a;
          // Its attach stream ends only when the engine connection breaks: drop it then.
          void a.ended.then(() => {
            const i = this.slots.indexOf(slot);
            if (i < 0) return;
            this.slots.splice(i, 1);
            void reaper.remove(a.container.id).catch(() => undefined);
          });
        },
        () => {
          const i = this.slots.indexOf(slot);
          if (i >= 0) this.slots.splice(i, 1);
        },
      );
      this.arming.add(arming);
      void arming.finally(() => this.arming.delete(arming));
    }
  }

  /** Removes its containers; waits up to 5 s for those still being created, to remove them too. */
  async release(): Promise<void> {
    this.released = true;
    for (const { armed } of this.slots.splice(0)) {
      if (!armed) continue;
      armed.stream.destroy();
      void this.reaper.remove(armed.container.id).catch(() => undefined);
    }
    await Promise.race([Promise.allSettled([...this.arming]), sleep(5000)]);
  }
}
