/**
 * The host's side of a kept container's supervisor (process 1, see supervisor/): frames over the
 * container's attached stdio; each invocation is one 'R' frame and ends with an 'X' frame
 * carrying the function's exit and its start and end times from the container's kernel clock,
 * then a 'C' frame once the supervisor has cleared the run.
 */
import { constants } from 'node:os';
import { Writable, type Duplex } from 'node:stream';
import type Docker from 'dockerode';
import { nowMs } from '../../clock.js';
import { NebulaError } from '../../errors.js';
import { by, sleep } from './deadline.js';
import type { CappedOutput } from './output.js';

/** How long the supervisor may take to report itself clean after a run, ms. */
const CLEAN_MS = 5000;

/** How a run ended, as the supervisor reports it. */
export interface ExitFrame {
  /** 0 exited, 1 killed by a signal, 2 could not start. */
  how: number;
  /** Exit code, signal number or errno. */
  value: number;
  /** Epoch ms (the container's CLOCK_REALTIME, the host's clock) of the function's start and end. */
  startAt: number;
  endAt: number;
  /** OOM kills in the container's memory cgroup during the run. */
  oomKills: number;
}

/** What {@link WarmContainer.run} resolves with: the exit; `ended` when the container stopped; `late` when nothing came by the deadline. */
export type RunEnd = { exit: ExitFrame } | { ended: true } | { late: true };

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** ns since the epoch (a big-endian i64) to epoch ms, keeping microseconds. */
const nsToMs = (b: Buffer, o: number) => Number(b.readBigInt64BE(o) / 1000n) / 1000;
export const errnoName = (n: number) => Object.entries(constants.errno).find(([, v]) => v === n)?.[0] ?? `errno ${n}`;

export class WarmContainer {
  /** Epoch ms of the end of its last invocation (for keep-alive and eviction). */
  lastUsedAt = nowMs();
  private buf: Buffer = Buffer.alloc(0);
  private readonly hello = deferred<void>();
  private end: ReturnType<typeof deferred<RunEnd>> | undefined;
  private clean = deferred<boolean>();
  private cleaning: Promise<boolean> = Promise.resolve(true);
  private out: CappedOutput | undefined;
  private err: CappedOutput | undefined;
  private dead = false;
  /** Resolves when the container's stdio closes: it stopped, or the engine connection broke. */
  private readonly ended: Promise<'ended'>;

  constructor(
    docker: Docker,
    readonly container: Docker.Container,
    private readonly stream: Duplex,
  ) {
    const frames = new Writable({ write: (b: Buffer, _e, done) => (this.onData(b), done()) });
    const diagnostics = new Writable({ write: (_b, _e, done) => done() });
    docker.modem.demuxStream(stream, frames, diagnostics);
    this.clean.resolve(true);
    this.ended = new Promise((resolve) => {
      const end = () => {
        this.dead = true;
        this.end?.resolve({ ended: true });
        this.clean.resolve(false);
        resolve('ended');
      };
      stream.on('end', end);
      stream.on('close', end);
      stream.on('error', end);
    });
  }

  /** Resolves when the container's stdio closes (it stopped, or the engine connection broke). */
  whenEnded(): Promise<unknown> {
    return this.ended;
  }

  /** True while the container can take another invocation. */
  get alive(): boolean {
    return !this.dead;
  }

  /** Waits for the supervisor's first frame, by `deadlineAt`. @throws DeadlineError, or an Error when the container stopped */
  async ready(deadlineAt: number): Promise<void> {
    const r = await by(deadlineAt, 'starting the warm-mode supervisor', () => Promise.race([this.hello.promise, this.ended]));
    if (r === 'ended') throw new NebulaError('RUNTIME_ERROR', 'The warm container stopped before its supervisor started.');
  }

  /** Resolves true once the supervisor has cleared the last run (every process killed), false if it did not in time. */
  cleaned(): Promise<boolean> {
    return this.cleaning;
  }

  /** Drops the connection to the supervisor; the container is not usable after (its owner removes it). */
  close(): void {
    this.dead = true;
    this.stream.destroy();
  }

  /**
   * Runs the function once with `input` on its stdin, its stdout and stderr into `out` and `err`;
   * resolves by `settleBy` (epoch ms) with how the run ended. Never rejects.
   */
  async run(input: string, out: CappedOutput, err: CappedOutput, settleBy: number): Promise<RunEnd> {
    if (this.dead) return { ended: true };
    this.out = out;
    this.err = err;
    this.end = deferred<RunEnd>();
    this.clean = deferred<boolean>();
    this.send('R', Buffer.from(input));
    const late = sleep(Math.max(0, settleBy - nowMs())).then(() => ({ late: true }) as const);
    const end = await Promise.race([this.end.promise, late]);
    this.out = this.err = undefined;
    this.lastUsedAt = nowMs();
    if ('late' in end) this.close();
    this.cleaning = this.awaitClean();
    return end;
  }

  /** Asks the supervisor to kill the running function and everything it started. */
  kill(): void {
    this.send('K');
  }

  private async awaitClean(): Promise<boolean> {
    const r = await Promise.race([this.clean.promise, sleep(CLEAN_MS).then(() => false)]);
    if (!r) this.close();
    return r;
  }

  private send(type: string, payload: Buffer = Buffer.alloc(0)): void {
    const head = Buffer.alloc(5);
    head[0] = type.charCodeAt(0);
    head.writeUInt32BE(payload.length, 1);
    this.stream.write(Buffer.concat([head, payload]));
  }

  private onData(b: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, b]) : b;
    while (this.buf.length >= 5) {
      const n = this.buf.readUInt32BE(1);
      if (this.buf.length < 5 + n) break;
      const type = String.fromCharCode(this.buf[0]!);
      const p = this.buf.subarray(5, 5 + n);
      this.buf = this.buf.subarray(5 + n);
      if (type === 'O') this.out?.add(p);
      else if (type === 'E') this.err?.add(p);
      else if (type === 'X' && p.length >= 28) {
        const exit = { how: p.readInt32BE(0), value: p.readInt32BE(4), startAt: nsToMs(p, 8), endAt: nsToMs(p, 16), oomKills: p.readUInt32BE(24) };
        this.end?.resolve({ exit });
      } else if (type === 'C') this.clean.resolve(true);
      else if (type === 'H') this.hello.resolve();
    }
  }
}
