/**
 * The Docker runtime's keeper on the real engine: held containers outlive the runtime's own
 * keep-alive, a pre-warmed one is taken as `prewarmed`, and drop removes the idle ones at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerRuntime, Nebula } from '../../../src/index.js';
import { compileProgram, dockerAvailable, noLeftovers } from './engine.js';

const d = dockerAvailable() ? describe : describe.skip;

d('DockerRuntime keeper', () => {
  let runtime: DockerRuntime;
  let nebula: Nebula;
  beforeAll(async () => {
    runtime = new DockerRuntime({ keepAliveMs: 200 });
    nebula = new Nebula({ builtins: false, meter: null, runtimes: { docker: runtime } });
    await nebula.deploy({ name: 'probe', docker: { binary: compileProgram('probe') } });
  });
  afterAll(async () => {
    await nebula?.close();
    if (runtime) expect(await noLeftovers(runtime.instanceId)).toEqual([]);
  });

  it('holds, pre-warms, counts and drops the kept containers of a function', async () => {
    const keeper = (await nebula.keeper('probe', 'docker'))!;
    expect(keeper).toBeDefined();
    keeper.hold();
    const first = await nebula.invoke('probe', 'host', { mode: 'warm' });
    expect(first.sandbox).toBe('fresh');
    expect(keeper.idle()).toBe(1);
    // Held: the runtime's keep-alive of 200 ms no longer removes it.
    await new Promise((r) => setTimeout(r, 600));
    expect(keeper.idle()).toBe(1);
    const again = await nebula.invoke('probe', 'host', { mode: 'warm' });
    expect(again.sandbox).toBe('reused');
    // Records name the container they ran in: the reused one is the first's.
    expect(first.sandboxId).toMatch(/^[0-9a-f]{64}$/);
    expect(again.sandboxId).toBe(first.sandboxId);

    await keeper.drop();
    expect(keeper.idle()).toBe(0);
    const remade = await nebula.invoke('probe', 'host', { mode: 'warm' });
    expect(remade.sandbox).toBe('fresh');
    expect(remade.sandboxId).toMatch(/^[0-9a-f]{64}$/);
    expect(remade.sandboxId).not.toBe(first.sandboxId);
    const cold = await nebula.invoke('probe', 'host', { mode: 'cold' });
    expect(cold.sandboxId).toMatch(/^[0-9a-f]{64}$/);
    expect(cold.sandboxId).not.toBe(remade.sandboxId);

    await keeper.drop();
    await keeper.prewarm();
    expect(keeper.idle()).toBe(1);
    const ahead = await nebula.invoke('probe', 'host', { mode: 'warm' });
    expect(ahead).toMatchObject({ ok: true, sandbox: 'prewarmed' });
    expect((await nebula.invoke('probe', 'host', { mode: 'warm' })).sandbox).toBe('reused');
    await keeper.drop();
  });
});
