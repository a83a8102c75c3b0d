/**
 * The pool of worker threads that run wasm instances off the host's event loop. A run that
 * passes its timeout (or is aborted) terminates its worker, which is replaced at once; runs
 * queued behind it move to the replacement. Idle workers are unref'd so the host can exit.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { nowMs } from '../../clock.js';
import { RuntimeUnavailableError } from '../../errors.js';
import { packageRoot } from '../../paths.js';
import type { DoneMessage, FromWorker, LoadMessage, RunMessage } from './protocol.js';

/** How a run ended, as the pool sees it. `offsetMs` converts worker times to ours. */
export type PoolResult =
  | { kind: 'done'; msg: DoneMessage; offsetMs: number }
  | { kind: 'timeout' | 'aborted' | 'crashed'; at: number; message?: string };

interface Pending {
  msg: RunMessage;
  resolve: (r: PoolResult) => void;
  cleanup: () => void;
}

function workerFile(): string {
  const file = join(packageRoot(), 'dist', 'runtimes', 'wasm', 'worker.js');
  if (!existsSync(file))
    throw new RuntimeUnavailableError(`The wasm worker script ${file} is missing: run \`npm run build\` in the nebula-faas package.`);
  return file;
}

class Slot {
  worker!: Worker;
  offsetMs = 0;
  ready!: Promise<void>;
  readonly pending = new Map<number, Pending>();

  constructor(private readonly pool: WorkerPool) {
    this.spawn();
  }

  spawn(): void {
    const worker = new Worker(workerFile());
    this.worker = worker;
    this.ready = new Promise<void>((resolve, reject) => {
      const pings: Array<{ rtt: number; offset: number }> = [];
      worker.on('message', (m: FromWorker) => {
        if (m.type === 'ready' || m.type === 'pong') {
          // Clock hand-shake: the worker's clock minus ours, from the ping with the shortest round trip.
          if (m.type === 'pong') {
            const back = nowMs();
            pings.push({ rtt: back - m.t, offset: m.workerT - (m.t + back) / 2 });
          }
          if (pings.length < 5) return worker.postMessage({ type: 'ping', t: nowMs() });
          this.offsetMs = pings.sort((a, b) => a.rtt - b.rtt)[0]!.offset;
          for (const fn of this.pool.loaded.values()) worker.postMessage(fn);
          this.idle();
          return resolve();
        }
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        p.cleanup();
        this.idle();
        p.resolve({ kind: 'done', msg: m, offsetMs: this.offsetMs });
      });
      worker.on('error', (e) => {
        reject(e);
        this.fail(`the wasm worker failed: ${e.message}`);
      });
      worker.on('exit', () => {
        if (this.worker === worker && !this.pool.closed) this.fail('the wasm worker exited unexpectedly');
      });
    });
    this.ready.catch(() => undefined);
  }

  /** Ends every pending run as crashed and starts a new worker. */
  private fail(message: string): void {
    const runs = [...this.pending.values()];
    this.pending.clear();
    for (const p of runs) {
      p.cleanup();
      p.resolve({ kind: 'crashed', at: nowMs(), message });
    }
    if (!this.pool.closed) this.spawn();
  }

  /** Stops the worker running `id` (timeout/abort); the runs queued behind it move to a new one. */
  kill(id: number, kind: 'timeout' | 'aborted'): void {
    const p = this.pending.get(id);
    if (!p) return;
    const at = nowMs();
    this.pending.delete(id);
    p.cleanup();
    const requeue = [...this.pending.values()];
    this.pending.clear();
    const old = this.worker;
    this.spawn();
    void old.terminate();
    p.resolve({ kind, at });
    for (const q of requeue) this.post(q);
  }

  post(p: Pending): void {
    this.pending.set(p.msg.id, p);
    this.worker.ref();
    void this.ready.then(() => {
      if (this.pending.get(p.msg.id) === p) this.worker.postMessage(p.msg);
    });
  }

  private idle(): void {
    if (this.pending.size === 0) this.worker.unref();
  }
}

/** A fixed set of worker threads; runs go to the one with the fewest pending runs. */
export class WorkerPool {
  readonly loaded = new Map<string, LoadMessage>();
  closed = false;
  private slots: Slot[] = [];
  private nextId = 1;

  constructor(private readonly size: number) {}

  private start(): void {
    if (this.slots.length === 0) for (let i = 0; i < this.size; i++) this.slots.push(new Slot(this));
  }

  /** Sends a compiled function to every worker (and to workers started later). */
  load(fn: LoadMessage): void {
    this.start();
    this.loaded.set(fn.key, fn);
    for (const s of this.slots) void s.ready.then(() => s.worker.postMessage(fn));
  }

  /** Resolves when every worker has started and holds the loaded functions. */
  async ready(): Promise<void> {
    this.start();
    await Promise.all(this.slots.map((s) => s.ready));
  }

  drop(key: string): void {
    this.loaded.delete(key);
    for (const s of this.slots) void s.ready.then(() => s.worker.postMessage({ type: 'drop', key }));
  }

  run(key: string, input: string, opts: { warm: boolean; timeoutMs: number; signal?: AbortSignal }): Promise<PoolResult> {
    this.start();
    const slot = this.slots.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    const id = this.nextId++;
    return new Promise<PoolResult>((resolve) => {
      if (opts.signal?.aborted) return resolve({ kind: 'aborted', at: nowMs() });
      const timer = setTimeout(() => slot.kill(id, 'timeout'), opts.timeoutMs);
      const onAbort = () => slot.kill(id, 'aborted');
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      const cleanup = () => {
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
      };
      slot.post({ msg: { type: 'run', id, key, input, warm: opts.warm }, resolve, cleanup });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
    this.slots = [];
  }
}
