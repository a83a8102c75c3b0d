/**
 * Container removal that survives an engine outage: a failed removal is retried with back-off
 * until the engine answers again, and containers whose owner is gone are swept at start-up and
 * on close (see owner.ts), so neither an outage nor a killed process leaves containers behind.
 */
import type Docker from 'dockerode';
import { nowMs } from '../../clock.js';
import { by, sleep } from './deadline.js';
import { LABEL, ownerGone } from './owner.js';

/** One removal call's own deadline, ms. */
const CALL_MS = 10_000;
/** Back-off between retries, ms: doubles from the first to the last. */
const RETRY_FIRST_MS = 250;
const RETRY_LAST_MS = 15_000;
/** A removal is retried for this long, ms; after that the next sweep on this host removes it. */
const GIVE_UP_MS = 10 * 60_000;

const status = (e: unknown) => (e as { statusCode?: number })?.statusCode;

export class Reaper {
  private readonly pending = new Map<string, Promise<number>>();

  constructor(private readonly docker: Docker) {}

  /** Containers whose removal has not succeeded yet. */
  get size(): number {
    return this.pending.size;
  }

  /**
   * Removes a container (killing it first) and its anonymous volumes; resolves with the ms it took
   * once it is gone, retrying through engine outages. Rejects only after {@link GIVE_UP_MS}.
   */
  remove(id: string): Promise<number> {
    let p = this.pending.get(id);
    if (p) return p;
    p = this.attempt(id);
    this.pending.set(id, p);
    const done = () => this.pending.delete(id);
    p.then(done, done);
    return p;
  }

  private async attempt(id: string): Promise<number> {
    const t0 = nowMs();
    let wait = RETRY_FIRST_MS;
    for (;;) {
      try {
        await by(nowMs() + CALL_MS, 'removing a container', (abortSignal) =>
          this.docker.getContainer(id).remove({ force: true, v: true, abortSignal }),
        );
        return nowMs() - t0;
      } catch (e) {
        if (status(e) === 404) return nowMs() - t0;
        // 409: a removal is already in progress; look again later.
        if (nowMs() - t0 > GIVE_UP_MS) throw e;
      }
      await sleep(wait);
      wait = Math.min(wait * 2, RETRY_LAST_MS);
    }
  }

  /**
   * Removes every nebula-faas container whose owner is gone (owner.ts). Returns how many it found.
   * Engine errors are swallowed: a sweep is best effort and runs again at the next start-up or close.
   */
  async sweep(deadlineAt: number): Promise<number> {
    let list: Docker.ContainerInfo[];
    try {
      list = await by(deadlineAt, 'listing containers', (abortSignal) =>
        this.docker.listContainers({ all: true, filters: { label: [LABEL] }, abortSignal } as Docker.ContainerListOptions),
      );
    } catch {
      return 0;
    }
    const gone = list.filter((c) => ownerGone(c.Labels));
    for (const c of gone) this.remove(c.Id).catch(() => undefined);
    return gone.length;
  }

  /** Waits for pending removals until `deadlineAt`; returns how many are still pending then. */
  async drain(deadlineAt: number): Promise<number> {
    while (this.pending.size > 0 && nowMs() < deadlineAt)
      await Promise.race([Promise.allSettled([...this.pending.values()]), sleep(Math.max(0, deadlineAt - nowMs()))]);
    return this.pending.size;
  }
}
