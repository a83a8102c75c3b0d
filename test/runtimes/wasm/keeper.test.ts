/**
 * The Wasm runtime's keeper, on real worker threads: held instances outlive the runtime's own
 * keep-alive, a pre-warmed one is taken as `prewarmed`, a discard drops the idle ones at once, and
 * a `warm` run goes to the worker thread that keeps an instance (an instance lives in the thread
 * that made it), so two workers never turn a kept instance into a cold start.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Nebula, WasmRuntime } from '../../../src/index.js';
import { tempDir } from '../../temp-dir.js';
import { command } from './module-builder.js';

let nebula: Nebula;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  const runtime = new WasmRuntime({ workers: 2, keepAliveMs: 200, cacheDir: tempDir('wasm-cache') });
  nebula = new Nebula({ meter: null, runtimes: { wasm: runtime } });
  await nebula.prepare(['fib', 'factorial'], ['wasm']);
});
afterAll(async () => {
  await nebula?.close();
});

describe('WasmRuntime keeper', () => {
  it('holds, pre-warms, counts and drops the kept instances of a function', async () => {
    const keeper = (await nebula.keeper('fib', 'wasm'))!;
    expect(keeper).toBeDefined();
    keeper.hold();
    // Held: the instances made ahead at deploy for prewarmed runs are gone, none is made unasked.
    expect((await nebula.invoke('fib', 10, { runtime: 'wasm', mode: 'prewarmed' })).sandbox).toBe('fresh');
    expect((await nebula.invoke('fib', 10, { runtime: 'wasm', mode: 'prewarmed' })).sandbox).toBe('fresh');
    expect(keeper.idle()).toBe(0);
    const first = await nebula.invoke('fib', 10, { runtime: 'wasm', mode: 'warm' });
    expect(first).toMatchObject({ ok: true, result: 55, sandbox: 'fresh' });
    expect(keeper.idle()).toBe(1);
    // Held: the runtime's keep-alive of 200 ms no longer drops it.
    await sleep(600);
    expect(keeper.idle()).toBe(1);
    expect(await nebula.invoke('fib', 11, { runtime: 'wasm', mode: 'warm' })).toMatchObject({
      result: 89,
      sandbox: 'reused',
    });

    await keeper.drop();
    expect(keeper.idle()).toBe(0);
    expect((await nebula.invoke('fib', 10, { runtime: 'wasm', mode: 'warm' })).sandbox).toBe('fresh');

    await keeper.drop();
    await keeper.prewarm();
    expect(keeper.idle()).toBe(1);
    expect(await nebula.invoke('fib', 12, { runtime: 'wasm', mode: 'warm' })).toMatchObject({
      ok: true,
      result: 144,
      sandbox: 'prewarmed',
    });
    expect((await nebula.invoke('fib', 10, { runtime: 'wasm', mode: 'warm' })).sandbox).toBe('reused');
    await keeper.drop();
    expect(keeper.idle()).toBe(0);
  });

  it('sends every warm run to the worker keeping the instance: one kept instance, no cold start after the first', async () => {
    const keeper = (await nebula.keeper('factorial', 'wasm'))!;
    keeper.hold();
    await keeper.drop();
    const sandboxes: string[] = [];
    const ids = new Set<string | undefined>();
    for (let i = 0; i < 40; i++) {
      const rec = await nebula.invoke('factorial', 5, { runtime: 'wasm', mode: 'warm' });
      expect(rec).toMatchObject({ ok: true, result: '120' });
      sandboxes.push(rec.sandbox);
      ids.add(rec.sandboxId);
      // Idle moments between runs: without routing, the other worker would take some runs cold.
      if (i % 4 === 0) await sleep(5);
    }
    expect(sandboxes[0]).toBe('fresh');
    expect(sandboxes.slice(1).filter((s) => s !== 'reused')).toEqual([]);
    // One instance ran all 40: the records name it (worker thread id and instance number).
    expect([...ids]).toHaveLength(1);
    expect([...ids][0]).toMatch(/^\d+\.\d+$/);
    expect(keeper.idle()).toBe(1);
    await keeper.drop();
  });

  it('keeps, at most, one instance per run in flight, and a discard leaves none', async () => {
    const keeper = (await nebula.keeper('fib', 'wasm'))!;
    keeper.hold();
    await keeper.drop();
    const recs = await Promise.all(
      Array.from({ length: 6 }, () => nebula.invoke('fib', 22, { runtime: 'wasm', mode: 'warm' })),
    );
    expect(recs.every((r) => r.ok && r.result === 17711)).toBe(true);
    const made = recs.filter((r) => r.sandbox === 'fresh').length;
    expect(new Set(recs.filter((r) => r.sandbox === 'fresh').map((r) => r.sandboxId)).size).toBe(made);
    expect(made).toBeGreaterThanOrEqual(1);
    expect(keeper.idle()).toBe(made);
    await keeper.drop();
    expect(keeper.idle()).toBe(0);
  });

  it('answers a pre-warm of a function that was undeployed, and one after close, with an error', async () => {
    const n = new Nebula({ meter: null, wasm: { workers: 1 } });
    await n.prepare(['fib'], ['wasm']);
    const keeper = (await n.keeper('fib', 'wasm'))!;
    await n.close();
    await expect(keeper.prewarm()).rejects.toThrow(/closed|undeployed/);
    expect(keeper.idle()).toBe(0);
  });
});

describe('WasmRuntime keeper when its worker thread goes away', () => {
  it('counts none of the instances the thread kept, and a warm run queued for it runs fresh on its replacement', async () => {
    const runtime = new WasmRuntime({ workers: 1, cacheDir: tempDir('wasm-cache-gone') });
    const n = new Nebula({ meter: null, runtimes: { wasm: runtime } });
    try {
      await n.prepare(['fib'], ['wasm']);
      // A function that never returns: its run is stopped at its deadline by replacing the thread.
      await n.deploy({ name: 'spin', wasm: command([0x03, 0x40, 0x0c, 0x00, 0x0b]) });
      const keeper = (await n.keeper('fib', 'wasm'))!;
      keeper.hold();
      expect((await n.invoke('fib', 10, { mode: 'warm' })).sandbox).toBe('fresh');
      expect(keeper.idle()).toBe(1);
      const spinning = n.invoke('spin', null, { timeoutMs: 300 });
      await sleep(50);
      // Queued for the one thread, which is busy spinning; it goes away at the spin's deadline.
      const queued = n.invoke('fib', 12, { mode: 'warm' });
      expect((await spinning).error?.code).toBe('TIMEOUT');
      const rec = await queued;
      expect(rec).toMatchObject({ ok: true, result: 144, sandbox: 'fresh' });
      expect(keeper.idle()).toBe(1);
      expect((await n.invoke('fib', 10, { mode: 'warm' })).sandbox).toBe('reused');
    } finally {
      await n.close();
    }
  });
});
