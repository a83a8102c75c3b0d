/**
 * Faults between nebula-faas and the Docker engine, against the real engine: aborts before the
 * container started, an engine that freezes or dies while a container is awaited (through a
 * proxy on a unix socket in front of the real engine), and removals that fail during the outage.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerRuntime, Nebula, type InvocationMode, type InvocationRecord } from '../../../src/index.js';
import { compile, dockerAvailable, EngineProxy, eventually, leftovers, list, noLeftovers } from './engine.js';

const PROGRAMS = {
  spin: 'int main(void){volatile unsigned long n=0;for(;;)n++;}',
  sleeper: '#include <unistd.h>\nint main(void){for(;;)sleep(1);}',
};

/** The record, or 'pending' when the invocation has not settled after `ms` (it must always settle). */
function settled(p: Promise<InvocationRecord>, ms = 30_000): Promise<InvocationRecord | 'pending'> {
  return Promise.race([p, new Promise<'pending'>((r) => setTimeout(() => r('pending'), ms))]);
}

const running = async (instanceId: string) =>
  (await list(`nebula-faas.runtime=${instanceId}`)).filter((c) => c.state === 'running').map((c) => c.id);
/** Processes in a container, as the engine lists them. */
async function processes(id: string): Promise<string[]> {
  try {
    const { stdout } = await promisify(execFile)('docker', ['top', id, '-o', 'pid,comm'], { encoding: 'utf8' });
    return stdout.trim().split('\n').slice(1);
  } catch {
    return [];
  }
}

const d = dockerAvailable() ? describe : describe.skip;

d('Docker engine faults', () => {
  let bins: Record<string, string>;
  beforeAll(() => {
    bins = compile(PROGRAMS);
  });

  describe('aborts before the container started', () => {
    const runtime = new DockerRuntime({ prewarmedContainers: 1 });
    const nebula = new Nebula({ builtins: false, runtimes: { docker: runtime } });
    beforeAll(async () => {
      await nebula.deploy({ name: 'spin', docker: { binary: bins.spin! } });
    });
    afterAll(async () => {
      await nebula.close();
      expect(await noLeftovers(runtime.instanceId)).toEqual([]);
    });

    for (const mode of ['cold', 'prewarmed', 'warm'] as InvocationMode[]) {
      it(`${mode}: an already-aborted signal, or an abort 0-50 ms in, ends the invocation as ABORTED and leaves nothing running`, async () => {
        const recs: Array<InvocationRecord | 'pending'> = [];
        const gone = new AbortController();
        gone.abort();
        recs.push(await settled(nebula.invoke('spin', null, { mode, signal: gone.signal, timeoutMs: 120_000 })));
        for (const delayMs of [0, 1, 5, 10, 20, 30, 50]) {
          const ac = new AbortController();
          setTimeout(() => ac.abort(), delayMs);
          recs.push(await settled(nebula.invoke('spin', null, { mode, signal: ac.signal, timeoutMs: 120_000 })));
        }
        expect(recs.map((r) => (r === 'pending' ? r : r.error?.code))).toEqual(Array(8).fill('ABORTED'));
        // Cold and prewarmed containers are gone (pooled ones are created, never started); a kept
        // warm container stays, with only its supervisor left in it.
        if (mode !== 'warm')
          expect(await eventually(async () => (await running(runtime.instanceId)).length === 0)).toBe(true);
        else
          for (const id of await running(runtime.instanceId))
            expect(
              await eventually(
                async () =>
                  (await processes(id)).join().includes('nebula-supervis') && (await processes(id)).length === 1,
              ),
            ).toBe(true);
      });
    }
  });

  for (const mode of ['cold', 'warm'] as InvocationMode[]) {
    it(`${mode}: an engine that freezes while the container runs gives RUNTIME_UNAVAILABLE after the timeout, close() resolves, and the container is removed once it answers again`, async () => {
      const proxy = await EngineProxy.start();
      const runtime = new DockerRuntime({ connection: { socketPath: proxy.socketPath } });
      const nebula = new Nebula({ builtins: false, runtimes: { docker: runtime } });
      try {
        await nebula.deploy({ name: 'sleeper', docker: { binary: bins.sleeper! } });
        // Warm: a first invocation leaves a kept container; the frozen one runs in it.
        if (mode === 'warm')
          expect((await nebula.invoke('sleeper', null, { mode, timeoutMs: 2000 })).error?.code).toBe('TIMEOUT');
        const invocation = nebula.invoke('sleeper', null, { mode, timeoutMs: 4000 });
        expect(await eventually(async () => (await running(runtime.instanceId)).length > 0)).toBe(true);
        proxy.freeze();
        const rec = await settled(invocation);
        expect(rec !== 'pending' && rec.error?.code).toBe('RUNTIME_UNAVAILABLE');
        expect(await settled(nebula.close().then(() => rec as InvocationRecord))).not.toBe('pending');
        expect((await leftovers(runtime.instanceId)).length).toBeGreaterThan(0);
        proxy.thaw();
        expect(await noLeftovers(runtime.instanceId, 60_000)).toEqual([]);
      } finally {
        proxy.thaw();
        await nebula.close();
        await proxy.close();
      }
    });
  }

  it('an engine that dies while containers run: every invocation settles as RUNTIME_UNAVAILABLE, and their containers are removed when it is back', async () => {
    const proxy = await EngineProxy.start();
    const runtime = new DockerRuntime({ connection: { socketPath: proxy.socketPath } });
    const nebula = new Nebula({ builtins: false, runtimes: { docker: runtime } });
    try {
      await nebula.deploy({ name: 'sleeper', docker: { binary: bins.sleeper! } });
      await nebula.invoke('sleeper', null, { mode: 'warm', timeoutMs: 1000 });
      const modes: InvocationMode[] = ['cold', 'cold', 'cold', 'prewarmed', 'warm'];
      const invocations = modes.map((mode) => settled(nebula.invoke('sleeper', null, { mode, timeoutMs: 60_000 })));
      expect(await eventually(async () => (await running(runtime.instanceId)).length >= modes.length)).toBe(true);
      proxy.cut();
      const recs = await Promise.all(invocations);
      expect(recs.map((r) => (r === 'pending' ? r : r.error?.code))).toEqual(modes.map(() => 'RUNTIME_UNAVAILABLE'));
      expect((await leftovers(runtime.instanceId)).length).toBeGreaterThan(0);
      proxy.restore();
      // What remains is at most the prewarmed pool, refilled after the outage: created, never started.
      const onlyPool = async () => {
        const left = await list(`nebula-faas.runtime=${runtime.instanceId}`);
        return left.length <= 2 && left.every((c) => c.state === 'created');
      };
      expect(await eventually(onlyPool, 60_000)).toBe(true);
    } finally {
      proxy.restore();
      await nebula.close();
      await proxy.close();
    }
    expect(await noLeftovers(runtime.instanceId)).toEqual([]);
  });
});
