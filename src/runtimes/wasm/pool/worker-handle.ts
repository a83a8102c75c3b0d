/**
 * One worker thread of the pool, from start to exit: started with a controlled `execArgv` (never
 * the host's: `--input-type`, `--eval`, `--import` preloads and the like would break or re-run in
 * it), restarted when it exits, and after a failed start retried with exponential back-off
 * instead of at once. A worker that started (its self-test ran) and then died under a function is
 * that function's failure, not a failed start: it is replaced at once and the back-off is clear.
 * Every worker event is handled; nothing here can reject unobserved.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { nowMs } from '../../../clock.js';
import { packageRoot } from '../../../paths.js';
import type { FromWorker, OutputMessage, ToWorker, WorkerData } from './protocol.js';
import { Busy, WorkerWord, type SlotTable } from './shared-slots.js';

/** First retry after a failed start, then doubled up to {@link BACKOFF_MAX_MS}. */
const BACKOFF_FIRST_MS = 100;
const BACKOFF_MAX_MS = 30_000;
/** A worker that dies with no function to blame sooner than this after starting counts as a failed start. */
const STABLE_MS = 1000;
const SHORT_CHORE_MS = 0.02;

function workerFile(): string | null {
  const file = join(packageRoot(), 'dist', 'runtimes', 'wasm', 'worker.js');
  return existsSync(file) ? file : null;
}

export interface HandleEvents {
  ready(h: WorkerHandle): void;
  message(h: WorkerHandle, m: FromWorker): void;
  /**
   * The worker is gone (exited, crashed, was stopped or failed to start). `crashed`: it died on its
   * own after starting (its busy words say under which function), not stopped by the pool.
   */
  gone(h: WorkerHandle, reason: string, crashed: boolean): void;
}

export interface HandleOptions {
  table: SlotTable;
  /** Workers in the pool. */
  workers: number;
  spinMs: number;
  maxOutputBytes: number;
  heapMiB: number;
}

export class WorkerHandle {
  state: 'starting' | 'ready' | 'stopping' | 'backoff' | 'closed' = 'starting';
  /** Consecutive failed starts. */
  failures = 0;
  /** Why the last worker in this place stopped or could not start. */
  lastError = '';
  /** Slots held by runs stopped at their deadline: free once this worker is gone. */
  zombies: number[] = [];
  private worker: Worker | null = null;
  private port: MessagePort | null = null;
  private readyAt = 0;
  private retry: NodeJS.Timeout | undefined;
  private readonly outputs = new Map<number, OutputMessage>();

  constructor(
    readonly index: number,
    private readonly options: HandleOptions,
    private readonly events: HandleEvents,
  ) {}

  spawn(): void {
    this.retry = undefined;
    const t = this.options.table;
    Atomics.store(t.i32, t.worker(this.index, WorkerWord.BUSY), Busy.IDLE);
    const file = workerFile();
    if (!file)
      return this.failed(
        'the worker script dist/runtimes/wasm/worker.js is missing: run `npm run build` in the nebula-faas package',
      );
    const { port1, port2 } = new MessageChannel();
    const data: WorkerData = {
      sab: this.options.table.sab,
      port: port2,
      index: this.index,
      workers: this.options.workers,
      spinMs: this.options.spinMs,
      maxOutputBytes: this.options.maxOutputBytes,
    };
    let worker: Worker;
    try {
      worker = new Worker(file, {
        execArgv: [],
        argv: [],
        workerData: data,
        transferList: [port2],
        resourceLimits: { maxOldGenerationSizeMb: this.options.heapMiB },
      });
    } catch (e) {
      return this.failed(`a worker thread could not be created: ${(e as Error).message}`);
    }
    this.state = 'starting';
    this.worker = worker;
    this.port = port1;
    this.outputs.clear();
    let error = '';
    worker.on('message', (m: FromWorker) => {
      if (m.type === 'ready') {
        this.state = 'ready';
        this.readyAt = nowMs();
        // It started and ran its self-test: whatever failed before, starting works.
        this.failures = 0;
        this.events.ready(this);
      } else this.events.message(this, m);
    });
    worker.on('error', (e) => (error = `${(e as { code?: string }).code ?? e.name}: ${e.message}`));
    // After the listeners: adding a 'message' listener refs the worker's port again.
    worker.unref();
    worker.on('exit', (code) => {
      port1.close();
      if (this.worker !== worker) return;
      this.worker = null;
      this.port = null;
      const reason = error || `the worker thread exited with code ${code}`;
      const { state, readyAt } = this;
      this.readyAt = 0;
      if (state === 'closed') return;
      const t = this.options.table;
      const blamed = Atomics.load(t.i32, t.worker(this.index, WorkerWord.BUSY)) !== Busy.IDLE;
      // A death before the self-test ran, or one with no function to blame right after it, is a failed start.
      if (state === 'starting' || (state === 'ready' && !blamed && nowMs() - readyAt < STABLE_MS))
        return this.failed(reason);
      this.lastError = reason;
      this.events.gone(this, reason, state === 'ready');
      this.spawn();
    });
  }

