/**
 * Warm mode on the real engine: kept containers reused by successive invocations of a function,
 * nothing of one invocation left for the next, the same isolation as a cold container, the cap
 * and the idle expiry.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type Docker from 'dockerode';
import { DockerRuntime, Nebula } from '../../../src/index.js';
import { compileProgram, dockerAvailable, eventually, inspect, list, noLeftovers } from './engine.js';

const d = dockerAvailable() ? describe : describe.skip;

d('DockerRuntime warm mode', () => {
  let probe: string;
  let runtime: DockerRuntime;
  let nebula: Nebula;
  beforeAll(async () => {
    probe = compileProgram('probe');
    runtime = new DockerRuntime();
    nebula = new Nebula({ builtins: false, runtimes: { docker: runtime } });
    await nebula.deploy([
      { name: 'probe', docker: { binary: probe } },
      { name: 'small', docker: { binary: probe }, limits: { memoryMiB: 16 } },
    ]);
  });
  afterAll(async () => {
    await nebula?.close();
    if (runtime) expect(await noLeftovers(runtime.instanceId)).toEqual([]);
  });

  it('reuses one kept container for successive invocations and says so on the record', async () => {
    const first = await nebula.invoke<{ host: string }>('probe', 'host', { mode: 'warm' });
    const second = await nebula.invoke<{ host: string }>('probe', 'host', { mode: 'warm' });
    expect(first).toMatchObject({ ok: true, mode: 'warm', sandbox: 'fresh' });
    expect(second).toMatchObject({ ok: true, mode: 'warm', sandbox: 'reused' });
    expect(second.result!.host).toBe(first.result!.host);
    // The first one started the container; the second one only ran the function in it.
    expect(Object.keys(first.timing.phases)).toEqual(['create', 'attach', 'start', 'ready', 'wait']);
    expect(Object.keys(second.timing.phases)).toEqual(['wait']);
    for (const t of [first.timing, second.timing]) {
      expect(t.functionStartAt).toBeGreaterThanOrEqual(t.requestAt);
      expect(t.functionEndAt).toBeGreaterThanOrEqual(t.functionStartAt);
    }
    const cold = await nebula.invoke<{ host: string }>('probe', 'host');
    expect(cold.sandbox).toBe('fresh');
    expect(cold.result!.host).not.toBe(first.result!.host);
  });

  it('kills the function and everything it started at a timeout, before the next invocation', async () => {
    const hung = await nebula.invoke('probe', 'hang', { mode: 'warm', timeoutMs: 1500 });
    expect(hung.error?.code).toBe('TIMEOUT');
    const after = await nebula.invoke('probe', 'ps', { mode: 'warm' });
    expect(after.sandbox).toBe('reused');
    // The supervisor and this invocation: the hung function and the child it set loose are gone.
    expect(after.result).toEqual({ processes: 2 });
  });

  it('leaves nothing one invocation writes (/dev/shm, message queues, System V shared memory) to the next', async () => {
    const wrote = await nebula.invoke('probe', 'write', { mode: 'warm' });
    expect(wrote.result).toEqual({ file: true, queue: true, segment: true });
    const check = await nebula.invoke('probe', 'check', { mode: 'warm' });
    expect(check.sandbox).toBe('reused');
    expect(check.result).toEqual({ shmFiles: 0, queues: 0, segments: 0 });
  });

  it('gives a kept container the same isolation settings as a cold one', async () => {
    const cold = nebula.invoke('probe', 'sleep');
    let coldId: string | undefined;
    const mine = () => list(`nebula-faas.runtime=${runtime.instanceId}`);
    expect(
      await eventually(
        async () =>
          (coldId = (await mine()).find((c) => c.state === 'running' && !c.labels['nebula-faas.mode'])?.id) !==
          undefined,
      ),
    ).toBe(true);
    const coldInfo = (await inspect(coldId!))!;
    expect((await cold).ok).toBe(true);
    expect((await nebula.invoke('probe', 'host', { mode: 'warm' })).sandbox).toBe('reused');
    const warmId = (await mine()).find(
      (c) => c.labels['nebula-faas.mode'] === 'warm' && c.labels['nebula-faas.function'] === 'probe',
    )?.id;
    const warmInfo = (await inspect(warmId!))!;
    const flags = (i: Docker.ContainerInspectInfo) => ({
      user: i.Config.User,
      networkDisabled: (i.Config as { NetworkDisabled?: boolean }).NetworkDisabled,
      env: i.Config.Env,
      ...Object.fromEntries(
        [
          'NetworkMode',
          'Memory',
          'MemorySwap',
          'NanoCpus',
          'PidsLimit',
          'ReadonlyRootfs',
          'SecurityOpt',
          'CapDrop',
          'CapAdd',
          'Privileged',
          'IpcMode',
          'ShmSize',
          'Devices',
          'Tmpfs',
        ].map((k) => [k, (i.HostConfig as Record<string, unknown>)[k]]),
      ),
    });
    expect(flags(warmInfo)).toEqual(flags(coldInfo));
    expect(flags(coldInfo)).toMatchObject({
      user: '65534:65534',
      NetworkMode: 'none',
      ReadonlyRootfs: true,
      CapDrop: ['ALL'],
      IpcMode: 'private',
    });
    // The one addition: the supervisor, from a read-only volume.
    expect(coldInfo.Mounts).toEqual([]);
    expect(warmInfo.Mounts).toMatchObject([{ Type: 'volume', Destination: '/.nebula-faas', RW: false }]);
  });

  it('reports a function killed at the memory limit as MEMORY_LIMIT and keeps serving from the same container', async () => {
    const first = await nebula.invoke<{ host: string }>('small', 'host', { mode: 'warm' });
    const hog = await nebula.invoke('small', 'hog', { mode: 'warm', timeoutMs: 30_000 });
    expect(hog.error?.code).toBe('MEMORY_LIMIT');
    const after = await nebula.invoke<{ host: string }>('small', 'host', { mode: 'warm' });
    expect(after).toMatchObject({ ok: true, sandbox: 'reused' });
    expect(after.result!.host).toBe(first.result!.host);
  });

  it('turns stdout over the cap into OUTPUT_LIMIT, not a cut result, and the container stays usable', async () => {
    const flood = await nebula.invoke('probe', 'flood', { mode: 'warm' });
    expect(flood).toMatchObject({ ok: false, result: null, error: { code: 'OUTPUT_LIMIT' } });
    expect((await nebula.invoke('probe', 'ps', { mode: 'warm' })).result).toEqual({ processes: 2 });
  });

  it('gives concurrent invocations a container each, then keeps them for reuse', async () => {
    const recs = await Promise.all(
      [1, 2, 3].map(() => nebula.invoke<{ host: string }>('probe', 'host', { mode: 'warm' })),
    );
    expect(recs.every((r) => r.ok)).toBe(true);
    expect(new Set(recs.map((r) => r.result!.host)).size).toBe(3);
    const again = await nebula.invoke<{ host: string }>('probe', 'host', { mode: 'warm' });
    expect(again.sandbox).toBe('reused');
  });

  it('keeps at most maxWarmContainers, and removes idle ones after keepAliveMs', async () => {
    const rt = new DockerRuntime({ maxWarmContainers: 1, keepAliveMs: 1500 });
    const n = new Nebula({ builtins: false, runtimes: { docker: rt } });
    try {
      await n.deploy([
        { name: 'a', docker: { binary: probe } },
        { name: 'b', docker: { binary: probe } },
      ]);
      expect((await n.invoke('a', 'host', { mode: 'warm' })).ok).toBe(true);
      expect((await n.invoke('b', 'host', { mode: 'warm' })).ok).toBe(true);
      const kept = async () =>
        (await list(`nebula-faas.runtime=${rt.instanceId}`)).map((c) => c.labels['nebula-faas.function']);
      expect(await eventually(async () => (await kept()).join() === 'b')).toBe(true);
      expect((await n.invoke('a', 'host', { mode: 'warm' })).sandbox).toBe('fresh');
      expect(await eventually(async () => (await kept()).length === 0)).toBe(true);
      expect((await n.invoke('a', 'host', { mode: 'warm' })).sandbox).toBe('fresh');
    } finally {
      await n.close();
    }
    expect(await noLeftovers(rt.instanceId)).toEqual([]);
  });
});
