/**
 * The kept containers of warm mode: idle ones per function, reused most recent first, removed
 * after `keepAliveMs` idle, at most `max` alive in all (the least recently used idle one makes
 * room), all removed on close.
 */
import type { WarmContainer } from './warm-container.js';

export class WarmPool {
  private readonly idle = new Map<object, WarmContainer[]>();
  private readonly expiry = new Map<WarmContainer, NodeJS.Timeout>();
  private readonly owner = new Map<WarmContainer, object>();
  private readonly dropped = new WeakSet<object>();
  /** Functions whose idle containers stay until removed by `dropIdle` (a keep-alive policy decides). */
  private readonly held = new WeakSet<object>();
  /** Containers made ahead and not used yet. */
  private readonly ahead = new WeakSet<WarmContainer>();
  private closed = false;

  /**
   * @param max containers kept alive at most, idle and busy together
   * @param keepAliveMs idle time after which a container is removed, ms
   * @param discard removes a container (in the background)
   */
  constructor(
    private readonly max: number,
    private readonly keepAliveMs: number,
    private readonly discard: (wc: WarmContainer) => void,
  ) {}

  /** Containers alive (idle and busy). */
  get size(): number {
    return this.owner.size;
  }

  /** An idle container of `fn` to reuse, or undefined. */
  take(fn: object): WarmContainer | undefined {
    const list = this.idle.get(fn);
    while (list?.length) {
      const wc = list.pop()!;
      clearTimeout(this.expiry.get(wc));
      this.expiry.delete(wc);
      if (wc.alive) return wc;
      this.forget(wc);
      this.discard(wc);
    }
    return undefined;
  }

  /** Registers a new container of `fn` (busy), evicting the least recently used idle one when at the cap. */
  add(fn: object, wc: WarmContainer): void {
    this.owner.set(wc, fn);
    // A container that stops (or whose engine connection breaks) is removed at once, not at expiry.
    void wc.whenEnded().then(() => this.evict(wc));
    this.trim();
  }

  /** Takes a container back after its run (still clearing up, see WarmContainer.cleaned): kept idle when alive and under the cap, else removed. */
  giveBack(wc: WarmContainer, healthy = true): void {
    const fn = this.owner.get(wc);
    if (!fn || this.closed || this.dropped.has(fn) || !healthy || !wc.alive) {
      this.forget(wc);
      this.discard(wc);
      return;
    }
    const list = this.idle.get(fn) ?? [];
    list.push(wc);
    this.idle.set(fn, list);
    if (this.held.has(fn)) return this.trim();
    const timer = setTimeout(() => {
      this.expiry.delete(wc);
      const l = this.idle.get(fn);
      const i = l?.indexOf(wc) ?? -1;
      if (i < 0) return;
      l!.splice(i, 1);
      this.forget(wc);
      this.discard(wc);
    }, this.keepAliveMs);
    timer.unref();
    this.expiry.set(wc, timer);
    this.trim();
  }

  /** Removes a container now, idle or busy. */
  evict(wc: WarmContainer): void {
    if (!this.owner.has(wc)) return;
    for (const list of this.idle.values()) {
      const i = list.indexOf(wc);
      if (i >= 0) list.splice(i, 1);
    }
    clearTimeout(this.expiry.get(wc));
    this.expiry.delete(wc);
    this.forget(wc);
    this.discard(wc);
  }

  /** Removes the idle containers of `fn`; its busy ones are removed when given back. */
  drop(fn: object): void {
    for (const wc of this.idle.get(fn) ?? []) {
      clearTimeout(this.expiry.get(wc));
      this.expiry.delete(wc);
      this.forget(wc);
      this.discard(wc);
    }
    this.idle.delete(fn);
    this.dropped.add(fn);
  }

  /** From now on the idle containers of `fn` stay until `dropIdle` (no keep-alive timer). */
  hold(fn: object): void {
    this.held.add(fn);
    for (const wc of this.idle.get(fn) ?? []) {
      clearTimeout(this.expiry.get(wc));
      this.expiry.delete(wc);
    }
  }

  /** Removes the idle containers of `fn` now; later ones are kept as before. */
  dropIdle(fn: object): void {
    for (const wc of this.idle.get(fn) ?? []) {
      clearTimeout(this.expiry.get(wc));
      this.expiry.delete(wc);
      this.forget(wc);
      this.discard(wc);
    }
    this.idle.delete(fn);
  }

  /** Idle containers of `fn`. */
  idleCount(fn: object): number {
    return this.idle.get(fn)?.length ?? 0;
  }

  /** Keeps a container made ahead idle for `fn`; `wasAhead` tells when it is first taken. */
  giveAhead(wc: WarmContainer): void {
    this.ahead.add(wc);
    this.giveBack(wc);
  }

  /** True (once) when `wc` was made ahead and not used before. */
  wasAhead(wc: WarmContainer): boolean {
    return this.ahead.delete(wc);
  }

  /** Removes every idle container; busy ones are removed when given back. */
  close(): void {
    this.closed = true;
    for (const fn of [...this.idle.keys()]) this.drop(fn);
  }

  private forget(wc: WarmContainer): void {
    this.owner.delete(wc);
  }

  /** Evicts least recently used idle containers while over the cap. */
  private trim(): void {
    while (this.owner.size > this.max) {
      let oldest: { fn: object; wc: WarmContainer } | undefined;
      for (const [fn, list] of this.idle)
        for (const wc of list) if (!oldest || wc.lastUsedAt < oldest.wc.lastUsedAt) oldest = { fn, wc };
      if (!oldest) return;
      const list = this.idle.get(oldest.fn)!;
      list.splice(list.indexOf(oldest.wc), 1);
      clearTimeout(this.expiry.get(oldest.wc));
      this.expiry.delete(oldest.wc);
      this.forget(oldest.wc);
      this.discard(oldest.wc);
    }
  }
}
