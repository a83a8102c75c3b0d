import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  rmSync,
  unlinkSync,
  writeFileSync,
  copyFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Nebula } from '../../../src/index.js';
import { packageRoot } from '../../../src/paths.js';
import { cgroupSetup } from '../../../src/runtimes/process/cgroup.js';
import { buildFixtures, leftoverCgroups, processesIn, running, type Fixture } from './fixtures.js';
import { tempDir } from '../../temp-dir.js';

const here = fileURLToPath(new URL('.', import.meta.url));

describe('ProcessRuntime with real processes', () => {
  let bins: Record<Fixture, string>;
  let fixtures: string;
  let work: string;
  let nebula: Nebula;

  beforeAll(() => {
    ({ dir: fixtures, bins } = buildFixtures());
    work = tempDir('process-work');
    nebula = new Nebula({ builtins: false, process: { tmpDir: work } });
  });
  afterAll(async () => {
    await nebula?.close();
    expect(processesIn(work)).toEqual([]);
    expect(leftoverCgroups(cgroupSetup(true))).toEqual([]);
    rmSync(fixtures, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  it('cleanedUp() resolves once the sandboxes of finished invocations are gone: every record has its cleanupMs', async () => {
    const n = new Nebula({ meter: null });
    const recs = await Promise.all([20, 21, 22].map((i) => n.invoke('fib', i, { runtime: 'process' })));
    expect(recs.map((r) => r.ok)).toEqual([true, true, true]);
    expect(await n.cleanedUp()).toBe(true);
    for (const r of recs) expect(r.timing.cleanupMs).toEqual(expect.any(Number));
    expect(await n.cleanedUp(1)).toBe(true);
    await n.close();
  });

  it('gives the function only the granted environment and arguments, and a private working directory removed afterwards', async () => {
    const n = new Nebula({ builtins: false, process: { tmpDir: work } });
    await n.deploy({ name: 'probe', process: { binary: bins.probe }, grants: { env: { MODE: 'fast' } } });
    const a = await n.invoke('probe', null);
    const b = await n.invoke('probe', null);
    expect(a.error).toBeUndefined();
    const ra = a.result as { env: string[]; cwd: string; entries: number; fds: number[] };
    const rb = b.result as typeof ra;
    expect(ra.env).toEqual(['MODE=fast']);
    expect(ra.cwd.startsWith(join(work, 'nebula-process-'))).toBe(true);
    expect(rb.cwd).not.toBe(ra.cwd);
    // Each starts empty: the scratch file the first one wrote is not in the second one's directory.
    expect([ra.entries, rb.entries]).toEqual([0, 0]);
    expect(ra.fds).toEqual([0, 1, 2]);
    await n.close(); // waits for every clean-up
    expect(existsSync(ra.cwd)).toBe(false);
    expect(existsSync(rb.cwd)).toBe(false);
  });

  it('passes no inherited descriptor: with one open in the host without close-on-exec, a bare spawn leaks it, the function does not', () => {
    const held = join(work, 'held.txt');
    writeFileSync(held, 'x');
    const fd = openSync(held, 'r');
    try {
      // The child host inherits `fd` as its fd 40, as a shell or parent process might leave one
      // (Node marks inherited descriptors below 20 close-on-exec at start-up, not those above).
      const stdio = ['ignore', 'pipe', 'pipe', ...Array<'ignore'>(37).fill('ignore'), fd] as const;
      const r = spawnSync(process.execPath, [join(here, 'fd-host.mjs'), bins.probe], {
        stdio: [...stdio],
        encoding: 'utf8',
        cwd: packageRoot(),
        timeout: 60_000,
      });
      expect(r.stderr).toBe('');
      const seen = JSON.parse(r.stdout) as { nebula: number[]; bare: number[] };
      expect(seen.bare).toContain(40);
      expect(seen.nebula).toEqual([0, 1, 2]);
    } finally {
      closeSync(fd);
    }
  });

  it('kills the whole process group at the timeout: the function and the grandchild it forked', async () => {
    await nebula.deploy({ name: 'forker', process: { binary: bins.forker } });
    const rec = await nebula.invoke('forker', 'wait', { timeoutMs: 1500 });
    expect(rec.ok).toBe(false);
    expect(rec.error?.code).toBe('TIMEOUT');
    const pids = JSON.parse(rec.error!.stderr!) as number[];
    expect(pids).toHaveLength(2);
    expect(pids.filter(running)).toEqual([]);
  });

  it('kills what a function left running in its process group when it exits', async () => {
    await nebula.deploy({ name: 'forker', process: { binary: bins.forker } });
    const rec = await nebula.invoke('forker', 'exit');
    expect(rec.ok).toBe(true);
    const pids = rec.result as number[];
    expect(pids).toHaveLength(2);
    expect(pids.filter(running)).toEqual([]);
  });

  it('stops a run when its signal aborts, and starts nothing for a signal already aborted', async () => {
    await nebula.deploy({ name: 'sleeper', process: { binary: bins.sleeper } });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 300);
    const rec = await nebula.invoke('sleeper', null, { signal: ac.signal, timeoutMs: 60_000 });
    expect(rec.error?.code).toBe('ABORTED');
    const before = readdirSync(work).length;
    const early = await nebula.invoke('sleeper', null, { signal: AbortSignal.abort() });
    expect(early.error?.code).toBe('ABORTED');
    expect(early.timing.phases).toEqual({});
    expect(readdirSync(work).length).toBeLessThanOrEqual(before);
  });

  it('holds the memory limit of one process (RLIMIT_AS): an allocation past it fails, reported as MEMORY_LIMIT', async () => {
    await nebula.deploy({ name: 'hog', process: { binary: bins.hog }, limits: { memoryMiB: 32 } });
    const rec = await nebula.invoke('hog', null, { timeoutMs: 60_000 });
    expect(rec.limits?.memoryMiB).toMatchObject({
      value: 32,
      how: expect.stringContaining('RLIMIT_AS (address space)'),
    });
    expect(rec.ok).toBe(false);
    expect(rec.error?.code).toBe('MEMORY_LIMIT');
    expect(rec.error?.stderr).toContain('hog: out of memory');
  });

  it('stops a function at its CPU-time limit (RLIMIT_CPU: timeout x cpus)', async () => {
    // 20 s x 0.05 cores = 1 s of CPU time, reached long before the wall-clock timeout.
    await nebula.deploy({ name: 'spin', process: { binary: bins.spin }, limits: { cpus: 0.05 } });
    const rec = await nebula.invoke('spin', null, { timeoutMs: 20_000 });
    expect(rec.limits?.cpuSeconds).toMatchObject({ value: 1, held: true });
    expect(rec.limits?.cpus).toMatchObject({ value: 0.05, held: false });
    expect(rec.error?.code).toBe('TIMEOUT');
    expect(rec.error?.message).toMatch(/CPU-time limit of 1 s/);
  });

  it('stops a file past the file-size limit (RLIMIT_FSIZE)', async () => {
    const n = new Nebula({ builtins: false, process: { tmpDir: work, maxFileBytes: 1024 * 1024 } });
    await n.deploy({ name: 'bigfile', process: { binary: bins.bigfile } });
    const rec = await n.invoke('bigfile', null);
    expect(rec.limits?.fileSizeMiB).toMatchObject({ value: 1, held: true });
    expect(rec.error?.code).toBe('FUNCTION_FAILED');
    expect(rec.error?.message).toMatch(/SIGXFSZ|size limit/);
    await n.close();
  });

  it('says whether the process limit (RLIMIT_NPROC, per user) holds: never for root', async () => {
    await nebula.deploy({ name: 'probe', process: { binary: bins.probe }, limits: { pids: 500 } });
    const rec = await nebula.invoke('probe', null);
    expect(rec.ok).toBe(true);
    const root = process.getuid?.() === 0;
    expect(rec.limits?.processes).toMatchObject({ value: 500, held: !root });
    if (root) expect(rec.limits?.processes?.how).toMatch(/exempts root/);
  });

  it('cuts stdout at the output cap (OUTPUT_LIMIT) and reports a death by signal', async () => {
    const n = new Nebula({ builtins: false, process: { tmpDir: work, maxOutputBytes: 4096 } });
    await n.deploy([
      { name: 'chatty', process: { binary: bins.chatty } },
      { name: 'aborts', process: { binary: bins.aborts } },
    ]);
    expect((await n.invoke('chatty', null)).error?.code).toBe('OUTPUT_LIMIT');
    const rec = await n.invoke('aborts', null);
    expect(rec.error).toMatchObject({ code: 'FUNCTION_FAILED', exitCode: null });
    expect(rec.error?.message).toMatch(/SIGABRT/);
    await n.close();
  });

  it('runs prewarmed and warm invocations on parked helpers, each used once, none left after close', async () => {
    const n = new Nebula({ builtins: false, process: { tmpDir: work, prewarmedProcesses: 2 } });
    await n.deploy({ name: 'probe', process: { binary: bins.probe } });
    const recs = [];
    for (const mode of ['prewarmed', 'prewarmed', 'warm', 'prewarmed'] as const) {
      recs.push(await n.invoke('probe', null, { mode }));
      await new Promise((r) => setTimeout(r, 100)); // let the pool refill, as between requests
    }
    expect(recs.every((r) => r.ok)).toBe(true);
    expect(new Set(recs.map((r) => (r.result as { cwd: string }).cwd)).size).toBe(4);
    expect(recs.map((r) => r.sandbox)).not.toContain('reused');
    const later = recs.slice(1);
    expect(later.every((r) => r.sandbox === 'prewarmed' && !('spawn' in r.timing.phases))).toBe(true);
    expect(processesIn(work).length).toBeGreaterThan(0); // parked helpers
    await n.close();
    expect(processesIn(work)).toEqual([]);
  });

  for (const how of ['close', 'exit'] as const) {
    it(`leaves no helper or directory behind when the host ${how === 'close' ? 'closes Nebula' : 'exits without close()'}`, async () => {
      const dir = mkdtempSync(join(work, `parked-${how}-`));
      const r = spawnSync(process.execPath, [join(here, 'parked-host.mjs'), bins.probe, dir, how], {
        encoding: 'utf8',
        cwd: packageRoot(),
        timeout: 60_000,
      });
      expect(r.stderr).toBe('');
      expect(r.stdout.trim()).toBe(how);
      // Without close(), the parked helpers go when their host does (parent-death signal): wait for that, with a deadline.
      for (let i = 0; i < 100 && (processesIn(dir).length > 0 || readdirSync(dir).length > 0); i++)
        await new Promise((res) => setTimeout(res, 50));
      expect(processesIn(dir)).toEqual([]);
      expect(readdirSync(dir)).toEqual([]);
    });
  }

  it('reports a binary that disappeared after deploy as FUNCTION_FAILED (execve ENOENT)', async () => {
    const copy = join(fixtures, 'vanishing');
    copyFileSync(bins.probe, copy);
    await nebula.deploy({ name: 'vanishing', process: { binary: copy } });
    unlinkSync(copy);
    const rec = await nebula.invoke('vanishing', null);
    expect(rec.error?.code).toBe('FUNCTION_FAILED');
    expect(rec.error?.message).toMatch(/execve failed with ENOENT/);
  });

  it('refuses at deploy what cannot run: no file, a folder, not executable, a script, another architecture', async () => {
    const notExec = join(fixtures, 'not-exec');
    copyFileSync(bins.probe, notExec);
    chmodSync(notExec, 0o644);
    const script = join(fixtures, 'script.sh');
    writeFileSync(script, '#!/bin/sh\necho 1\n', { mode: 0o755 });
    const foreign = join(
      packageRoot(),
      'src',
      'runtimes',
      'process',
      'helper',
      process.arch === 'arm64' ? 'linux-amd64' : 'linux-arm64',
      'nebula-exec',
    );
    const cases: Array<[string, RegExp]> = [
      [join(fixtures, 'none'), /no such file/],
      [fixtures, /not a regular file/],
      [notExec, /not executable/],
      [script, /not an ELF executable/],
      [foreign, /built for (AArch64|x86-64)/],
    ];
    for (const [binary, why] of cases) {
      const err = await nebula.deploy({ name: 'bad', process: { binary } }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'INVALID_FUNCTION' });
      expect((err as Error).message).toMatch(why);
    }
    expect(nebula.has('bad')).toBe(false);
    await expect(nebula.deploy({ name: 'bad', process: { path: 'x' } as never })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });
});
