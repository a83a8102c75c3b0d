/**
 * `limits.memoryMiB` against a function's whole process tree, with real processes: a cgroup per run
 * where this host allows one, else a record that says the limit bounded each process alone; the
 * tree's CPU time and peak memory; and no cgroup left behind, however the helper or host ends.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nowMs } from '../../../src/clock.js';
import { Nebula, type InvocationRecord } from '../../../src/index.js';
import { packageRoot } from '../../../src/paths.js';
import { defaultHelperPath } from '../../../src/runtimes/process/binary.js';
import {
  cgroupSetup,
  parseCgroupMounts,
  parseProcCgroup,
  reapCgroups,
  thisHost,
  type CgroupSetup,
} from '../../../src/runtimes/process/cgroup.js';
import { ProcessRuntime } from '../../../src/runtimes/process/index.js';
import { Launch } from '../../../src/runtimes/process/launch.js';
import { planLimits } from '../../../src/runtimes/process/limits.js';
import { runOnce, type ProcessRunOutcome } from '../../../src/runtimes/process/run.js';
import type { RunContext } from '../../../src/runtimes/runtime.js';
import { buildFixtures, commandOf, leftoverCgroups, processesIn, running, until, type Fixture } from './fixtures.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const MiB = 1024 * 1024;
const setup = cgroupSetup(true);
const hasCgroup = setup.parents.length > 0;
if (!hasCgroup && process.env.NEBULA_REQUIRE_CGROUP === '1')
  throw new Error(`NEBULA_REQUIRE_CGROUP=1 but this host gives the process runtime no cgroup: ${setup.why}`);
if (!hasCgroup)
  console.warn(
    `Process cgroup tests check the unbounded path only: ${setup.why} (set NEBULA_REQUIRE_CGROUP=1 to make this an error).`,
  );

function ctx(): RunContext {
  const at = nowMs();
  return { mode: 'cold', timeoutMs: 60_000, deadlineAt: at + 60_000, requestAt: at };
}

/** The record of a tree that was not bounded: it ran to its end, and says the limit bounded each process alone. */
function expectUnbounded(rec: InvocationRecord, why: RegExp) {
  expect(rec.error).toBeUndefined();
  expect(rec.result).toEqual({ failed: 0 });
  expect(rec.limits?.memoryMiB).toMatchObject({ value: 64, held: false });
  expect(rec.limits?.memoryMiB?.how).toMatch(
    /^RLIMIT_AS \(address space\) bounds each process alone, not the process tree: /,
  );
  expect(rec.limits?.memoryMiB?.how).toMatch(why);
}

