/**
 * The host's side of the warm supervisor's protocol, against real containers whose process 1 is
 * a supervisor that lies (programs/liar.c): a frame out of order, of another run, unknown, or on
 * stderr fails the run with SANDBOX_PROTOCOL, returns none of its result, and retires the
 * container; a supervisor that reports the container unclean gets it retired too.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Duplex } from 'node:stream';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nowMs } from '../../../src/clock.js';
import { Reaper } from '../../../src/runtimes/docker/reaper.js';
import { WarmContainer } from '../../../src/runtimes/docker/warm-container.js';
import { WarmPool } from '../../../src/runtimes/docker/warm-pool.js';
import { runWarm, type WarmSide } from '../../../src/runtimes/docker/warm-run.js';
import type { RunContext } from '../../../src/runtimes/runtime.js';
import { compileProgram, dockerAvailable } from './engine.js';

const IMAGE = `nebula-test/liar:t${process.pid}`;
const d = dockerAvailable() ? describe : describe.skip;

d('the warm supervisor protocol, against a lying supervisor', () => {
  const docker = new Docker();
  const reaper = new Reaper(docker, `liar-${process.pid}`);
  const retired: WarmContainer[] = [];
  const pool = new WarmPool(16, 60_000, (wc) => {
    retired.push(wc);
    wc.close();
    void reaper.remove(wc.container.id).catch(() => undefined);
  });
  let dir: string;

  beforeAll(() => {
    const binary = compileProgram('liar');
    dir = mkdtempSync(join(tmpdir(), 'nebula-liar-'));
    execFileSync('cp', [binary, join(dir, 'liar')]);
    rmSync(dirname(binary), { recursive: true, force: true });
    writeFileSync(join(dir, 'Dockerfile'), 'FROM scratch\nCOPY liar /liar\nENTRYPOINT ["/liar"]\n');
    execFileSync('docker', ['build', '-q', '-t', IMAGE, dir], { stdio: 'pipe' });
  }, 120_000);
  afterAll(async () => {
    pool.close();
    await reaper.drain(nowMs() + 20_000);
    execFileSync('docker', ['rmi', '-f', IMAGE], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  });

  /** A started container whose process 1 is the liar behaving as `how`, linked and ready. */
  async function liar(how: string, owner: object): Promise<WarmContainer> {
    const options = {
      Image: IMAGE,
      Cmd: [how],
      OpenStdin: true,
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
      NetworkDisabled: true,
    };
    const container = await reaper.create(
      { ...options, HostConfig: { NetworkMode: 'none' } },
      nowMs() + 30_000,
      'creating a liar',
    );
    const stream = (await container.attach({
      stream: true,
      stdin: true,
      stdout: true,
      stderr: true,
      hijack: true,
    })) as unknown as Duplex;
    const wc = new WarmContainer(docker, container, stream);
    pool.add(owner, wc);
    try {
      await container.start();
      await wc.ready(nowMs() + 30_000);
    } catch (e) {
      pool.giveBack(wc, false);
      throw e;
    }
    pool.giveBack(wc);
    return wc;
  }

  function side(owner: object): WarmSide {
    const supervisor = () => Promise.reject(new Error('no new container in these tests'));
    return {
      docker,
      reaper,
      pool,
      owner,
      supervisor,
      maxOutputBytes: 1 << 20,
      options: { Image: IMAGE },
      command: ['/liar'],
    };
  }

  const ctx = (): RunContext => ({ mode: 'warm', timeoutMs: 20_000, deadlineAt: nowMs() + 20_000, requestAt: nowMs() });

  it('an honest supervisor: the run is returned and the container kept', async () => {
    const owner = {};
    const wc = await liar('honest', owner);
    const outcome = await runWarm(side(owner), '"x"', ctx());
    expect(outcome).toMatchObject({ exitCode: 0, stdout: '42\n', sandbox: 'reused' });
    expect(outcome.error).toBeUndefined();
    expect(await wc.cleaned()).toBe(true);
    expect(retired.includes(wc)).toBe(false);
  });

  for (const how of ['stale-exit', 'early-clean', 'unknown', 'stderr']) {
    it(`${how}: the run fails with SANDBOX_PROTOCOL, with no result, and the container is retired`, async () => {
      const owner = {};
      const wc = await liar(how, owner);
      const outcome = await runWarm(side(owner), '"x"', ctx());
      expect(outcome.error?.code).toBe('SANDBOX_PROTOCOL');
      expect(outcome.error?.message).toMatch(/no result or time of this run can be trusted/);
      expect(outcome).toMatchObject({ exitCode: null, stdout: '' });
      expect(await wc.cleaned()).toBe(false);
      expect(retired.includes(wc)).toBe(true);
    });
  }

  for (const how of ['output-after-exit', 'double-exit', 'dirty']) {
    it(`${how} after the run's exit: the container is retired before any other run`, async () => {
      const owner = {};
      const wc = await liar(how, owner);
      await runWarm(side(owner), '"x"', ctx());
      expect(await wc.cleaned()).toBe(false);
      expect(wc.alive).toBe(false);
      // The next run finds no kept container (and, in these tests, cannot make one).
      const next = await runWarm(side(owner), '"x"', ctx());
      expect(next.error?.message).toMatch(/no new container in these tests/);
    });
  }

  it('a supervisor of another protocol version is refused before any run', async () => {
    await expect(liar('version', {})).rejects.toMatchObject({
      code: 'SANDBOX_PROTOCOL',
      message: expect.stringMatching(/protocol version 1, not 2/),
    });
  });
});
