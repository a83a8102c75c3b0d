/**
 * What a module makes the host allocate outside its linear memory (tables, their growth, element
 * segments, tags, exports, functions, globals) is planned at deploy against the memory cap: a
 * 153-byte module with a 10 000 000-entry table used to abort the whole host (V8's fatal heap
 * exhaustion in a worker), also when uploaded to the server. Modules at V8's own limits still
 * deploy and run. Real worker threads, real modules, a real HTTP server.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Nebula } from '../../../src/index.js';
import { createServer, type NebulaServer } from '../../../src/server/index.js';
import { call, command, i32, leb, T, wasmModule } from './module-builder.js';

let nebula: Nebula;
let cacheDir: string;
const exit0 = [...i32(0), ...call(0)];
const table = (min: number, max?: number) =>
  max === undefined ? [T.funcref, 0x00, ...leb(min)] : [T.funcref, 0x01, ...leb(min), ...leb(max)];
/** A command with one table of `min` entries (and `max`). */
const withTable = (min: number, max?: number) => command(exit0, { tables: [table(min, max)] });

beforeAll(async () => {
  cacheDir = mkdtempSync(join(tmpdir(), 'nebula-wasm-cache-'));
  nebula = new Nebula({ builtins: true, wasm: { cacheDir, workers: 2 } });
  await nebula.prepare(['fib'], ['wasm']);
});
afterAll(async () => {
  await nebula.close();
  rmSync(cacheDir, { recursive: true, force: true });
});

const fibs = () => Promise.all(Array.from({ length: 6 }, () => nebula.invoke('fib', 20)));

describe('tables', () => {
  it('refuses a 10 000 000-entry table in a tiny module at deploy, and the host and other functions carry on', async () => {
    const bytes = withTable(10_000_000);
    expect(bytes.length).toBeLessThan(160);
    const [err, others] = await Promise.all([
      nebula.deploy({ name: 't10m', wasm: bytes }).catch((e: unknown) => e),
      fibs(),
    ]);
    expect(err).toMatchObject({ code: 'INVALID_FUNCTION' });
    expect((err as Error).message).toMatch(/tables of 10000000 entries/);
    expect(others.every((r) => r.result === 6765)).toBe(true);
    expect(nebula.has('t10m')).toBe(false);
  });

  it('refuses 3 000 000 entries against a 1 MiB cap, naming the cap, and deploys them under a cap they fit', async () => {
    const err = await nebula
      .deploy({ name: 't3m', wasm: withTable(3_000_000), limits: { memoryMiB: 1 } })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'INVALID_FUNCTION' });
    expect((err as Error).message).toMatch(/tables of 3000000 entries.*over its memory cap of 1.00 MiB/);
    await nebula.deploy({ name: 't10k', wasm: withTable(10_000), limits: { memoryMiB: 1 } });
    expect((await nebula.invoke('t10k', null)).ok).toBe(true);
  });

  it('bounds table.grow at run time by the planned maximum, in every mode', async () => {
    // _start: exit(table.grow(ref.null, 2000) + 1): 0 when the grow fails (-1), else the old size + 1.
    const grow = (min: number, max?: number) =>
      command([0xd0, T.funcref, ...i32(2000), 0xfc, 15, 0x00, ...i32(1), 0x6a, ...call(0)], {
        tables: [table(min, max)],
      });
    await nebula.deploy([
      { name: 'grow-fits', wasm: grow(1, 5000) },
      { name: 'grow-no-max', wasm: grow(1) },
      { name: 'grow-huge-max', wasm: grow(1, 10_000_000) },
    ]);
    for (const mode of ['cold', 'prewarmed', 'warm'] as const) {
      expect((await nebula.invoke('grow-fits', null, { mode })).error?.exitCode).toBe(2);
      expect((await nebula.invoke('grow-no-max', null, { mode })).ok).toBe(true);
      expect((await nebula.invoke('grow-huge-max', null, { mode })).ok).toBe(true);
    }
  });

  it('refuses the same through a wasm upload to the server, which keeps serving', async () => {
    const api: NebulaServer = createServer(nebula);
    const { url } = await api.listen(0, '127.0.0.1');
    try {
      const res = await fetch(`${url}/functions?name=t10m`, {
        method: 'POST',
        headers: { 'content-type': 'application/wasm' },
        body: Buffer.from(withTable(10_000_000)),
      });
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('INVALID_FUNCTION');
      const again = await fetch(`${url}/invoke`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ function: 'fib', input: 20, runtime: 'wasm' }),
      });
      expect(((await again.json()) as { result: unknown }).result).toBe(6765);
    } finally {
      await api.close();
    }
  });
});