describe("the process runtime and a function's process tree", () => {
  let bins: Record<Fixture, string>;
  let fixtures: string;
  let work: string;

  beforeAll(() => {
    ({ dir: fixtures, bins } = buildFixtures());
    work = mkdtempSync(join(tmpdir(), 'nebula-process-tree-'));
  });
  afterAll(() => {
    expect(processesIn(work)).toEqual([]);
    expect(leftoverCgroups(setup)).toEqual([]);
    rmSync(fixtures, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  for (const mode of ['cold', 'prewarmed'] as const) {
    it(`six children of 24 MiB under limits.memoryMiB 64 (${mode}): stopped at the limit with MEMORY_LIMIT where the host gives a cgroup, else the record says the limit did not hold`, async () => {
      const n = new Nebula({ builtins: false, meter: null, process: { tmpDir: work } });
      await n.deploy({ name: 'forkhog', process: { binary: bins.forkhog }, limits: { memoryMiB: 64 } });
      if (mode === 'prewarmed') {
        await n.invoke('forkhog', [0, 0], { mode }); // starts cold and parks helpers for the next
        await new Promise((r) => setTimeout(r, 200));
      }
      const rec = await n.invoke('forkhog', [6, 24], { mode, timeoutMs: 60_000 });
      expect(rec.sandbox).toBe(mode === 'cold' ? 'fresh' : 'prewarmed');
      if (hasCgroup) {
        expect(rec.limits?.memoryMiB).toMatchObject({ value: 64, held: true });
        expect(rec.limits?.memoryMiB?.how).toMatch(
          /^cgroup v[12] memory\.(max|limit_in_bytes) .*: the whole process tree, killed together at the limit; RLIMIT_AS/,
        );
        expect(rec.error?.code).toBe('MEMORY_LIMIT');
        expect(rec.error?.message).toMatch(/process tree reached its memory limit of 64 MiB/);
        const children = rec.error!.stderr!.trim().split('\n').map(Number);
        expect(children.length).toBeGreaterThan(2); // more than 64 MiB / 24 MiB: the limit was reached by the tree, not one process
        expect(children.filter(running)).toEqual([]);
      } else expectUnbounded(rec, /no cgroup could be made/);
      await n.close();
    });
  }

  it('with cgroups turned off, the tree runs past the limit and the record says so', async () => {
    const n = new Nebula({ builtins: false, meter: null, process: { tmpDir: work, cgroup: false } });
    await n.deploy({ name: 'forkhog', process: { binary: bins.forkhog }, limits: { memoryMiB: 64 } });
    expectUnbounded(await n.invoke('forkhog', [6, 24], { timeoutMs: 60_000 }), /cgroups are turned off/);
    await n.close();
  });

  it('counts the CPU time and peak memory of the whole tree from the cgroup; wait4 counts only what the function waited for', async () => {
    for (const cgroup of [true, false]) {
      const tree = cgroup && hasCgroup;
      const rt = new ProcessRuntime({ tmpDir: work, cgroup });
      const cpu = (await (
        await rt.prepare({ name: 'cpukid', process: { binary: bins.cpukid } })
      ).run('200', ctx())) as ProcessRunOutcome;
      const childUs = Number(cpu.stdout.trim());
      expect(childUs).toBeGreaterThanOrEqual(200_000);
      const cpuUs = cpu.usage!.cpuUserUs + cpu.usage!.cpuSystemUs;
      const mem = (await (
        await rt.prepare({ name: 'forkhog', process: { binary: bins.forkhog }, limits: { memoryMiB: 512 } })
      ).run('[6,24]', ctx())) as ProcessRunOutcome;
      expect(mem.stdout.trim()).toBe('{"failed":0}');
      if (tree) {
        expect(cpu.usage?.cpuFrom).toMatch(/^cgroup v(2 cpu\.stat|1 cpuacct)$/);
        expect(cpuUs).toBeGreaterThanOrEqual(childUs); // the child the function never reaped is counted
        expect(mem.usage?.memoryFrom).toMatch(/^cgroup v(2 memory\.peak|1 memory\.max_usage_in_bytes)$/);
        expect(mem.usage!.maxMemoryBytes).toBeGreaterThanOrEqual(6 * 24 * MiB); // all six at once
      } else {
        expect(cpu.usage?.cpuFrom).toBe('wait4 rusage');
        expect(cpuUs).toBeLessThan(childUs);
        expect(mem.usage?.memoryFrom).toBe('wait4 ru_maxrss');
        expect(mem.usage!.maxMemoryBytes).toBeGreaterThanOrEqual(24 * MiB); // the largest one process
        expect(mem.usage!.maxMemoryBytes).toBeLessThan(2 * 24 * MiB);
      }
      await rt.close();
    }
  });

  it("kills a descendant that left the function's process group (setsid) where the host gives a cgroup; without one it escapes", async () => {
    for (const cgroup of [true, false]) {
      const n = new Nebula({ builtins: false, meter: null, process: { tmpDir: work, cgroup } });
      await n.deploy({ name: 'escaper', process: { binary: bins.escaper } });
      const rec = await n.invoke('escaper', null);
      await n.close();
      expect(rec.error).toBeUndefined();
      const escaped = rec.result as number;
      expect(escaped).toBeGreaterThan(0);
      if (cgroup && hasCgroup) expect(running(escaped)).toBe(false);
      else {
        expect(running(escaped)).toBe(true);
        process.kill(escaped, 'SIGKILL');
      }
    }
  });

  it('takes the parent cgroup by path, and refuses at deploy a path that is not a usable cgroup', async () => {
    const bad = new Nebula({ builtins: false, meter: null, process: { tmpDir: work, cgroup: work } });
    await expect(bad.deploy({ name: 'forkhog', process: { binary: bins.forkhog } })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/cgroup option: .* is not a cgroup directory/),
    });
    await bad.close();
    if (!hasCgroup) return;
    const named = new Nebula({
      builtins: false,
      meter: null,
      process: { tmpDir: work, cgroup: setup.parents[0]!.dir },
    });
    await named.deploy({ name: 'forkhog', process: { binary: bins.forkhog }, limits: { memoryMiB: 64 } });
    const rec = await named.invoke('forkhog', [6, 24], { timeoutMs: 60_000 });
    expect(rec.error?.code).toBe('MEMORY_LIMIT');
    expect(rec.limits?.memoryMiB?.held).toBe(true);
    await named.close();
  });

  it("a host killed with kill -9 mid-run: its helper kills the tree and removes the run's cgroups", async () => {
    const dir = mkdtempSync(join(work, 'killed-host-'));
    const host = spawn(process.execPath, [join(here, 'tree-host.mjs'), bins.forker, dir, 'invoke'], {
      cwd: packageRoot(),
      stdio: 'ignore',
    });
    // The helper, the function and the grandchild it forked.
    expect(await until(() => processesIn(dir).length === 3, 30_000)).toBe(true);
    const tree = processesIn(dir);
    const helper = tree.find((pid) => commandOf(pid) === 'nebula-exec')!;
    if (hasCgroup) expect(leftoverCgroups(setup, helper)).toHaveLength(setup.parents.length);
    host.kill('SIGKILL');
    expect(await until(() => tree.every((pid) => !running(pid)) && leftoverCgroups(setup, helper).length === 0)).toBe(
      true,
    );
  });

  describe.runIf(hasCgroup)('where a helper is killed before it could remove its cgroups', () => {
    it('the host removes them, killing what the function left in them', async () => {
      const dir = mkdtempSync(join(work, 'killed-helper-'));
      const m = new Nebula({ builtins: false, meter: null, process: { tmpDir: dir } });
      await m.deploy({ name: 'forker', process: { binary: bins.forker } });
      const pending = m.invoke('forker', 'wait', { timeoutMs: 600_000 });
      expect(await until(() => processesIn(dir).length === 3, 30_000)).toBe(true);
      const tree = processesIn(dir);
      const helper = tree.find((pid) => commandOf(pid) === 'nebula-exec')!;
      process.kill(helper, 'SIGKILL');
      const rec = await pending;
      expect(rec.error?.code).toBe('RUNTIME_ERROR');
      expect(await m.cleanedUp()).toBe(true);
      expect(tree.filter(running)).toEqual([]); // the grandchild too, which no process group sweep reached
      expect(leftoverCgroups(setup, helper)).toEqual([]);
      await m.close();
    });

    it("a running helper's cgroups are left alone by the removal", async () => {
      const dir = mkdtempSync(join(work, 'running-'));
      const n = new Nebula({ builtins: false, meter: null, process: { tmpDir: dir } });
      await n.deploy({ name: 'forker', process: { binary: bins.forker } });
      const ac = new AbortController();
      const pending = n.invoke('forker', 'wait', { timeoutMs: 600_000, signal: ac.signal });
      expect(await until(() => processesIn(dir).length === 3, 30_000)).toBe(true);
      const helper = processesIn(dir).find((pid) => commandOf(pid) === 'nebula-exec')!;
      await reapCgroups(defaultHelperPath(), setup.parents);
      expect(leftoverCgroups(setup, helper)).toHaveLength(setup.parents.length);
      expect(processesIn(dir)).toHaveLength(3);
      ac.abort();
      expect((await pending).error?.code).toBe('ABORTED');
      await n.close();
      expect(leftoverCgroups(setup, helper)).toEqual([]);
    });

    it('when the host went with it, the next host removes them at its first deploy', async () => {
      const dir = mkdtempSync(join(work, 'killed-both-'));
      const host = spawn(process.execPath, [join(here, 'tree-host.mjs'), bins.forker, dir, 'invoke'], {
        cwd: packageRoot(),
        stdio: 'ignore',
      });
      expect(await until(() => processesIn(dir).length === 3, 30_000)).toBe(true);
      const tree = processesIn(dir);
      const helper = tree.find((pid) => commandOf(pid) === 'nebula-exec')!;
      host.kill('SIGSTOP'); // so it cannot react to its helper's end
      process.kill(helper, 'SIGKILL');
      host.kill('SIGKILL');
      expect(await until(() => !running(helper))).toBe(true);
      expect(leftoverCgroups(setup, helper)).toHaveLength(setup.parents.length);
      expect(tree.filter(running).length).toBeGreaterThan(0); // the grandchild, in the cgroup nobody removed
      const next = spawnSync(process.execPath, [join(here, 'tree-host.mjs'), bins.forker, dir, 'deploy'], {
        cwd: packageRoot(),
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(next.stderr).toBe('');
      expect(next.stdout.trim()).toBe('deploy');
      expect(leftoverCgroups(setup, helper)).toEqual([]);
      expect(tree.filter(running)).toEqual([]);
    });
  });
});

/** This host's own cgroup v2 directory, when this user may make cgroups in it (a hybrid's v2 hierarchy has no memory controller, but the rest works). */
function ownV2(): string | undefined {
  const mount = parseCgroupMounts(readFileSync('/proc/self/mountinfo', 'utf8')).find((m) => m.v2 && m.root === '/');
  const own = parseProcCgroup(readFileSync('/proc/self/cgroup', 'utf8')).v2;
  const dir = mount && own !== undefined ? join(mount.point, own) : undefined;
  return dir && thisHost().writable(dir) && thisHost().writable(join(dir, 'cgroup.procs')) ? dir : undefined;
}

const v2Dir = ownV2();
if (!v2Dir) console.warn('The cgroup v2 test of the process runtime is skipped: no writable cgroup v2 directory here.');

describe.runIf(v2Dir)("the process runtime on cgroup v2, on this host's v2 hierarchy", () => {
  let bins: Record<Fixture, string>;
  let fixtures: string;
  let work: string;
  const cgroups: CgroupSetup = { parents: [{ kind: 'v2', dir: v2Dir! }] };

  beforeAll(() => {
    ({ dir: fixtures, bins } = buildFixtures());
    work = mkdtempSync(join(tmpdir(), 'nebula-process-v2-'));
  });
  afterAll(() => {
    expect(processesIn(work)).toEqual([]);
    expect(leftoverCgroups(cgroups)).toEqual([]);
    rmSync(fixtures, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  /** One run through the helper with only this v2 cgroup (no memory limit: memory is not on v2 everywhere). */
  async function run(name: Fixture, input: string) {
    const fn = { name, process: { binary: bins[name] } };
    const launch = new Launch({
      helper: defaultHelperPath(),
      binary: bins[name],
      argv: [name],
      env: {},
      tmpDir: work,
      maxOutputBytes: MiB,
      cgroups,
      memoryMaxBytes: 0,
    });
    const out = await runOnce(launch, input, ctx(), {
      plan: planLimits(fn, 60_000, 64 * MiB),
      cpus: 1,
      prewarmed: false,
      binary: bins[name],
      cgroups,
    });
    await launch.cleanup();
    expect(launch.report.start?.cgroups).toBe('ok');
    expect(leftoverCgroups(cgroups, launch.child.pid)).toEqual([]);
    return out;
  }

  it("clones the function into its cgroup, whose cpu.stat counts the tree's CPU time", async () => {
    const out = await run('cpukid', '200');
    expect(out.usage?.cpuFrom).toBe('cgroup v2 cpu.stat');
    expect(out.usage!.cpuUserUs + out.usage!.cpuSystemUs).toBeGreaterThanOrEqual(Number(out.stdout.trim()));
  });

  it('kills what the function left in its cgroup with cgroup.kill, also outside its process group', async () => {
    const out = await run('escaper', 'null');
    expect(out.error).toBeUndefined();
    expect(running(Number(out.stdout.trim()))).toBe(false);
  });
});
