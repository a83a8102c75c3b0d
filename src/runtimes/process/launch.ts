/**
 * One launch of the helper (helper/nebula-exec.c): a private working directory, the helper
 * spawned in a session of its own with a clean environment (it makes the run's cgroups while
 * parked), parked until its go line; then the lines it reports (start, fail, end) and the
 * function's capped stdout and stderr.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { nowMs } from '../../clock.js';
import { CappedOutput } from '../capped-output.js';
import { cgroupArgs, reapCgroups, type CgroupSetup } from './cgroup.js';

/** What the helper needs to start a function. */
export interface LaunchPlan {
  helper: string;
  /** Absolute path of the function's binary. */
  binary: string;
  /** argv[0] and the granted arguments. */
  argv: string[];
  /** The granted environment: nothing else is passed. */
  env: Record<string, string>;
  /** Parent folder of the private working directory. */
  tmpDir: string;
  maxOutputBytes: number;
  /** Where each run's cgroups are made (none: the memory limit bounds each process alone). */
  cgroups: CgroupSetup;
  /** The memory limit of the run's cgroup, bytes: `limits.memoryMiB`. */
  memoryMaxBytes: number;
}

/** The lines the helper wrote; times are CLOCK_MONOTONIC ns. */
export interface HelperReport {
  /** `cgroups`: `-` (none asked), `ok`, or `<step>:<errno>` of the step that failed. */
  start?: { pid: number; ns: bigint; limitErrnos: number[]; cgroups: string };
  /** errno of a failed execve. */
  fail?: number;
  /** The function's own figures (wait4: itself and the descendants it waited for), then its cgroups' for the whole tree. */
  end?: { status: number; ns: bigint; maxRssKiB: number; userUs: number; systemUs: number; tree: TreeUsage };
}

/** What the run's cgroups counted for the whole process tree; a figure is absent when the cgroup could not give it. */
interface TreeUsage {
  userUs?: number;
  systemUs?: number;
  peakBytes?: number;
  /** Processes the kernel killed at the memory limit. */
  oomKills?: number;
}

/** Keeps the first `max` bytes of a stream, drains the rest. */
function capture(stream: Readable, max: number): CappedOutput {
  const out = new CappedOutput(max);
  stream.on('data', (b: Buffer) => out.add(b));
  stream.on('error', () => undefined);
  return out;
}

/** ms the function's stdout/stderr may stay open after the helper exited (a descendant that left its process group). */
const CLOSE_GRACE_MS = 500;

/** A spawned helper. */
export class Launch {
  readonly child: ChildProcess;
  readonly stdout: CappedOutput;
  readonly stderr: CappedOutput;
  readonly report: HelperReport = {};
  /** The private working directory (removed by {@link Launch.cleanup}). */
  readonly dir: string;
  /** ms: creating the private working directory; spawning the helper (fork and exec, until it runs). */
  readonly phases: { dir: number; spawn: number };
  /** Set when spawning failed or the helper died before reporting. */
  spawnError: Error | undefined;
  /**
   * Resolves once the run's result is in: the helper reported the end (or a failed exec) and the
   * function's output closed; or the helper exited, and its output closed or had its grace. The
   * helper removes the run's cgroups after reporting: clean-up, not part of the result.
   */
  readonly done: Promise<void>;
  /** Resolves once the helper has exited. */
  private readonly gone: Promise<void>;
  private reported: () => void = () => undefined;
  private readonly host: Socket;
  private lines = '';
  private exited = false;

