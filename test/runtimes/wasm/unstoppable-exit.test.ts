/**
 * `proc_exit` never returns, and neither does a write past the stdout cap: a module that wraps
 * them in its own exception handler (`try ... catch_all`, legacy wasm exception handling, which
 * Node 20's V8 runs) cannot carry on as if they had not happened. Real worker threads.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Nebula, type InvocationMode } from '../../../src/index.js';
import { call, command, i32, T } from './module-builder.js';

let nebula: Nebula;
let cacheDir: string;
const MODES: InvocationMode[] = ['cold', 'prewarmed', 'warm'];

/** `try (body) catch_all end` */
const tryCatchAll = (body: number[]) => [0x06, 0x40, ...body, 0x19, 0x0b];
const FD_WRITE = 1;
/** fd_write(1, iovec at 16, 1, nwritten at 32): the iovec is (text at 64, `len`). */
const write = (len: number) => [
  ...i32(16),
  ...i32(64),
  0x36,
  0x02,
  0x00, // i32.store
  ...i32(20),
  ...i32(len),
  0x36,
  0x02,
  0x00,
  ...i32(1),
  ...i32(16),
  ...i32(1),
  ...i32(32),
  ...call(FD_WRITE),
  0x1a, // drop
];
const imports: Array<[string, string, number]> = [
  ['wasi_snapshot_preview1', 'proc_exit', 0],
  ['wasi_snapshot_preview1', 'fd_write', 2],
];
const types: Array<[number[], number[]]> = [
  [[T.i32], []],
  [[], []],
  [[T.i32, T.i32, T.i32, T.i32], [T.i32]],
];
/** A command whose data at 64 is "escaped" (what it prints when its handler caught the exit). */
const catching = (body: number[]) =>
  command(body, {
    types,
    imports,
    datas: [[0x00, ...i32(64), 0x0b, 7, ...Buffer.from('escaped')]],
  });

beforeAll(async () => {
  cacheDir = mkdtempSync(join(tmpdir(), 'nebula-wasm-cache-'));
  nebula = new Nebula({ builtins: true, wasm: { cacheDir, workers: 2, maxOutputBytes: 4096 } });
  await nebula.deploy([
    // try { proc_exit(7) } catch_all {}; print "escaped"; return
    { name: 'catch-exit', wasm: catching([...tryCatchAll([...i32(7), ...call(0)]), ...write(7)]) },
    // try { proc_exit(0) } catch_all {}; unreachable
    { name: 'catch-exit-0', wasm: catching([...tryCatchAll([...i32(0), ...call(0)]), 0x00]) },
    // try { write 8 KiB to stdout (past the 4 KiB cap) } catch_all {}; print "escaped"; exit 0
    { name: 'catch-output', wasm: catching([...tryCatchAll(write(8192)), ...write(7), ...i32(0), ...call(0)]) },
  ]);
});
afterAll(async () => {
  await nebula.close();
  rmSync(cacheDir, { recursive: true, force: true });
});

describe('an exit a module catches', () => {
  it('keeps the exit code and drops what the module did after it, in every mode', async () => {
    for (const mode of MODES) {
      for (let i = 0; i < 3; i++) {
        const rec = await nebula.invoke('catch-exit', null, { mode });
        expect(rec.ok).toBe(false);
        expect(rec.error).toMatchObject({ code: 'FUNCTION_FAILED', exitCode: 7 });
        expect(JSON.stringify(rec)).not.toContain('escaped');
      }
    }
  });

  it('ends a run at exit(0): the trap its handler falls into afterwards never runs', async () => {
    for (const mode of MODES) {
      const rec = await nebula.invoke('catch-exit-0', null, { mode });
      expect(rec.error).toBeUndefined();
      expect(rec.ok).toBe(true);
    }
  });

  it('stops a run whose handler catches the stop at the stdout cap: OUTPUT_LIMIT, not a cut ok record', async () => {
    for (const mode of MODES) {
      const rec = await nebula.invoke('catch-output', null, { mode });
      expect(rec.error?.code).toBe('OUTPUT_LIMIT');
      expect(rec.result).toBeNull();
    }
    expect((await nebula.invoke('fib', 20)).result).toBe(6765);
  });

  it('refuses a module whose start function exits, saying so', async () => {
    // (start $s) where $s calls proc_exit(5): the instance cannot be made.
    const bytes = command([...i32(0), ...call(0)], {
      types,
      imports,
      funcs: [1, 1],
      code: [[0x00, ...i32(5), ...call(0), 0x0b]],
      start: 3,
    });
    const err = await nebula.deploy({ name: 'start-exit', wasm: bytes }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'INVALID_FUNCTION' });
    expect((err as Error).message).toMatch(/its start function exited with code 5/);
  });
});
