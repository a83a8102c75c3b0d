/**
 * Paths an image declares as VOLUME: each is a private tmpfs holding at most half of the
 * function's memory limit in every mode, so a function never writes to the host's disk through
 * one and the engine makes no volume; a VOLUME where no tmpfs can go is refused at deploy.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerRuntime, Nebula, type InvocationMode } from '../../../src/index.js';
import { compileProgram, dockerAvailable, inspect, list, noLeftovers } from './engine.js';

const TAG = `t${process.pid}`;
const d = dockerAvailable() ? describe : describe.skip;
const MiB = 1024 * 1024;

/** Volumes of the engine but nebula-faas's own supervisor volume. */
const volumes = () =>
  execFileSync('docker', ['volume', 'ls', '-q'], { encoding: 'utf8' })
    .split('\n')
    .filter((v) => v && !v.startsWith('nebula-faas-supervisor-'));

d('image volumes', () => {
  let dir: string;
  let runtime: DockerRuntime;
  let nebula: Nebula;
  beforeAll(() => {
    const binary = compileProgram('hostile');
    dir = mkdtempSync(join(tmpdir(), 'nebula-volumes-'));
    execFileSync('cp', [binary, join(dir, 'hostile')]);
    rmSync(dirname(binary), { recursive: true, force: true });
    for (const [name, volume] of [
      ['tmp', '/tmp'],
      ['dev', '/dev/data'],
      ['root', '/'],
    ]) {
      writeFileSync(
        join(dir, 'Dockerfile'),
        `FROM scratch\nCOPY hostile /hostile\nVOLUME ${volume}\nENTRYPOINT ["/hostile"]\n`,
      );
      execFileSync('docker', ['build', '-q', '-t', `nebula-test/volume-${name}:${TAG}`, dir], { stdio: 'pipe' });
    }
    runtime = new DockerRuntime();
    nebula = new Nebula({ builtins: false, runtimes: { docker: runtime } });
  }, 120_000);
  afterAll(async () => {
    await nebula.close();
    expect(await noLeftovers(runtime.instanceId)).toEqual([]);
    for (const name of ['tmp', 'dev', 'root'])
      execFileSync('docker', ['rmi', '-f', `nebula-test/volume-${name}:${TAG}`], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  });

  for (const mode of ['cold', 'prewarmed', 'warm'] as InvocationMode[])
    it(`${mode}: writing to a VOLUME path fills a tmpfs of half the memory limit, and the engine makes no volume`, async () => {
      await nebula.deploy({
        name: `fill-${mode}`,
        docker: { image: `nebula-test/volume-tmp:${TAG}` },
        limits: { memoryMiB: 32 },
      });
      const before = volumes();
      const rec = await nebula.invoke<{ bytes: number; full: boolean }>(`fill-${mode}`, 'fill', {
        mode,
        timeoutMs: 60_000,
      });
      expect(rec.result).toEqual({ full: true, bytes: 16 * MiB });
      expect(volumes()).toEqual(before);
      // A kept container is emptied and kept.
      if (mode === 'warm')
        expect(await nebula.invoke(`fill-${mode}`, 'fill', { mode })).toMatchObject({
          sandbox: 'reused',
          result: { full: true, bytes: 16 * MiB },
        });
    });

  it("a kept container's VOLUME path is a tmpfs in its create options, and it mounts no volume but the supervisor's", async () => {
    await nebula.deploy({ name: 'kept', docker: { image: `nebula-test/volume-tmp:${TAG}` } });
    expect((await nebula.invoke('kept', 'echo x', { mode: 'warm' })).ok).toBe(true);
    const id = (await list(`nebula-faas.runtime=${runtime.instanceId}`)).find(
      (c) => c.labels['nebula-faas.function'] === 'kept',
    )!.id;
    const info = (await inspect(id))!;
    expect(info.HostConfig.Tmpfs).toEqual({
      '/tmp': expect.stringMatching(/^rw,nosuid,nodev,exec,size=134217728,nr_inodes=32768,mode=1777$/),
    });
    expect(info.Mounts.map((m: { Type: string; Destination: string }) => `${m.Type} ${m.Destination}`)).toEqual([
      'volume /.nebula-faas',
    ]);
  });

  it('a VOLUME inside /dev, or at /, is refused at deploy', async () => {
    for (const name of ['dev', 'root'])
      await expect(
        nebula.deploy({ name: `v-${name}`, docker: { image: `nebula-test/volume-${name}:${TAG}` } }),
      ).rejects.toMatchObject({
        code: 'INVALID_FUNCTION',
        message: expect.stringMatching(/declares VOLUME .* where nebula-faas cannot give it a private tmpfs/),
      });
  });
});
