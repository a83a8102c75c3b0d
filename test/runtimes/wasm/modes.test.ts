/**
 * The three modes on Wasm and what a record says about them: cold (a fresh instance in the
 * invocation), prewarmed (made ahead, used once), warm (an instance an earlier invocation ran in,
 * restored to its state right after instantiation); and set-up kept out of the cold start.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Nebula, type InvocationMode, type InvocationRecord } from '../../../src/index.js';
import { buildFixtures, type Fixture } from './fixtures.js';
import { tempDir } from '../../temp-dir.js';

let fx: Record<Fixture, Uint8Array>;
let cacheDir: string;

beforeAll(async () => {
  fx = await buildFixtures();
  cacheDir = tempDir('wasm-cache');
});

describe('set-up is not cold start', () => {
  it('reports the wait of a first invocation after new Nebula() as prepareMs, outside startupMs', async () => {
    const n = new Nebula({ wasm: { cacheDir } });
    const rec = await n.invoke('fib', 20, { runtime: 'wasm' });
    await n.close();
    expect(rec.result).toBe(6765);
    const t = rec.timing;
    expect(t.prepareMs).toBeGreaterThan(0);
    expect(t.startupMs).toBeCloseTo(t.functionStartAt - t.requestAt - t.prepareMs, 6);
    expect(t.functionStartAt).toBeGreaterThanOrEqual(t.requestAt + t.prepareMs);
    expect(t.totalMs).toBeGreaterThanOrEqual(t.prepareMs + t.startupMs + t.execMs - 1e-6);
  });

  it('keeps every step of a first invocation after new Nebula() inside startupMs, and the set-up wait out of them', async () => {
    const n = new Nebula({ meter: null, wasm: { cacheDir } });
    const rec = await n.invoke('fib', 5, { runtime: 'wasm' });
    await n.close();
    expect(rec.result).toBe(5);
    expect(rec.sandbox).toBe('fresh');
    const t = rec.timing;
    expect(Object.keys(t.phases)).toEqual(['dispatch', 'instantiate', 'run']);
    expect(t.prepareMs).toBeGreaterThan(0);
    // The hand-over and the instance were made after the set-up wait ended: both fall inside startupMs.
    expect(t.phases.dispatch! + t.phases.instantiate!).toBeLessThanOrEqual(t.startupMs + 1e-6);
    expect(t.phases.instantiate).toBeGreaterThan(0);
  });

  it('reports prepareMs 0 once the function is prepared', async () => {
    const n = new Nebula({ wasm: { cacheDir } });
    await n.prepare(['fib'], ['wasm']);
    const rec = await n.invoke('fib', 20);
    await n.close();
    expect(rec.timing.prepareMs).toBe(0);
    expect(rec.timing.startupMs).toBeCloseTo(rec.timing.functionStartAt - rec.timing.requestAt, 6);
  });
});

describe('modes', () => {
  let n: Nebula;
  beforeAll(async () => {
    n = new Nebula({
      builtins: false,
      wasm: { cacheDir, workers: 1, prewarmedInstances: 1, maxWarmInstances: 2, keepAliveMs: 60_000 },
    });
    await n.deploy({ name: 'counter', wasm: fx.counter });
  });
  afterAll(async () => {
    await n.close();
  });

  it('gives records with the same fields in every mode', async () => {
    const recs: InvocationRecord[] = [];
    for (const mode of ['cold', 'prewarmed', 'warm', 'warm'] as InvocationMode[])
      recs.push(await n.invoke('counter', 'a', { mode }));
    const shape = (r: (typeof recs)[number]) => [
      Object.keys(r).sort(),
      Object.keys(r.timing).sort(),
      Object.keys(r.timing.phases).sort(),
    ];
    for (const r of recs) expect(shape(r)).toEqual(shape(recs[0]!));
    expect(recs.map((r) => r.mode)).toEqual(['cold', 'prewarmed', 'warm', 'warm']);
  });

  it('says what each mode ran in: fresh, prewarmed, then reused', async () => {
    expect((await n.invoke('counter', 'a', { mode: 'cold' })).sandbox).toBe('fresh');
    expect((await n.invoke('counter', 'a', { mode: 'prewarmed' })).sandbox).toBe('prewarmed');
    const first = await n.invoke('counter', 'a', { mode: 'warm' });
    expect(['fresh', 'prewarmed', 'reused']).toContain(first.sandbox);
    const again = await n.invoke('counter', 'b', { mode: 'warm' });
    expect(again.sandbox).toBe('reused');
    // A prewarmed instance is used once: the next prewarmed one is another, made ahead again.
    expect((await n.invoke('counter', 'a', { mode: 'prewarmed' })).sandbox).toBe('prewarmed');
  });

  it('restores a reused instance to its state right after instantiation: no memory of earlier runs', async () => {
    const recs: InvocationRecord[] = [];
    for (const word of ['one', 'two', 'three', 'four']) recs.push(await n.invoke('counter', word, { mode: 'warm' }));
    expect(recs.slice(1).every((r) => r.sandbox === 'reused')).toBe(true);
    expect(recs.map((r) => r.result)).toEqual([0, 0, 0, 0].map(() => ({ runs: 1, before: '' })));
  });

  it('drops a kept instance after keepAliveMs idle', async () => {
    const short = new Nebula({ builtins: false, wasm: { cacheDir, workers: 1, keepAliveMs: 1000 } });
    await short.deploy({ name: 'counter', wasm: fx.counter });
    await short.invoke('counter', 'a', { mode: 'warm' });
    expect((await short.invoke('counter', 'a', { mode: 'warm' })).sandbox).toBe('reused');
    await new Promise((r) => setTimeout(r, 3000));
    expect((await short.invoke('counter', 'a', { mode: 'warm' })).sandbox).not.toBe('reused');
    await short.close();
  });

  it('keeps no instance with maxWarmInstances 0', async () => {
    const none = new Nebula({ builtins: false, wasm: { cacheDir, workers: 1, maxWarmInstances: 0 } });
    await none.deploy({ name: 'counter', wasm: fx.counter });
    const recs: InvocationRecord[] = [];
    for (let i = 0; i < 4; i++) recs.push(await none.invoke('counter', 'a', { mode: 'warm' }));
    expect(recs.some((r) => r.sandbox === 'reused')).toBe(false);
    await none.close();
  });

  it('never reuses an instance that cannot be restored (a start function), and says so', async () => {
    const m = new Nebula({ builtins: false, wasm: { cacheDir, workers: 1 } });
    for (let i = 0; i < 50 && !m.has('coin'); i++)
      await m.deploy({ name: 'coin', wasm: fx.startCoin }).catch(() => undefined);
    const recs: InvocationRecord[] = [];
    for (let i = 0; i < 6; i++) recs.push(await m.invoke('coin', null, { mode: 'warm' }));
    expect(recs.some((r) => r.sandbox === 'reused')).toBe(false);
    await m.close();
  });

  it('runs prewarmed without making instances ahead when prewarmedInstances is 0', async () => {
    const none = new Nebula({ builtins: false, wasm: { cacheDir, workers: 1, prewarmedInstances: 0 } });
    await none.deploy({ name: 'counter', wasm: fx.counter });
    const rec = await none.invoke('counter', 'a', { mode: 'prewarmed' });
    expect(rec).toMatchObject({ ok: true, sandbox: 'fresh' });
    await none.close();
  });
});
