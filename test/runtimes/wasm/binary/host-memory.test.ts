/** Reading a module's sections, and the plan that fits its host memory and linear memory into the cap. */
import { parse } from '@bytecodealliance/jco';
import { describe, expect, it } from 'vitest';
import { Unsupported } from '../../../../src/runtimes/wasm/binary/codec.js';
import { HOST_BYTES_LIMIT, planMemory } from '../../../../src/runtimes/wasm/binary/host-memory.js';
import { readModuleInfo, signature } from '../../../../src/runtimes/wasm/binary/module-info.js';

const MiB = 1024 * 1024;
const PAGE = 65536;

describe('readModuleInfo', () => {
  it('reads signatures, tables, memories, globals, exports, tags and segments', async () => {
    const info = readModuleInfo(
      await parse(`(module
        (import "wasi_snapshot_preview1" "clock_time_get" (func (param i32 i64 i32) (result i32)))
        (table 2 10 funcref) (table 1 externref)
        (memory (export "memory") 3 7)
        (tag (param i32))
        (global (mut i64) (i64.const 0)) (global f32 (f32.const 1))
        (func $f) (func (export "_start"))
        (elem funcref (ref.func $f) (ref.func $f)) (elem declare func $f) (elem (i32.const 0) $f)
        (data "ab") (data "c"))`),
    );
    expect(info.imports.map((i) => [i.name, i.type && signature(i.type)])).toEqual([
      ['clock_time_get', '7f,7e,7f->7f'],
    ]);
    expect(info.tables.map((t) => [t.refType, t.limits.min, t.limits.max])).toEqual([
      ['70', 2, 10],
      ['6f', 1, undefined],
    ]);
    expect(info.memories).toEqual([{ flags: 1, min: 3, max: 7 }]);
    expect(info.globals).toEqual([
      { valType: '7e', mutable: true },
      { valType: '7d', mutable: false },
    ]);
    expect(info).toMatchObject({ tags: 1, elemSegments: 3, passiveElemEntries: 2, dataSegments: 2, importedFuncs: 1 });
    expect(info.funcTypes).toHaveLength(2);
    expect(info.exports.map((e) => [e.name, e.kind])).toEqual([
      ['memory', 'memory'],
      ['_start', 'function'],
    ]);
  });

  it('refuses what it cannot bound rather than guess: GC types, 64-bit memories, a vector longer than its section', async () => {
    expect(() => readModuleInfo(Uint8Array.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 3, 1, 0x5e, 0x7f]))).toThrow(
      Unsupported,
    );
    expect(() => readModuleInfo(Uint8Array.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 5, 3, 1, 0x04, 1]))).toThrow(
      /limits flags 0x4/,
    );
    expect(() =>
      readModuleInfo(Uint8Array.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 3, 5, 0xff, 0xff, 0xff, 0xff, 0x0f])),
    ).toThrow(/longer than its section/);
  });
});

describe('planMemory', () => {
  const info = async (wat: string) => readModuleInfo(await parse(wat));

  it('takes the host memory of tables and functions off the memory maximum', async () => {
    const planned = planMemory(await info(`(module (memory 1) (table 1000 1000 funcref) (func))`), 64 * MiB, 0);
    if (!('plan' in planned)) throw new Error(planned.refused);
    expect(planned.plan.hostBytes).toBeGreaterThanOrEqual(1000 * 32);
    expect(planned.plan.memoryMaxPages).toEqual([Math.floor((64 * MiB - planned.plan.hostBytes) / PAGE)]);
    expect(planned.plan.tableMax).toEqual([1000]);
  });

  it('keeps declared table maxima that fit; a table with none, or with too large a one, keeps its initial size', async () => {
    const fits = planMemory(await info(`(module (memory 1) (table 1 5000 funcref) (table 2 externref))`), 64 * MiB, 0);
    const tooLarge = planMemory(await info(`(module (memory 1) (table 1 10000000 funcref))`), 64 * MiB, 0);
    expect('plan' in fits && fits.plan.tableMax).toEqual([5000, 2]);
    expect('plan' in tooLarge && tooLarge.plan.tableMax).toEqual([1]);
  });

  it('refuses an instance over the host limit whatever the cap, and one over the cap below it', async () => {
    const big = planMemory(await info(`(module (table 300000 funcref))`), 4096 * MiB, 0);
    expect('refused' in big && big.refused).toMatch(/about 9\.\d+ MiB .* over the 8.00 MiB an instance may take/);
    const capped = planMemory(await info(`(module (memory 8) (table 10000 funcref))`), 768 * 1024, 0);
    expect('refused' in capped && capped.refused).toMatch(/with 0.50 MiB of initial memory is over its memory cap/);
    expect(HOST_BYTES_LIMIT).toBe(8 * MiB);
  });

  it('counts what the rewrite exports', async () => {
    const m = await info(`(module (memory 1))`);
    const without = planMemory(m, 64 * MiB, 0);
    const withExports = planMemory(m, 64 * MiB, 10);
    if (!('plan' in without) || !('plan' in withExports)) throw new Error('refused');
    expect(withExports.plan.hostBytes - without.plan.hostBytes).toBe(10 * 192);
  });
});
