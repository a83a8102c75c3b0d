/**
 * The host's side of a kept container's supervisor (process 1, see supervisor/): frames over the
 * container's attached stdio, in one strict order. Each run is an 'R' frame with a sequence
 * number; the supervisor answers with the run's output ('O', 'E'), one 'X' frame carrying that
 * number, the function's exit and its start and end times from the container's kernel clock,
 * then one 'C' frame once the container is clean again (or says why it is not). Any other frame,
 * or one out of this order, breaks the link: the container is never used again.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:os';
import { Writable, type Duplex } from 'node:stream';
import type Docker from 'dockerode';
import { nowMs } from '../../clock.js';
import { NebulaError } from '../../errors.js';
import type { ContainerCgroup } from './cgroup.js';
import { by, sleep } from './deadline.js';
import type { CappedOutput } from '../capped-output.js';

/** The protocol version this host speaks (the supervisor's 'H' frame). */
const SUPERVISOR_VERSION = 2;
/** How long the supervisor may take to report itself clean after a run, ms (it gives up at 2 s). */
const CLEAN_MS = 5000;
/** The largest frame the supervisor sends (output goes in pieces of 64 KiB). */
const MAX_FRAME_BYTES = 65536;

/** How a run ended, as the supervisor reports it. */
interface ExitFrame {
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

/**
 * What {@link WarmContainer.run} resolves with: the exit; `ended` when the container stopped;
 * `late` when nothing came by the deadline; `broken` when the supervisor broke the protocol.
 */
export type RunEnd = { exit: ExitFrame } | { ended: true } | { late: true } | { broken: string };

type State = 'starting' | 'idle' | 'running' | 'cleaning' | 'broken';

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** ns since the epoch (a big-endian i64) to epoch ms, keeping microseconds. */
const nsToMs = (b: Buffer, o: number) => Number(b.readBigInt64BE(o) / 1000n) / 1000;
/** A frame's type byte, printable in messages. */
const typeName = (t: number) =>
  t >= 0x21 && t <= 0x7e ? `'${String.fromCharCode(t)}'` : `0x${t.toString(16).padStart(2, '0')}`;
export const errnoName = (n: number) => Object.entries(constants.errno).find(([, v]) => v === n)?.[0] ?? `errno ${n}`;

export class WarmContainer {
  /** Epoch ms of the end of its last invocation (for keep-alive and eviction). */
  lastUsedAt = nowMs();
  private state: State = 'starting';
  /** The last run's number; the first is random, so that no frame of another container's run can pass. */
  private seq = randomBytes(4).readUInt32BE();
  private buf: Buffer = Buffer.alloc(0);
  private readonly hello = deferred<void>();
  private end: ReturnType<typeof deferred<RunEnd>> | undefined;
  private clean = deferred<boolean>();
  private cleaning: Promise<boolean> = Promise.resolve(true);
  private out: CappedOutput | undefined;
  private err: CappedOutput | undefined;
  private dead = false;
  /** Why the link broke, for the record of the run it broke. */
  private fault: string | undefined;
  /** Resolves when the container's stdio closes: it stopped, or the engine connection broke. */
  private readonly ended: Promise<'ended'>;

  constructor(
    docker: Docker,
    readonly container: Docker.Container,
    private readonly stream: Duplex,
    /** Its own cgroup parent (a run's CPU time is the difference across the run), or why it has none. */
    readonly cgroup?: ContainerCgroup | string,
  ) {
    const frames = new Writable({
      write: (b: Buffer, _e, done) => {
        this.onData(b);
        done();
      },
    });
    // The supervisor writes nothing on stderr: anything there breaks the protocol too.
    const stray = new Writable({
      write: (b: Buffer, _e, done) => {
        this.broke(`wrote on stderr: ${JSON.stringify(b.toString('utf8', 0, 200))}`);
        done();
      },
    });
    docker.modem.demuxStream(stream, frames, stray);
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

  /** Waits for the supervisor's first frame, by `deadlineAt`. @throws DeadlineError, or a NebulaError when the container stopped or spoke wrongly */
  async ready(deadlineAt: number): Promise<void> {
    const r = await by(deadlineAt, 'starting the warm-mode supervisor', () =>
      Promise.race([this.hello.promise, this.ended]),
    );
    if (this.fault)
      throw new NebulaError(
        'SANDBOX_PROTOCOL',
        `The warm container's supervisor ${this.fault}; the container was retired.`,
      );
    if (r === 'ended')
      throw new NebulaError('RUNTIME_ERROR', 'The warm container stopped before its supervisor started.');
  }

  /**
   * Resolves true once the supervisor has cleared the last run and proved the container as it
   * started; false when it could not (the container must be retired) or did not say in time.
   */
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
    if (this.state !== 'idle' || this.dead) return this.fault ? { broken: this.fault } : { ended: true };
    this.seq = (this.seq + 1) >>> 0;
    this.state = 'running';
    this.out = out;
    this.err = err;
    this.end = deferred<RunEnd>();
    this.clean = deferred<boolean>();
    const head = Buffer.alloc(4);
    head.writeUInt32BE(this.seq);
    this.send('R', Buffer.concat([head, Buffer.from(input)]));
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
    if (this.state !== 'running') return;
    const seq = Buffer.alloc(4);
    seq.writeUInt32BE(this.seq);
    this.send('K', seq);
  }

