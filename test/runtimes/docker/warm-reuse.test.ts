/**
 * Warm reuse on the real engine, against a hostile function: whatever one run leaves in a kept
 * container (files of every kind, name, depth and permission in /dev/shm and in an image's
 * VOLUME, IPC objects, locks, a replaced /dev, changed attributes of process 1), the next run
 * finds the container as a fresh one has it (the same survey), or runs in a new container; and
 * nothing a run does reaches the supervisor (its memory, descriptors, output, signals).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerRuntime, Nebula, type InvocationRecord } from '../../../src/index.js';
import { compileProgram, dockerAvailable, noLeftovers } from './engine.js';

interface Survey {
  survey: string;
  processes: number;
}

/** The survey a record holds (the function wrote it as JSON). */
function survey(rec: InvocationRecord): Survey {
  expect(rec.ok).toBe(true);
  expect(rec.result).toEqual({ survey: expect.any(String), processes: expect.any(Number) });
  return rec.result as Survey;
}

/** Per test run, so runs of this file elsewhere on the same engine do not collide. */
const IMAGE = `nebula-test/hostile:t${process.pid}`;
const d = dockerAvailable() ? describe : describe.skip;

/** A runtime with the hostile function deployed, and its surveys of a cold and of a fresh warm container. */
class Bench {
  readonly runtime: DockerRuntime;
  readonly nebula: Nebula;
  cold!: Survey;
  fresh!: Survey;

  constructor(user?: string) {
    this.runtime = new DockerRuntime(user ? { user } : {});
    this.nebula = new Nebula({ builtins: false, runtimes: { docker: this.runtime } });
  }

  async start(): Promise<void> {
    await this.nebula.deploy({ name: 'hostile', docker: { image: IMAGE } });
    this.cold = survey(await this.invoke('survey', 'cold'));
    const first = await this.invoke('survey');
    expect(first.sandbox).toBe('fresh');
    this.fresh = survey(first);
  }

  invoke(input: string, mode: 'cold' | 'warm' = 'warm'): Promise<InvocationRecord> {
    return this.nebula.invoke('hostile', input, { mode, timeoutMs: 60_000 });
  }

  /** Runs `action` in a kept container, then a survey: the record of each. */
  async after(action: string): Promise<{ action: InvocationRecord; next: InvocationRecord }> {
    expect((await this.invoke('echo ready')).ok).toBe(true);
    const done = await this.invoke(action);
    const next = await this.invoke('survey');
    // Whether the container was kept or replaced, the next run sees what a fresh one shows.
    expect(survey(next)).toEqual(this.fresh);
    return { action: done, next };
  }

  async close(): Promise<void> {
    await this.nebula.close();
    expect(await noLeftovers(this.runtime.instanceId)).toEqual([]);
  }
}

