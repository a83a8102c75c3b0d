/**
 * A worker thread that dies under one function is that function's failure: its invocation gets
 * FUNCTION_FAILED, the thread is replaced at once (no start-up back-off: it had started), and
 * every other function keeps running; a function whose instances crash a thread while it is being
 * deployed is refused. The crash here is a real one: a worker's JavaScript heap exhausted by a
 * table the function grows, in a worker given the smallest heap it can start with.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Nebula, WasmRuntime } from '../../../src/index.js';
import { call, command, i32, leb, T } from './module-builder.js';

let cacheDir: string;
let heapMiB = 0;
let nebula: Nebula;

/** `_start`: grow the one table by `entries` (its declared maximum allows it), exit 0. */
const grower = (entries: number) =>
  command([0xd0, T.funcref, ...i32(entries), 0xfc, 15, 0x00, 0x1a, ...i32(0), ...call(0)], {
    tables: [[T.funcref, 0x01, 1, ...leb(entries + 1)]],
  });

beforeAll(async () => {
  cacheDir = mkdtempSync(join(tmpdir(), 'nebula-wasm-cache-'));
  // The smallest heap a worker starts (and runs fib) with, plus 1 MiB so that starting is never the
  // marginal case; a table grown by 240 000 entries needs about 4 MiB more of it.
  for (let mib = 4; mib <= 32 && !heapMiB; mib++) {
    const n = new Nebula({ runtimes: { wasm: new WasmRuntime({ workers: 1, workerHeapMiB: mib, cacheDir }) } });
    if ((await n.invoke('fib', 10)).ok) heapMiB = mib;
    await n.close();
  }
  expect(heapMiB).toBeGreaterThan(0);
  heapMiB += 1;
  nebula = new Nebula({ runtimes: { wasm: new WasmRuntime({ workers: 1, workerHeapMiB: heapMiB, cacheDir }) } });
  await nebula.prepare(['fib', 'prime'], ['wasm']);
});
afterAll(async () => {
  await nebula?.close();
  rmSync(cacheDir, { recursive: true, force: true });
});

describe('a function that crashes its worker thread', () => {
  it('fails its own invocations with FUNCTION_FAILED while other functions keep running, with no back-off', async () => {
    await nebula.deploy({ name: 'grower', wasm: grower(240_000) });
    for (let i = 0; i < 4; i++) {
      const rec = await nebula.invoke('grower', null, { mode: (['cold', 'prewarmed', 'warm'] as const)[i % 3] });
      expect(rec.error?.code).toBe('FUNCTION_FAILED');
      expect(rec.error?.message).toMatch(/crashed the wasm worker thread running it \(ERR_WORKER_OUT_OF_MEMORY/);
      // Right after the crash: the thread was replaced at once, not after a back-off.
      const fib = await nebula.invoke('fib', 20);
      expect(fib.error).toBeUndefined();
      expect(fib.result).toBe(6765);
      expect((await nebula.invoke('prime', 100)).ok).toBe(true);
    }
    const after = await Promise.all(Array.from({ length: 10 }, () => nebula.invoke('fib', 15)));
    expect(after.map((r) => r.error?.code ?? r.result)).toEqual(new Array(10).fill(610));
  });

  it('refuses a function whose instance crashes the worker while it is deployed, and keeps the others', async () => {
    const big = command([...i32(0), ...call(0)], { tables: [[T.funcref, 0x00, ...leb(240_000)]] });
    const err = await nebula.deploy({ name: 'big-table', wasm: big }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'INVALID_FUNCTION' });
    expect((err as Error).message).toMatch(/making an instance crashed the worker thread \(ERR_WORKER_OUT_OF_MEMORY/);
    expect(nebula.has('big-table')).toBe(false);
    expect((await nebula.invoke('fib', 20)).result).toBe(6765);
  });

  it('runs the same function when it stays within what the worker holds', async () => {
    await nebula.deploy({ name: 'small-grower', wasm: grower(1000) });
    expect((await nebula.invoke('small-grower', null)).ok).toBe(true);
  });
});
