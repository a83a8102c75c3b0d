/** The deploy-time module rewrite: memory imported and capped, grow failures flagged, globals exported, code otherwise intact. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from '@bytecodealliance/jco';
import { describe, expect, it } from 'vitest';
import { capMemory } from '../../../../src/runtimes/wasm/binary/memory-cap.js';
import {
  GROW_FAILED_EXPORT,
  MEMORY_IMPORT,
  rewriteModule,
} from '../../../../src/runtimes/wasm/binary/module-rewrite.js';
import { functionsDir } from '../../../../src/paths.js';

const MiB = 1024 * 1024;
const compile = (bytes: Uint8Array) => new WebAssembly.Module(bytes as BufferSource);

describe('rewriteModule', () => {
  it("turns a built-in preview1 command's memory into a capped import and says it can be restored", () => {
    const fib = readFileSync(join(functionsDir(), 'wasm', 'core', 'fib.wasm'));
    const { bytes, facts } = rewriteModule(fib, 64 * MiB);
    expect(facts).toMatchObject({
      initialPages: 2,
      maximumPages: 1024,
      pooledMemory: true,
      growProbe: true,
      restorable: true,
    });
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
    const { bytes, facts } = rewriteModule(await parse(wat), 4 * 65536);
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

  it('reports initial memory over the cap', async () => {
    const { facts } = rewriteModule(await parse(`(module (memory 100))`), 10 * 65536);
    expect(facts.initialPages).toBe(100);
    expect(facts.maximumPages).toBe(10);
  });

  it('leaves a module it cannot take apart as it was, with only its memory capped', async () => {
    const shared = await parse(`(module (memory 1 2 shared))`);
    const { bytes, facts } = rewriteModule(shared, MiB);
    expect(facts).toMatchObject({ pooledMemory: false, growProbe: false, restorable: false, initialPages: 1 });
    compile(bytes);
    const twoMemories = rewriteModule(await parse(`(module (memory 1) (memory 2))`), 4 * 65536);
    expect(twoMemories.facts).toMatchObject({ pooledMemory: false, initialPages: 2 });
  });
});

describe('capMemory', () => {
  it("caps every defined memory's maximum and reports the largest initial size", async () => {
    const { bytes, initialPages } = capMemory(await parse(`(module (memory (export "m") 3))`), 5 * 65536);
    expect(initialPages).toBe(3);
    const m = new WebAssembly.Instance(compile(bytes)).exports.m as WebAssembly.Memory;
    expect(() => m.grow(2)).not.toThrow();
    expect(() => m.grow(1)).toThrow(RangeError);
  });
});
