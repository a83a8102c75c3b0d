/**
 * The host's side of a warm container: the supervisor (process 1, see supervisor/) speaks frames
 * over the container's attached stdio; each invocation is one 'R' frame and ends with an 'X'
 * frame carrying the function's exit and its start and end times from the container's kernel clock.
 */
import { constants } from 'node:os';
import { Writable, type Duplex } from 'node:stream';
import type Docker from 'dockerode';
import { nowMs } from '../../clock.js';
import { NebulaError } from '../../errors.js';
import { unmeasured } from '../../record.js';
import { containerResources, type ContainerCgroup } from './cgroup.js';
import type { RunContext, RunOutcome } from '../runtime.js';
import { by, DeadlineError, sleep } from './deadline.js';
import { engineFailure, failed, GRACE_MS, stopError, type StopReason } from './failures.js';
import { CappedOutput } from './output.js';

/** How long the supervisor may take to report itself clean after a run, ms. */
const CLEAN_MS = 5000;

interface ExitFrame {
  /** 0 exited, 1 killed by a signal, 2 could not start. */
  how: number;
  /** Exit code, signal number or errno. */
  value: number;
  startAt: number;
  endAt: number;
  oomKills: number;
}

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** ns since the epoch (a big-endian i64) to epoch ms, keeping microseconds. */
const nsToMs = (b: Buffer, o: number) => Number(b.readBigInt64BE(o) / 1000n) / 1000;
const errnoName = (n: number) => Object.entries(constants.errno).find(([, v]) => v === n)?.[0] ?? `errno ${n}`;

export class WarmContainer {
  /** Epoch ms of the end of its last invocation (for keep-alive and eviction). */
  lastUsedAt = nowMs();
  private buf: Buffer = Buffer.alloc(0);
  private readonly hello = deferred<void>();
  private exit: ReturnType<typeof deferred<ExitFrame>> | undefined;
  private clean = deferred<void>();
  private cleaning: Promise<boolean> = Promise.resolve(true);
  private out: CappedOutput | undefined;
  private err: CappedOutput | undefined;
  private dead = false;
  /** Resolves when the container's stdio closes: it stopped, or the engine connection broke. */
  private readonly ended: Promise<'ended'>;