  private async awaitClean(): Promise<boolean> {
    const r = await Promise.race([this.clean.promise, sleep(CLEAN_MS).then(() => false)]);
    if (!r) this.close();
    return r;
  }

  private send(type: string, payload: Buffer): void {
    const head = Buffer.alloc(5);
    head[0] = type.charCodeAt(0);
    head.writeUInt32BE(payload.length, 1);
    this.stream.write(Buffer.concat([head, payload]));
  }

  /** The link is broken: nothing more is read, the run in progress (if any) ends so, the container is retired. */
  private broke(why: string): void {
    if (this.state === 'broken') return;
    this.state = 'broken';
    this.fault = why;
    this.end?.resolve({ broken: why });
    this.clean.resolve(false);
    this.close();
  }

  private onData(b: Buffer): void {
    if (this.state === 'broken') return;
    this.buf = this.buf.length ? Buffer.concat([this.buf, b]) : b;
    while (this.buf.length >= 5 && this.fault === undefined) {
      const n = this.buf.readUInt32BE(1);
      if (n > MAX_FRAME_BYTES) return this.broke(`announced a ${typeName(this.buf[0]!)} frame of ${n} bytes`);
      if (this.buf.length < 5 + n) break;
      const type = this.buf[0]!;
      const p = this.buf.subarray(5, 5 + n);
      this.buf = this.buf.subarray(5 + n);
      this.onFrame(type, p);
    }
  }

  private onFrame(type: number, p: Buffer): void {
    const seq = p.length >= 4 ? p.readUInt32BE(0) : -1;
    const expected = `while ${this.state === 'running' ? `run ${this.seq} was running` : this.state}`;
    if (type === 0x48 /* H */ && this.state === 'starting' && p.length === 4) {
      const version = p.readUInt32BE(0);
      if (version !== SUPERVISOR_VERSION)
        return this.broke(`speaks protocol version ${version}, not ${SUPERVISOR_VERSION}`);
      this.state = 'idle';
      return this.hello.resolve();
    }
    if ((type === 0x4f /* O */ || type === 0x45) /* E */ && this.state === 'running') {
      (type === 0x4f ? this.out : this.err)?.add(p);
      return;
    }
    if (type === 0x58 /* X */ && this.state === 'running' && p.length === 32 && seq === this.seq) {
      const how = p.readInt32BE(4);
      if (how < 0 || how > 2) return this.broke(`reported an exit of unknown kind ${how}`);
      this.state = 'cleaning';
      const exit = {
        how,
        value: p.readInt32BE(8),
        startAt: nsToMs(p, 12),
        endAt: nsToMs(p, 20),
        oomKills: p.readUInt32BE(28),
      };
      return this.end?.resolve({ exit });
    }
    if (type === 0x43 /* C */ && this.state === 'cleaning' && p.length === 8 && seq === this.seq) {
      this.state = 'idle';
      return this.clean.resolve(p.readUInt32BE(4) === 0);
    }
    const which = seq >= 0 && (type === 0x58 || type === 0x43) ? ` for run ${seq}` : '';
    this.broke(`sent a ${typeName(type)} frame${which} of ${p.length} bytes ${expected}`);
  }
}
