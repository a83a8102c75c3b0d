/**
 * Functions that attack the runtime: start functions that never return or trap, memory declared
 * or grown past the cap, floods of output and of host calls, output over the cap, and timeouts
 * of queued runs. Each case ends as that function's own coded error; the workers, the host and
 * every other function's runs carry on. Real worker threads, real modules.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Nebula, WasmRuntime, type InvocationRecord } from '../../../src/index.js';
import { buildFixtures, componentOf, type Fixture } from './fixtures.js';
import { tempDir } from '../../temp-dir.js';

let fx: Record<Fixture, Uint8Array>;
let cacheDir: string;
let nebula: Nebula;
const MiB = 1024 * 1024;

beforeAll(async () => {
  fx = await buildFixtures();
  cacheDir = tempDir('wasm-cache');
  nebula = new Nebula({ wasm: { cacheDir, instantiateTimeoutMs: 300 } });
  await nebula.prepare(['fib'], ['wasm']);
});
afterAll(async () => {
  await nebula.close();
});

const fibs = (n: number) => Promise.all(Array.from({ length: n }, (_, i) => nebula.invoke('fib', 15 + (i % 5))));
const FIB = [610, 987, 1597, 2584, 4181];

describe('start functions', () => {
  it('refuses a start function that never returns, and every other function keeps running meanwhile', async () => {
    const [refused, others] = await Promise.all([
      nebula.deploy({ name: 'start-loop', wasm: fx.startLoop }).catch((e: unknown) => e),
      fibs(10),
    ]);
    expect(refused).toMatchObject({ code: 'INVALID_FUNCTION' });
    expect((refused as Error).message).toMatch(/did not finish within 300 ms/);
    expect(others.map((r) => r.result)).toEqual([...FIB, ...FIB]);
    expect(nebula.has('start-loop')).toBe(false);
    // The stuck worker was replaced: the pool still serves both workers' worth of runs.
    expect((await fibs(10)).every((r) => r.ok)).toBe(true);
  });

  it('refuses a start function that traps, without crashing a worker or failing concurrent runs', async () => {
    const [refused, others] = await Promise.all([
      nebula.deploy({ name: 'start-trap', wasm: fx.startTrap }).catch((e: unknown) => e),
      fibs(40),
    ]);
    expect(refused).toMatchObject({ code: 'INVALID_FUNCTION' });
    expect((refused as Error).message).toMatch(/instance cannot be created: RuntimeError: unreachable/);
    expect(others.filter((r) => !r.ok)).toEqual([]);
  });

  it("makes a start function that traps at invocation time that invocation's FUNCTION_FAILED", async () => {
    // One time in two the start function traps; deploy until a first instance succeeded.
    for (let i = 0; i < 50 && !nebula.has('coin'); i++)
      await nebula.deploy({ name: 'coin', wasm: fx.startCoin }).catch(() => undefined);
    expect(nebula.has('coin')).toBe(true);
    const recs: InvocationRecord[] = [];
    for (let i = 0; i < 24; i++) recs.push(await nebula.invoke('coin', null));
    const failed = recs.filter((r) => !r.ok);
    expect(failed.length).toBeGreaterThan(0);
    for (const r of failed)
      expect(r.error).toMatchObject({
        code: 'FUNCTION_FAILED',
        message: expect.stringMatching(/instance could not be created: RuntimeError: unreachable/),
      });
    expect(recs.filter((r) => r.ok).length).toBeGreaterThan(0);
    expect((await fibs(4)).every((r) => r.ok)).toBe(true);
  });
});

describe('memory', () => {
  it('refuses initial memory over limits.memoryMiB at deploy, through the preview1 path and through jco glue', async () => {
    const err = await nebula
      .deploy({ name: 'big-initial', wasm: fx.bigInitial, limits: { memoryMiB: 64 } })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'INVALID_FUNCTION' });
    expect((err as Error).message).toMatch(/1024 MiB of initial memory, over its memory cap of 64 MiB/);
    const glue = new Nebula({ builtins: false, wasm: { cacheDir, componentHost: 'glue', workers: 1 } });
    const component = await componentOf(fx.bigInitial);
    await expect(glue.deploy({ name: 'big-glue', wasm: component, limits: { memoryMiB: 64 } })).rejects.toMatchObject({
      code: 'INVALID_FUNCTION',
    });
    await glue.close();
  });

  it('reports a memory.grow past the cap as MEMORY_LIMIT, even far below the cap', async () => {
    await nebula.deploy({ name: 'bigmalloc', wasm: fx.bigmalloc, limits: { memoryMiB: 64 } });
    const rec = await nebula.invoke('bigmalloc', null);
    expect(rec.error).toMatchObject({ code: 'MEMORY_LIMIT', exitCode: 1 });
    expect(rec.error?.message).toContain('64 MiB');
    // Within the cap the same program succeeds.
    await nebula.deploy({ name: 'bigmalloc-ok', wasm: fx.bigmalloc, limits: { memoryMiB: 512 } });
    expect((await nebula.invoke('bigmalloc-ok', null)).ok).toBe(true);
  });
});

describe('output and host calls', () => {
  beforeAll(async () => {
    await nebula.deploy([
      { name: 'bytes', wasm: fx.bytes },
      { name: 'iovecs', wasm: fx.iovecs, limits: { memoryMiB: 128 } },
      { name: 'emptywrites', wasm: fx.emptywrites },
      { name: 'bigjson', wasm: fx.bigjson },
    ]);
  });

  it('keeps host memory bounded under five million one-byte writes', async () => {
    const before = process.memoryUsage().rss;
    const rec = await nebula.invoke('bytes', [2, 5_000_000], { timeoutMs: 120_000 });
    const grew = process.memoryUsage().rss - before;
    expect(rec.ok).toBe(true);
    expect(rec.error).toBeUndefined();
    // The old chunk-per-write buffers grew the host by about a gigabyte here; the cap is 1 MiB.
    expect(grew).toBeLessThan(256 * MiB);
  });

  it('stops a function at once when its stdout passes the cap: OUTPUT_LIMIT', async () => {
    const rec = await nebula.invoke('bytes', [1, 5_000_000], { timeoutMs: 120_000 });
    expect(rec.error?.code).toBe('OUTPUT_LIMIT');
    expect(rec.result).toBeNull();
  });

  it('answers one fd_write with four million empty iovecs with EINVAL, not a gigabyte of host memory', async () => {
    const before = process.memoryUsage().rss;
    const rec = await nebula.invoke('iovecs', 4_000_000);
    expect(rec.result).toEqual({ errno: 28 });
    expect(process.memoryUsage().rss - before).toBeLessThan(256 * MiB);
  });

  it('bounds a flood of empty writes by the timeout, without failing an unrelated queued invocation', async () => {
    const one = new Nebula({ builtins: true, wasm: { cacheDir, workers: 1 } });
    await one.deploy({ name: 'emptywrites', wasm: fx.emptywrites });
    const flood = one.invoke('emptywrites', 400_000_000, { timeoutMs: 1500 });
    const queued = one.invoke('fib', 20);
    const [a, b] = await Promise.all([flood, queued]);
    expect(a.error?.code).toBe('TIMEOUT');
    expect(b.result).toBe(6765);
    await one.close();
  });

  it('turns a result over the output cap into OUTPUT_LIMIT, never a silently cut ok record', async () => {
    const rec = await nebula.invoke('bigjson', 300_000);
    expect(rec.ok).toBe(false);
    expect(rec.error?.code).toBe('OUTPUT_LIMIT');
    const roomy = new Nebula({ builtins: false, wasm: { cacheDir, maxOutputBytes: 4 * MiB, workers: 1 } });
    await roomy.deploy({ name: 'bigjson', wasm: fx.bigjson });
    const whole = await roomy.invoke('bigjson', 300_000);
    expect(whole.ok).toBe(true);
    expect((whole.result as number[]).length).toBe(300_000);
    expect((whole.result as number[])[299_999]).toBe(299_999);
    await roomy.close();
  });

  it('caps the stdout of a WASI 0.2 component run through jco glue the same way', async () => {
    const glue = new Nebula({
      builtins: false,
      wasm: { cacheDir, componentHost: 'glue', workers: 1, maxOutputBytes: 64 * 1024 },
    });
    await glue.deploy({ name: 'bigjson', wasm: await componentOf(fx.bigjson) });
    expect((await glue.invoke('bigjson', 100)).ok).toBe(true);
    expect((await glue.invoke('bigjson', 100_000)).error?.code).toBe('OUTPUT_LIMIT');
    await glue.close();
  });
});

describe('queued runs', () => {
  it('takes a queued run off the queue at its timeout or abort, and never stops the run ahead of it', async () => {
    const rt = new WasmRuntime({ workers: 1, cacheDir });
    const one = new Nebula({ builtins: false, runtimes: { wasm: rt } });
    await one.deploy({ name: 'loop', wasm: fx.loop });
    // An endless run holds the only worker until its own deadline.
    const running = one.invoke('loop', null, { timeoutMs: 1500 });
    const timedOut = await one.invoke('loop', null, { timeoutMs: 50 });
    const ac = new AbortController();
    const aborted = one.invoke('loop', null, { signal: ac.signal });
    ac.abort();
    const first = await running;
    expect(timedOut.error?.code).toBe('TIMEOUT');
    expect(timedOut.error?.message).toMatch(/did not start/);
    expect((await aborted).error?.code).toBe('ABORTED');
    // The run ahead was stopped by its own deadline only, and had started before the queued one gave up:
    // stopping its worker for the queued one would have started it again afterwards.
    expect(first.error?.code).toBe('TIMEOUT');
    expect(first.error?.message).toMatch(/ran longer than its timeout of 1500 ms/);
    expect(first.timing.functionStartAt).toBeLessThan(timedOut.timing.requestAt + 50);
    await one.close();
  });
});