describe('everything else an instance makes the host hold', () => {
  it('refuses passive element segments, tags and exports past the host limit, naming them', async () => {
    const passive = command(exit0, {
      // (elem func 0 0 0 ...): one passive segment of 1 000 000 entries.
      elems: [[0x01, 0x00, ...leb(1_000_000), ...new Array<number>(1_000_000).fill(0)]],
    });
    const tags = command(exit0, { tags: Array.from({ length: 300_000 }, () => [0x00, 1]) });
    const exports = command(exit0, {
      exports: Array.from({ length: 60_000 }, (_, i) => [`e${i}`, 0, 0] as [string, number, number]),
    });
    for (const [wasm, what] of [
      [passive, /passive element segments of 1000000 entries/],
      [tags, /300000 tags/],
      [exports, /60002 exports/],
    ] as const) {
      const err = await nebula.deploy({ name: 'held', wasm }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'INVALID_FUNCTION' });
      expect((err as Error).message).toMatch(what);
      expect((err as Error).message).toMatch(/over the 8.00 MiB an instance may take outside its linear memory/);
    }
    expect((await fibs()).every((r) => r.result === 6765)).toBe(true);
  });

  it('takes the host memory off the cap: a module filling its cap with initial memory is refused', async () => {
    const full = command(exit0, { memories: [[0x00, 16]], tables: [table(100)] });
    const err = await nebula.deploy({ name: 'full', wasm: full, limits: { memoryMiB: 1 } }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'INVALID_FUNCTION' });
    expect((err as Error).message).toMatch(/with 1.00 MiB of initial memory is over its memory cap of 1.00 MiB/);
    await nebula.deploy({ name: 'roomy', wasm: full, limits: { memoryMiB: 2 } });
    expect((await nebula.invoke('roomy', null)).ok).toBe(true);
  });
});

describe("modules at V8's limits", () => {
  it('deploys and runs a module with a million functions, where the rewrite would pass the limit', async () => {
    const funcs = new Array<number>(999_998).fill(1);
    const bytes = command(exit0, { funcs: [1, ...funcs], code: funcs.map(() => [0x00, 0x0b]) });
    await nebula.deploy({ name: 'million', wasm: bytes });
    for (const mode of ['cold', 'prewarmed', 'warm'] as const)
      expect((await nebula.invoke('million', null, { mode })).ok).toBe(true);
    await nebula.undeploy('million');
  });

  it('deploys and runs a module with a million globals and one with 100 000 imports', async () => {
    const globals = command(exit0, {
      globals: Array.from({ length: 1_000_000 }, (_, i) => [T.i32, i % 2, 0x41, 0x00, 0x0b]),
    });
    const imports = command([...i32(0), ...call(99_999)], {
      imports: Array.from(
        { length: 100_000 },
        () => ['wasi_snapshot_preview1', 'proc_exit', 0] as [string, string, number],
      ),
    });
    await nebula.deploy([
      { name: 'globals', wasm: globals },
      { name: 'imports', wasm: imports },
    ]);
    for (const mode of ['cold', 'warm'] as const) {
      expect((await nebula.invoke('globals', null, { mode })).ok).toBe(true);
      expect((await nebula.invoke('imports', null, { mode })).ok).toBe(true);
    }
  });
});

describe('modules the host cannot snapshot, and entries that are not functions', () => {
  it('deploys and runs a module with a mutable v128 global, warm invocations on instances never reused', async () => {
    const v128 = [T.v128, 0x01, 0xfd, 12, ...new Array<number>(16).fill(0), 0x0b];
    await nebula.deploy({ name: 'v128', wasm: command(exit0, { globals: [v128] }) });
    const recs = [];
    for (let i = 0; i < 4; i++) recs.push(await nebula.invoke('v128', null, { mode: 'warm' }));
    expect(recs.every((r) => r.ok)).toBe(true);
    expect(recs.map((r) => r.sandbox)).not.toContain('reused');
  });

  it('refuses a `_start` that is not a function, or one with parameters, with INVALID_FUNCTION', async () => {
    const startGlobal = wasmModule({
      types: [[[T.i32], []]],
      imports: [['wasi_snapshot_preview1', 'proc_exit', 0]],
      memories: [[0x00, 1]],
      globals: [[T.i32, 0x00, 0x41, 0x00, 0x0b]],
      exports: [
        ['memory', 2, 0],
        ['_start', 3, 0],
      ],
    });
    const err = await nebula.deploy({ name: 'start-global', wasm: startGlobal }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'INVALID_FUNCTION' });
    expect((err as Error).message).toMatch(/`_start` export is a global, not a function/);
    const withParam = command([], {
      types: [
        [[T.i32], []],
        [[T.i32], []],
      ],
    });
    const err2 = await nebula.deploy({ name: 'start-param', wasm: withParam }).catch((e: unknown) => e);
    expect(err2).toMatchObject({ code: 'INVALID_FUNCTION' });
    expect((err2 as Error).message).toMatch(/`_start` has the type \(i32\) -> \(\); a WASI command's/);
  });
});