/** Builds the hostile function's image (FROM scratch, with `VOLUME /tmp`) around the file's tests. */
function withImage(): void {
  let dir: string;
  beforeAll(() => {
    const binary = compileProgram('hostile');
    dir = mkdtempSync(join(tmpdir(), 'nebula-hostile-'));
    execFileSync('cp', [binary, join(dir, 'hostile')]);
    rmSync(dirname(binary), { recursive: true, force: true });
    writeFileSync(
      join(dir, 'Dockerfile'),
      'FROM scratch\nCOPY hostile /hostile\nVOLUME /tmp\nENTRYPOINT ["/hostile"]\n',
    );
    execFileSync('docker', ['build', '-q', '-t', IMAGE, dir], { stdio: 'pipe' });
  }, 120_000);
  afterAll(() => {
    execFileSync('docker', ['rmi', '-f', IMAGE], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  });
}

if (dockerAvailable()) withImage();

d('warm reuse leaves nothing of a run to the next', () => {
  const bench = new Bench();
  beforeAll(async () => {
    await bench.start();
  }, 120_000);
  afterAll(async () => {
    await bench.close();
  });

  it('a fresh kept container shows the same writable places as a cold one (only the supervisor is added)', () => {
    expect(bench.fresh.survey).toContain('/tmp 41777 0:0');
    expect(bench.fresh.survey).toContain('/dev/shm 41777');
    // The same places, files, IPC, limits, environment and locks; one more process.
    expect(bench.fresh.survey).toBe(bench.cold.survey);
    expect(bench.fresh.processes).toBe(bench.cold.processes + 1);
  });

  it('files of every kind, odd names and taken-away permissions, in /dev/shm and in the image VOLUME: removed, and the container kept', async () => {
    const { action, next } = await bench.after('litter');
    expect(action.result).toEqual({ tmp: true, shm: true });
    expect(next.sandbox).toBe('reused');
  });

  it('trees deeper than any descriptor budget (3000 levels): removed, and the container kept', async () => {
    const { action, next } = await bench.after('deep 3000');
    expect(action.result).toEqual({ tmp: true, shm: true });
    expect(next.sandbox).toBe('reused');
  });

  it('20 000 files: removed, and the container kept', async () => {
    const { action, next } = await bench.after('many 20000');
    expect(action.result).toEqual({ made: 20000 });
    expect(next.sandbox).toBe('reused');
  });

  it('System V IPC objects and POSIX message queues: removed', async () => {
    const { action, next } = await bench.after('ipc');
    expect(action.result).toEqual({ made: true });
    expect(next.sandbox).toBe('reused');
  });

  it('a background process holding file locks: killed, the locks free', async () => {
    const { action, next } = await bench.after('locks');
    expect(action.result).toEqual({ held: true });
    expect(next.sandbox).toBe('reused');
  });

  it('a TCP connection left in TIME_WAIT on loopback (its ports visible to the next run): the container is retired', async () => {
    const { action, next } = await bench.after('tcp');
    expect(action.result).toEqual({ connected: true });
    expect(next.sandbox).toBe('fresh');
  });

  it('a run cannot read the supervisor (memory, environment, descriptors, directories, ptrace) nor find an earlier input in it', async () => {
    const secret = randomBytes(8).toString('hex');
    expect((await bench.invoke(`echo SECRET-${secret}`)).result).toEqual({ echo: `SECRET-${secret}` });
    const peek = await bench.invoke(`peek ${secret}`);
    expect(peek.sandbox).toBe('reused');
    expect(peek.result).toEqual({
      found: false,
      mem: false,
      environ: false,
      fd0: false,
      fd1: false,
      fd2: false,
      fdinfo: false,
      cwd: false,
      root: false,
      exe: false,
      fdlink: false,
      ptrace: false,
      vmread: false,
      pidfd_getfd: false,
    });
  });

  it("a run cannot write the supervisor's frames: its record is its own, and the next run gets its own result", async () => {
    const forged = await bench.invoke('forge');
    expect(forged).toMatchObject({ ok: true, result: { forged: false }, sandbox: 'reused' });
    const next = await bench.invoke('echo after');
    expect(next).toMatchObject({ ok: true, result: { echo: 'after' }, sandbox: 'reused' });
  });

  it('signals a run sends to process 1 (TERM, INT, HUP, STOP, KILL, ...) do not stop it', async () => {
    const { action, next } = await bench.after('signal');
    expect(action.ok).toBe(true);
    expect(next.sandbox).toBe('reused');
  });

  for (const what of ['limit', 'nice', 'ioprio']) {
    it(`process 1's ${what} lowered by a run (which the next would inherit): the container is retired`, async () => {
      const { action, next } = await bench.after(`renice ${what}`);
      expect(action.result).toEqual({ changed: true });
      expect(next.sandbox).toBe('fresh');
    });
  }

  it("process 1's CPU affinity narrowed by a run: the next run has every CPU", async () => {
    const { action } = await bench.after('renice cpus');
    expect(action.result).toEqual({ changed: true });
  });

  it("/dev/null's times changed by a run (anyone may set them to now): the container is retired", async () => {
    const { action, next } = await bench.after('touch-dev');
    expect(action.result).toEqual({ changed: true });
    expect(next.sandbox).toBe('fresh');
  });
});

d('warm reuse with a function running as root', () => {
  const bench = new Bench('image');
  beforeAll(async () => {
    await bench.start();
  }, 120_000);
  afterAll(async () => {
    await bench.close();
  });

  it('runs as root', () => {
    expect(bench.fresh.survey).toMatch(/Uid 0\t0\t0\t0/);
  });

  it('/dev entries replaced, re-permissioned and added: the container is retired', async () => {
    const { action, next } = await bench.after('root-dev');
    expect(action.result).toEqual({ changed: true });
    expect(next.sandbox).toBe('fresh');
  });

  it("process 1's OOM score raised through /proc/1/oom_score_adj: the container is retired", async () => {
    const { action, next } = await bench.after('renice oom');
    expect(action.result).toEqual({ changed: true });
    expect(next.sandbox).toBe('fresh');
  });

  it('files in read-only directories, deep trees and odd names left by root: removed, and the container kept', async () => {
    expect((await bench.after('litter')).next.sandbox).toBe('reused');
    expect((await bench.after('deep 500')).next.sandbox).toBe('reused');
  });
});