  private failed(reason: string): void {
    this.failures++;
    this.lastError = reason;
    this.state = 'backoff';
    const delay = Math.min(BACKOFF_FIRST_MS * 2 ** (this.failures - 1), BACKOFF_MAX_MS);
    this.events.gone(this, reason, false);
    if (this.state !== 'backoff') return; // closed meanwhile
    this.retry = setTimeout(() => this.spawn(), delay);
    this.retry.unref();
  }

  /** Stops the worker (a run past its deadline); it is started again once gone. */
  terminate(): void {
    if (!this.worker || this.state === 'stopping') return;
    this.state = 'stopping';
    this.worker.terminate().catch(() => undefined);
  }

  /** Sends a control message, wakes the worker to read it. */
  post(msg: ToWorker): void {
    if (!this.port || this.state !== 'ready') return;
    this.port.postMessage(msg);
    const { i32 } = this.options.table;
    Atomics.add(i32, this.options.table.worker(this.index, WorkerWord.CONTROL), 1);
    const wake = this.options.table.worker(this.index, WorkerWord.WAKE);
    Atomics.add(i32, wake, 1);
    Atomics.notify(i32, wake);
  }

  /** Large outputs of run `runId`, sent through the port. */
  takeOutput(runId: number): OutputMessage | undefined {
    for (let m = this.port && receiveMessageOnPort(this.port); m; m = receiveMessageOnPort(this.port!)) {
      const out = m.message as OutputMessage;
      this.outputs.set(out.runId, out);
    }
    const out = this.outputs.get(runId);
    this.outputs.delete(runId);
    return out;
  }

  /**
   * True when the worker will look for work within microseconds: awake, and polling or busy with a
   * chore that began less than {@link SHORT_CHORE_MS} ago (making an instance ahead takes ~10 us);
   * waking another costs the host a futex call and that worker ~10-20 us to wake.
   */
  idleAwake(now: number): boolean {
    const t = this.options.table;
    if (this.state !== 'ready' || Atomics.load(t.i32, t.worker(this.index, WorkerWord.PARKED)) !== 0) return false;
    const busy = Atomics.load(t.i32, t.worker(this.index, WorkerWord.BUSY));
    return (
      busy === Busy.IDLE || (busy === Busy.INSTANTIATING && now - t.f64[t.busySince(this.index)]! < SHORT_CHORE_MS)
    );
  }

  /** Wakes the worker if it sleeps; false when it was not parked. */
  wake(): boolean {
    const { i32 } = this.options.table;
    if (
      this.state !== 'ready' ||
      Atomics.compareExchange(i32, this.options.table.worker(this.index, WorkerWord.PARKED), 1, 0) !== 1
    )
      return false;
    const wake = this.options.table.worker(this.index, WorkerWord.WAKE);
    Atomics.add(i32, wake, 1);
    Atomics.notify(i32, wake);
    return true;
  }

  async close(): Promise<void> {
    this.state = 'closed';
    clearTimeout(this.retry);
    const w = this.worker;
    this.worker = null;
    this.port?.close();
    if (w) await w.terminate().catch(() => undefined);
  }
}