  constructor(
    private readonly docker: Docker,
    readonly container: Docker.Container,
    private readonly stream: Duplex,
    private readonly command: string[],
    /** Its own cgroup parent: a run's CPU time is the difference across the run (none when the engine's cgroups are not readable). */
    readonly cgroup?: ContainerCgroup,
  ) {
    const frames = new Writable({
      write: (b: Buffer, _e, done) => {
        this.onData(b);
        done();
      },
    });
    const diagnostics = new Writable({ write: (_b, _e, done) => done() });
    docker.modem.demuxStream(stream, frames, diagnostics);
    this.clean.resolve();
    this.ended = new Promise((resolve) => {
      const end = () => {
        this.dead = true;
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
    const r = await by(deadlineAt, 'starting the warm-mode supervisor', () =>
      Promise.race([this.hello.promise, this.ended]),
    );
    if (r === 'ended')
      throw new NebulaError('RUNTIME_ERROR', 'The warm container stopped before its supervisor started.');
  }

  /** Resolves true once the supervisor has cleared the last run (every process killed), false if it did not in time. */
  cleaned(): Promise<boolean> {
    return this.cleaning;
  }

  private async awaitClean(): Promise<boolean> {
    const r = await Promise.race([
      this.clean.promise.then(() => 'clean' as const),
      this.ended,
      sleep(CLEAN_MS).then(() => 'late' as const),
    ]);
    if (r !== 'clean') this.close();
    return r === 'clean';
  }

  /** Drops the connection to the supervisor; the container is not usable after (its owner removes it). */
  close(): void {
    this.dead = true;
    this.stream.destroy();
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
      else if (type === 'X' && p.length >= 28)
        this.exit?.resolve({
          how: p.readInt32BE(0),
          value: p.readInt32BE(4),
          startAt: nsToMs(p, 8),
          endAt: nsToMs(p, 16),
          oomKills: p.readUInt32BE(24),
        });
      else if (type === 'C') this.clean.resolve();
      else if (type === 'H') this.hello.resolve();
    }
  }

  /**
   * Runs the function once in this container; never throws. Settles by `deadlineAt + GRACE_MS`
   * even when the engine or the supervisor stops answering (the container is then given up).
   */
  async run(input: string, ctx: RunContext, maxOutputBytes: number): Promise<RunOutcome> {
    const t0 = nowMs();
    const settleBy = ctx.deadlineAt + GRACE_MS;
    const phases: Record<string, number> = {};
    if (ctx.signal?.aborted) return failed(stopError('ABORTED', ctx, maxOutputBytes), phases, 'reused');
    const out = (this.out = new CappedOutput(maxOutputBytes));
    const err = (this.err = new CappedOutput(maxOutputBytes));
    const exit = (this.exit = deferred<ExitFrame>());
    this.clean = deferred<void>();
    let stopped: StopReason | undefined;
    const stop = (why: StopReason) => {
      if (stopped) return;
      stopped = why;
      this.send('K');
    };
    out.onOverflow = () => stop('OUTPUT_LIMIT');
    const timer = setTimeout(() => stop('TIMEOUT'), Math.max(0, ctx.deadlineAt - nowMs()));
    const onAbort = () => stop('ABORTED');
    ctx.signal?.addEventListener('abort', onAbort, { once: true });
    const before = this.cgroup?.read();
    const cpuSinceAt = nowMs();
    try {
      this.send('R', Buffer.from(input));
      const late = sleep(Math.max(0, settleBy - nowMs())).then(() => 'late' as const);
      const x = await Promise.race([exit.promise, this.ended, late]);
      phases.wait = nowMs() - t0;
      if (x === 'late') {
        this.close();
        return failed(
          await engineFailure(
            this.docker,
            new DeadlineError('waiting for a function in a warm container'),
            ctx,
            stopped,
          ),
          phases,
        );
      }
      if (x === 'ended') return await this.died(ctx, stopped, phases, maxOutputBytes);
      const outcome: RunOutcome = {
        exitCode: stopped || x.how === 2 ? null : x.how === 0 ? x.value : 128 + x.value,
        stdout: out.text(),
        stderr: err.text(),
        functionStartAt: x.startAt,
        functionEndAt: x.endAt,
        phases,
        compiled: false,
        sandbox: 'reused',
        // The supervisor has reaped the run's processes: their usage is charged. Memory: the container's peak since it started.
        resources: this.cgroup
          ? containerResources(this.cgroup.read(), cpuSinceAt, this.cgroup.version, before)
          : unmeasured('the container has no cgroup of its own to read (docs/timing.md#resources)'),
      };
      if (out.truncated) outcome.stdoutTruncated = true;
      if (err.truncated) outcome.stderrTruncated = true;
      if (stopped) outcome.error = stopError(stopped, ctx, maxOutputBytes);
      else if (x.how === 2)
        outcome.error = new NebulaError(
          'RUNTIME_ERROR',
          `The image's command ${JSON.stringify(this.command)} could not be started: ${errnoName(x.value)}.`,
        );
      else if (x.how === 1 && x.value === 9 && x.oomKills > 0)
        outcome.error = new NebulaError(
          'MEMORY_LIMIT',
          'The function went over the container memory limit and was killed (limits.memoryMiB).',
        );
      return outcome;
    } finally {
      clearTimeout(timer);
      ctx.signal?.removeEventListener('abort', onAbort);
      this.out = this.err = this.exit = undefined;
      this.lastUsedAt = nowMs();
      this.cleaning = this.awaitClean();
    }
  }

  /** The container stopped during a run: the supervisor itself was killed (memory) or the engine went away. */
  private async died(
    ctx: RunContext,
    stopped: StopReason | undefined,
    phases: Record<string, number>,
    maxOutputBytes: number,
  ): Promise<RunOutcome> {
    try {
      const info = await by(ctx.deadlineAt + GRACE_MS, 'inspecting a warm container', (abortSignal) =>
        this.container.inspect({ abortSignal }),
      );
      if (stopped) return failed(stopError(stopped, ctx, maxOutputBytes), phases);
      if (info.State.OOMKilled)
        return failed(
          new NebulaError(
            'MEMORY_LIMIT',
            'The container went over its memory limit and was killed (limits.memoryMiB).',
          ),
          phases,
        );
      return failed(
        new NebulaError(
          'RUNTIME_ERROR',
          `The warm container stopped during the invocation (exit code ${info.State.ExitCode}).`,
        ),
        phases,
      );
    } catch (e) {
      return failed(await engineFailure(this.docker, e, ctx, stopped), phases);
    }
  }
}
