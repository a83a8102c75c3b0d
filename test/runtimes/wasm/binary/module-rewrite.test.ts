/**
 * The deploy-time module rewrite: memory imported and capped with the host memory an instance
 * takes, table maxima written, grow failures flagged, globals exported, code otherwise intact;
 * and never a module pushed past one of V8's limits by what the rewrite adds.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from '@bytecodealliance/jco';
import { describe, expect, it } from 'vitest';
import { DoesNotFit } from '../../../../src/runtimes/wasm/binary/host-memory.js';
import {
  GROW_FAILED_EXPORT,
  MEMORY_IMPORT,
  rewriteModule,
} from '../../../../src/runtimes/wasm/binary/module-rewrite.js';
import { functionsDir } from '../../../../src/paths.js';
import { call, command, i32, leb, T } from '../module-builder.js';

const MiB = 1024 * 1024;
const compile = (bytes: Uint8Array) => new WebAssembly.Module(bytes as BufferSource);

describe('rewriteModule', () => {
  it("turns a built-in preview1 command's memory into a capped import and says it can be restored", () => {
    const fib = readFileSync(join(functionsDir(), 'wasm', 'core', 'fib.wasm'));
    const { bytes, facts } = rewriteModule(fib, 64 * MiB);
    expect(facts).toMatchObject({
      initialPages: 2,
      pooledMemory: true,
      growProbe: true,
      restorable: true,
    });
    // The host memory of its table, functions and exports comes off the cap: one page less.
    expect(facts.hostBytes).toBeGreaterThan(0);
    expect(facts.hostBytes).toBeLessThan(65536);
    expect(facts.maximumPages).toBe(1023);
    const m = compile(bytes);
    expect(WebAssembly.Module.imports(m)).toContainEqual({
      module: MEMORY_IMPORT.module,
      name: MEMORY_IMPORT.name,
      kind: 'memory',
    });
    const exports = WebAssembly.Module.exports(m).map((e) => e.name);
    expect(exports).toEqual(expect.arrayContaining(['memory', '_start', GROW_FAILED_EXPORT, ...facts.mutableGlobals]));
    expect(facts.mutableGlobals.length).toBeGreaterThan(0);
  });

  it('routes every memory.grow through a probe that flags a refused grow, and changes nothing else', async () => {
    const wat = `(module (memory 1 10)
      (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
      ;; f32 0x1p-143 is the bytes 40 00 00 00: a naive scan would take them for memory.grow
      (func (export "bits") (result i32) (i32.reinterpret_f32 (f32.const 0x1p-143))))`;
    const { bytes, facts } = rewriteModule(await parse(wat), 5 * 65536);
    expect(facts).toMatchObject({ pooledMemory: true, growProbe: true, maximumPages: 4 });
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 4 });
    const i = new WebAssembly.Instance(compile(bytes), { [MEMORY_IMPORT.module]: { [MEMORY_IMPORT.name]: memory } });
    const x = i.exports as { grow(n: number): number; bits(): number; [GROW_FAILED_EXPORT]: WebAssembly.Global };
    expect(x.bits()).toBe(64);
    expect(x.grow(2)).toBe(1);
    expect(x[GROW_FAILED_EXPORT].value).toBe(0);
    expect(x.grow(5)).toBe(-1);
    expect(x[GROW_FAILED_EXPORT].value).toBe(1);
    expect(memory.buffer.byteLength).toBe(3 * 65536);
  });

  it('marks modules whose state a snapshot cannot restore: a start function, a table write', async () => {
    const withStart = rewriteModule(await parse(`(module (memory 1) (func $s) (start $s))`), MiB);
    expect(withStart.facts).toMatchObject({ pooledMemory: true, restorable: false });
    const withTableSet = rewriteModule(
      await parse(
        `(module (memory 1) (table 1 funcref) (func $f) (elem declare func $f) (func (export "w") (table.set (i32.const 0) (ref.func $f))))`,
      ),
      MiB,
    );
    expect(withTableSet.facts.restorable).toBe(false);
    compile(withTableSet.bytes);
  });

  it('refuses initial memory over the cap, naming both sizes', async () => {
    expect(() => rewriteModule(new Uint8Array(0), MiB)).toThrow();
    expect(() => rewriteModule(command([], { memories: [[0x00, 100]] }), 10 * 65536)).toThrow(
      new DoesNotFit(
        'it declares 6 MiB of initial memory, over its memory cap of 1 MiB (limits.memoryMiB): raise the cap or build it with less initial memory.',
      ),
    );
  });

  it('leaves a module it cannot take apart as it was, with only its maxima written', async () => {
    const shared = await parse(`(module (memory 1 2 shared))`);
    const { bytes, facts } = rewriteModule(shared, MiB);
    expect(facts).toMatchObject({ pooledMemory: false, growProbe: false, restorable: false, initialPages: 1 });
    compile(bytes);
    // A shared memory's maximum is capped too (it used to be left as declared, up to 4 GiB).
    const big = rewriteModule(await parse(`(module (memory (export "m") 1 65536 shared))`), 4 * 65536);
    const m = new WebAssembly.Instance(compile(big.bytes)).exports.m as WebAssembly.Memory;
    expect(() => m.grow(2)).not.toThrow();
    expect(() => m.grow(1)).toThrow(RangeError);
    const twoMemories = rewriteModule(await parse(`(module (memory 1) (memory 2))`), 8 * 65536);
    expect(twoMemories.facts).toMatchObject({ pooledMemory: false, initialPages: 3 });
  });

  it('only caps the maxima when asked to (the glue modules)', async () => {
    const { bytes, facts } = rewriteModule(await parse(`(module (memory (export "m") 3))`), 5 * 65536, false);
    expect(facts).toMatchObject({ pooledMemory: false, initialPages: 3, maximumPages: 4 });
    const m = new WebAssembly.Instance(compile(bytes)).exports.m as WebAssembly.Memory;
    expect(() => m.grow(1)).not.toThrow();
    expect(() => m.grow(1)).toThrow(RangeError);
  });
});

describe('tables', () => {
  // `grow`: (table.grow 0 (ref.null func) (local.get 0))
  const grower = (table: number[]) =>
    command([...i32(0), ...call(0)], {
      types: [
        [[T.i32], []],
        [[], []],
        [[T.i32], [T.i32]],
      ],
      funcs: [1, 2],
      tables: [table],
      exports: [['grow', 0, 2]],
      code: [[0x00, 0xd0, T.funcref, 0x20, 0x00, 0xfc, 15, 0x00, 0x0b]],
    });

  it('keeps a declared table maximum that fits, and table.grow fails past it', () => {
    const { bytes, facts } = rewriteModule(grower([T.funcref, 0x01, 1, ...leb(1000)]), 64 * MiB);
    expect(facts.hostBytes).toBeGreaterThan(1000 * 32);
    const memory = new WebAssembly.Memory({ initial: 1, maximum: facts.maximumPages });
    const x = new WebAssembly.Instance(compile(bytes), {
      wasi_snapshot_preview1: { proc_exit: () => undefined },
      [MEMORY_IMPORT.module]: { [MEMORY_IMPORT.name]: memory },
    }).exports as { grow(n: number): number };
    expect(x.grow(999)).toBe(1);
    expect(x.grow(1)).toBe(-1);
  });

  it('gives a table with no maximum, or one too large to fit, its initial size as its maximum', () => {
    for (const table of [
      [T.funcref, 0x00, 10],
      [T.funcref, 0x01, 10, ...leb(10_000_000)],
    ]) {
      const { bytes, facts } = rewriteModule(grower(table), 64 * MiB);
      const memory = new WebAssembly.Memory({ initial: 1, maximum: facts.maximumPages });
      const x = new WebAssembly.Instance(compile(bytes), {
        wasi_snapshot_preview1: { proc_exit: () => undefined },
        [MEMORY_IMPORT.module]: { [MEMORY_IMPORT.name]: memory },
      }).exports as { grow(n: number): number };
      expect(x.grow(1)).toBe(-1);
      expect(x.grow(0)).toBe(10);
    }
  });

  it('refuses tables whose initial size alone does not fit, whatever the cap', () => {
    const huge = command([], { tables: [[T.funcref, 0x00, ...leb(10_000_000)]] });
    expect(() => rewriteModule(huge, 4096 * MiB)).toThrow(/tables of 10000000 entries\), over the 8.00 MiB/);
    const mid = command([], { tables: [[T.funcref, 0x00, ...leb(3_000_000)]] });
    expect(() => rewriteModule(mid, MiB)).toThrow(
      /tables of 3000000 entries\), which with .* over its memory cap of 1.00 MiB/,
    );
  });

  it('writes the maxima of a module it cannot rewrite as well', () => {
    const shared = command([], { memories: [[0x03, 1, 4]], tables: [[T.funcref, 0x00, 5]] });
    const { bytes, facts } = rewriteModule(shared, 64 * MiB);
    expect(facts.pooledMemory).toBe(false);
    const table = new WebAssembly.Instance(
      compile(
        command([], {
          memories: [[0x03, 1, 4]],
          tables: [[T.funcref, 0x00, 5]],
          exports: [['t', 1, 0]],
        }),
      ),
      { wasi_snapshot_preview1: { proc_exit: () => undefined } },
    ).exports.t as WebAssembly.Table;
    expect(() => table.grow(1)).not.toThrow(); // as declared: no maximum
    const capped = new WebAssembly.Instance(compile(bytes), { wasi_snapshot_preview1: { proc_exit: () => undefined } });
    expect(capped).toBeDefined();
    expect(WebAssembly.Module.exports(compile(bytes)).map((e) => e.name)).toEqual(['memory', '_start']);
  });
});

describe("V8's limits", () => {
  const exitAt = (f: number) => [...i32(0), ...call(f)];

  it('rewrites a module one function short of V8 function limit, and leaves one at the limit unrewritten', () => {
    for (const [count, rewritten] of [
      [999_999, true],
      [1_000_000, false],
    ] as const) {
      // proc_exit and _start, then empty functions up to `count` in all.
      const funcs = new Array<number>(count - 2).fill(1);
      const bytes = command(exitAt(0), {
        funcs: [1, ...funcs],
        code: funcs.map(() => [0x00, 0x0b]),
      });
      const out = rewriteModule(bytes, 64 * MiB);
      expect(out.facts.pooledMemory).toBe(rewritten);
      const m = compile(out.bytes);
      expect(WebAssembly.Module.exports(m).some((e) => e.name === GROW_FAILED_EXPORT)).toBe(rewritten);
    }
  });

  it('exports no global for a warm restore when JavaScript cannot read one (v128), and says it cannot be restored', () => {
    const v128 = [T.v128, 0x01, 0xfd, 12, ...new Array<number>(16).fill(0), 0x0b];
    const plain = [T.i32, 0x01, 0x41, 0x00, 0x0b];
    const { bytes, facts } = rewriteModule(command(exitAt(0), { globals: [plain, v128] }), 64 * MiB);
    expect(facts).toMatchObject({ pooledMemory: true, restorable: false, mutableGlobals: [] });
    compile(bytes);
    const ok = rewriteModule(command(exitAt(0), { globals: [plain] }), 64 * MiB);
    expect(ok.facts).toMatchObject({ restorable: true, mutableGlobals: ['__nebula_global_0'] });
  });
});