  constructor(readonly plan: LaunchPlan) {
    const t0 = nowMs();
    this.dir = mkdtempSync(join(plan.tmpDir, 'nebula-process-'));
    const t1 = nowMs();
    try {
      // detached: a session (and process group) of its own, with no controlling terminal.
      this.child = spawn(plan.helper, [...cgroupArgs(plan.cgroups, plan.memoryMaxBytes), plan.binary, ...plan.argv], {
        cwd: this.dir,
        env: plan.env,
        stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
        detached: true,
      });
    } catch (e) {
      rmSync(this.dir, { recursive: true, force: true });
      throw e;
    }
    this.phases = { dir: t1 - t0, spawn: nowMs() - t1 };
    this.host = this.child.stdio[3] as Socket;
    this.stdout = capture(this.child.stdout!, plan.maxOutputBytes);
    this.stderr = capture(this.child.stderr!, plan.maxOutputBytes);
    this.child.stdin!.on('error', () => undefined);
    this.host.on('error', () => undefined);
    this.host.setEncoding('latin1');
    this.host.on('data', (s: string) => this.read(s));
    const exited = new Promise<void>((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.once('error', (e) => {
        this.spawnError = e;
        resolve();
      });
    }).then(() => {
      this.exited = true;
    });
    const closed = (s: { once(event: 'close', f: () => void): unknown }) =>
      new Promise<void>((resolve) => s.once('close', () => resolve()));
    const report = new Promise<void>((resolve) => (this.reported = resolve));
    this.gone = exited;
    this.done = Promise.race([
      Promise.all([report, closed(this.child.stdout!), closed(this.child.stderr!)]).then(() => undefined),
      exited.then(() => Promise.race([closed(this.child), delay(CLOSE_GRACE_MS)])),
    ]);
  }

  /** True while the helper has not exited (its pid is still its own). */
  get alive(): boolean {
    return !this.exited && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Hands the function its input and releases the parked helper. */
  go(input: string, line: string): void {
    this.child.stdin!.end(input);
    this.host.write(line);
  }

  /** Asks the helper to kill the function's process group (it then reports the end as usual). */
  stop(): void {
    if (this.alive) this.child.kill('SIGTERM');
  }

  /** The last resort when the helper does not answer: SIGKILL to its whole session's group. */
  kill(): void {
    if (!this.alive) return;
    try {
      process.kill(-this.child.pid!, 'SIGKILL');
    } catch {
      this.child.kill('SIGKILL');
    }
  }

  /** Parked helpers must not keep the host's event loop alive; one in use must. */
  hold(on: boolean): void {
    for (const s of [this.child, this.child.stdin, this.child.stdout, this.child.stderr, this.host] as Array<{
      ref?(): void;
      unref?(): void;
    } | null>) {
      if (on) s?.ref?.();
      else s?.unref?.();
    }
  }

  /**
   * Releases a parked helper (end of file on its socket), then removes the directory, and the
   * cgroups of a helper that was killed before it could. Resolves with the ms it took.
   */
  async cleanup(): Promise<number> {
    const t = nowMs();
    if (this.alive) {
      this.hold(true); // a parked helper: the wait for its exit must keep the event loop alive
      this.host.end();
      if (!this.report.end) this.stop();
      const gone = await Promise.race([this.gone.then(() => true), delay(2000).then(() => false)]);
      if (!gone) this.kill();
    }
    for (const s of [this.child.stdin, this.child.stdout, this.child.stderr, this.host] as Array<
      Readable | Writable | null
    >)
      s?.destroy();
    const reap = this.child.signalCode !== null ? reapCgroups(this.plan.helper, this.plan.cgroups.parents) : undefined;
    await Promise.all([rm(this.dir, { recursive: true, force: true, maxRetries: 2 }), reap]);
    return nowMs() - t;
  }

  private read(chunk: string): void {
    this.lines += chunk;
    let nl: number;
    while ((nl = this.lines.indexOf('\n')) >= 0) {
      const [word, ...f] = this.lines.slice(0, nl).split(' ');
      this.lines = this.lines.slice(nl + 1);
      if (word === 'start' && f.length >= 7)
        this.report.start = {
          pid: Number(f[0]),
          ns: BigInt(f[1]!),
          limitErrnos: f.slice(2, 6).map(Number),
          cgroups: f[6]!,
        };
      else if (word === 'fail') {
        this.report.fail = Number(f[0]);
        this.reported();
      } else if (word === 'end' && f.length >= 9) {
        const [userUs, systemUs, peakBytes, oomKills] = f
          .slice(5, 9)
          .map((v) => (Number(v) >= 0 ? Number(v) : undefined)); // -1: not known
        const tree: TreeUsage = { userUs, systemUs, peakBytes, oomKills };
        this.report.end = {
          status: Number(f[0]),
          ns: BigInt(f[1]!),
          maxRssKiB: Number(f[2]),
          userUs: Number(f[3]),
          systemUs: Number(f[4]),
          tree,
        };
        this.reported();
      }
    }
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
