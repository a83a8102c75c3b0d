/**
 * Container removal that survives an engine outage: a failed removal is retried with back-off
 * until the engine answers again, and containers whose owner is gone are swept at start-up and
 * on close (see owner.ts), so neither an outage nor a killed process leaves containers behind.
 */
import { randomUUID } from 'node:crypto';
import type Docker from 'dockerode';
import { nowMs } from '../../clock.js';
import { by, sleep } from './deadline.js';
import { CREATE_LABEL, LABEL, ownerGone, RUNTIME_LABEL } from './owner.js';

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
  /** Containers this runtime created and has not removed yet. */
  private readonly known = new Set<string>();
  /** Create calls under way (their CREATE_LABEL values). */
  private readonly creating = new Set<string>();
  private searching: Promise<void> | undefined;
  private unknownRounds = 0;

  constructor(
    private readonly docker: Docker,
    private readonly instance: string,
  ) {}

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
    p.then(
      () => {
        this.pending.delete(id);
        this.known.delete(id);
      },
      () => this.pending.delete(id),
    );
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
   * Creates a container by `deadlineAt`, and remembers it until it is removed. When the engine's
   * answer is lost (deadline, dropped connection) the container may exist all the same, with an
   * id nobody knows: containers of this runtime that it does not know (and that no pending create
   * may still claim) are then looked for and removed once the engine answers again.
   */
  async create(options: Docker.ContainerCreateOptions, deadlineAt: number, doing: string): Promise<Docker.Container> {
    const tag = randomUUID();
    this.creating.add(tag);
    try {
      const labelled = { ...options, Labels: { ...options.Labels, [CREATE_LABEL]: tag } };
      const c = await by(deadlineAt, doing, (abortSignal) => this.docker.createContainer({ ...labelled, abortSignal }));
      if (!c.id) throw new Error('The engine answered a create without an id.');
      this.known.add(c.id);
      return c;
    } catch (e) {
      if (status(e) === undefined || status(e)! < 400) this.sweepUnknown();
      throw e;
    } finally {
      this.creating.delete(tag);
    }
  }

  /** Starts (or asks for one more round of) the search for this runtime's unknown containers. */
  private sweepUnknown(): void {
    this.unknownRounds = 2;
    if (this.searching) return;
    this.searching = (async () => {
      const t0 = nowMs();
      let wait = RETRY_FIRST_MS;
      while (this.unknownRounds > 0 && nowMs() - t0 < GIVE_UP_MS) {
        try {
          const found = await by(nowMs() + CALL_MS, 'listing containers', (abortSignal) =>
            this.docker.listContainers({
              all: true,
              filters: { label: [`${RUNTIME_LABEL}=${this.instance}`] },
              abortSignal,
            } as Docker.ContainerListOptions),
          );
          for (const c of found)
            if (!this.known.has(c.Id) && !this.creating.has(c.Labels?.[CREATE_LABEL] ?? ''))
              this.remove(c.Id).catch(() => undefined);
          this.unknownRounds--;
          // A second look a little later: the engine may finish a create it got just before the outage.
          wait = 5000;
        } catch {
          wait = Math.min(wait * 2, RETRY_LAST_MS);
        }
        if (this.unknownRounds > 0) await sleep(wait);
      }
      this.searching = undefined;
    })();
  }

  /**
   * Removes every nebula-faas container whose owner is gone (owner.ts). Returns how many it found.
   * Engine errors are swallowed: a sweep is best effort and runs again at the next start-up or close.
   */
  async sweep(deadlineAt: number): Promise<number> {
    let list: Docker.ContainerInfo[];
    try {
      list = await by(deadlineAt, 'listing containers', (abortSignal) =>
        this.docker.listContainers({
          all: true,
          filters: { label: [LABEL] },
          abortSignal,
        } as Docker.ContainerListOptions),
      );
    } catch {
      return 0;
    }
    const gone = list.filter((c) => ownerGone(c.Labels));
    for (const c of gone) this.remove(c.Id).catch(() => undefined);
    return gone.length;
  }

  /**
   * Waits for pending removals until `deadlineAt`; returns how many are still pending then. It
   * keeps the process alive meanwhile (a removal waiting to retry does not): a script that awaits
   * close() must not end with its containers half removed.
   */
  async drain(deadlineAt: number): Promise<number> {
    while (this.pending.size > 0 && nowMs() < deadlineAt) {
      let timer: NodeJS.Timeout | undefined;
      const until = new Promise((resolve) => (timer = setTimeout(resolve, Math.max(0, deadlineAt - nowMs()))));
      await Promise.race([Promise.allSettled([...this.pending.values()]), until]);
      clearTimeout(timer);
    }
    return this.pending.size;
  }
}
