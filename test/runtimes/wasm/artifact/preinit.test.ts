/**
 * Pre-initialisation with the real Wizer (the devDependency @bytecodealliance/wizer): small
 * hand-written modules for each thing Wizer or the options refuse, and the built-in `primecount`,
 * whose snapshot must give the output of the module it was made from.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from '@bytecodealliance/jco';
import { Nebula } from '../../../../src/index.js';
import { functionsDir, packageRoot } from '../../../../src/paths.js';
import {
  hasInitializer,
  preinitialize,
  WIZER_INSTALL,
  type PreinitOptions,
} from '../../../../src/runtimes/wasm/artifact/preinit.js';
import { componentOf } from '../fixtures.js';

const MiB = 1024 * 1024;
const repoRoot = packageRoot();
const WASI = `(import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))`;
/** A module with the given parts and an init function whose body is `init`; `_start` does nothing. */
const mod = (init: string, parts = '(memory (export "memory") 1)') =>
  `(module ${parts} (func (export "wizer.initialize") ${init}) (func (export "_start")))`;

const WAT = {
  /** Writes 7 at address 16 and 42 into a global; `get` reads both back. */
  stores: `(module (memory (export "memory") 1 8) (global $g (mut i32) (i32.const 0))
    (func (export "wizer.initialize") (global.set $g (i32.const 42)) (i32.store (i32.const 16) (i32.const 7)))
    (func (export "get") (result i32) (i32.add (global.get $g) (i32.load (i32.const 16))))
    (func (export "_start")))`,
  callsWasi: mod(
    '(drop (call $write (i32.const 1) (i32.const 0) (i32.const 0) (i32.const 0)))',
    `${WASI} (memory (export "memory") 1)`,
  ),
  callsOther: mod('(call $secret)', '(import "env" "secret" (func $secret)) (memory (export "memory") 1)'),
  exits: mod('(call $exit (i32.const 3))', `${WASI} (memory (export "memory") 1)`),
  importsMemory: mod('', '(import "env" "memory" (memory 1))'),
  importsTable: mod('', '(import "env" "table" (table 1 funcref)) (memory (export "memory") 1)'),
  importsGlobal: mod('', '(import "env" "g" (global i32)) (memory (export "memory") 1)'),
  shared: mod('', '(memory (export "memory") 1 2 shared)'),
  memory64: mod('', '(memory (export "memory") i64 1)'),
  refFunc: mod('(drop (ref.func $f))', '(memory (export "memory") 1) (func $f) (elem declare func $f)'),
  traps: mod('(drop (memory.grow (i32.const 0))) unreachable'),
  outOfBounds: mod('(i32.store (i32.const 70000) (i32.const 1))'),
  loops: mod('(loop $l (br $l))'),
  /** Grows by 100 pages (6.25 MiB) and traps if that was refused, as C's abort() after a failed malloc. */
  grows: mod('(if (i32.eq (memory.grow (i32.const 100)) (i32.const -1)) (then unreachable))'),
  /** Writes 2 MB of ones: a snapshot of more than 2 MB. */
  fills: mod('(memory.fill (i32.const 0) (i32.const 1) (i32.const 2000000))', '(memory (export "memory") 40)'),
  /** A 2 MiB initial memory. */
  bigInitial: mod('', '(memory (export "memory") 32)'),
  noInitializer: '(module (memory (export "memory") 1) (func (export "_start")))',
  takesArgument:
    '(module (memory (export "memory") 1) (func (export "wizer.initialize") (param i32)) (func (export "_start")))',
  otherName:
    '(module (memory (export "memory") 1) (global $g (mut i32) (i32.const 0)) (func (export "setup") (global.set $g (i32.const 5))) (func (export "get") (result i32) (global.get $g)) (func (export "_start")))',
} as const;

let fx: Record<keyof typeof WAT, Uint8Array>;
beforeAll(async () => {
  fx = Object.fromEntries(
    await Promise.all(Object.entries(WAT).map(async ([k, text]) => [k, await parse(text)])),
  ) as typeof fx;
});

/** The refusal's code, reason and message, or 'snapshot' when Wizer made one. */
async function outcome(bytes: Uint8Array, options: PreinitOptions = {}) {
  try {
    await preinitialize(bytes, { name: 'fn', ...options });
    return 'snapshot';
  } catch (e) {
    const err = e as { code?: string; details?: { reason?: string }; message: string };
    return { code: err.code, reason: err.details?.reason, message: err.message };
  }
}

/** Processes of the Wizer binary that are children of this process. */
function wizerChildren(): string[] {
  const out = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)], { encoding: 'utf8' }).trim();
  return out.split('\n').filter((line) => /wizer/.test(line));
}

describe('preinitialize', () => {
  it('runs the initialiser once and writes its memory and globals into the snapshot, without the init export', async () => {
    const snap = await preinitialize(fx.stores);
    const module = await WebAssembly.compile(snap.bytes as BufferSource);
    expect(
      WebAssembly.Module.exports(module)
        .map((e) => e.name)
        .sort(),
    ).toEqual(['_start', 'get', 'memory']);
    const instance = await WebAssembly.instantiate(module);
    expect((instance.exports.get as () => number)()).toBe(49);
    // The module's own memory maximum (8 pages) is back, not the cap used while initialising.
    expect(() => (instance.exports.memory as WebAssembly.Memory).grow(8)).toThrow(RangeError);
    expect((instance.exports.memory as WebAssembly.Memory).grow(7)).toBe(1);
    expect(snap).toMatchObject({
      sizeBefore: fx.stores.length,
      sizeAfter: snap.bytes.length,
      wizerVersion: expect.stringMatching(/^10\./),
    });
    expect(snap.initMs).toBeGreaterThan(0);
    expect(hasInitializer(fx.stores)).toBe(true);
    expect(hasInitializer(snap.bytes)).toBe(false);
  });

  it('calls the initialiser named by initFunc', async () => {
    expect(hasInitializer(fx.otherName)).toBe(false);
    expect(hasInitializer(fx.otherName, 'setup')).toBe(true);
    const snap = await preinitialize(fx.otherName, { initFunc: 'setup' });
    const instance = await WebAssembly.instantiate(await WebAssembly.compile(snap.bytes as BufferSource));
    expect((instance.exports.get as () => number)()).toBe(5);
  });

  it('refuses an initialiser that calls WASI unless allowWasi, and any other import always', async () => {
    expect(await outcome(fx.callsWasi)).toMatchObject({
      code: 'INVALID_FUNCTION',
      reason: 'calls-wasi',
      message: expect.stringMatching(
        /^Function "fn" cannot be pre-initialised: its initialiser calls WASI \(wasi_snapshot_preview1\.fd_write\)/,
      ),
    });
    expect(await outcome(fx.callsWasi, { allowWasi: true })).toBe('snapshot');
    expect(await outcome(fx.callsOther, { allowWasi: true })).toMatchObject({
      reason: 'calls-import',
      message: expect.stringContaining('calls the import env.secret'),
    });
  });

  it('refuses an initialiser that exits, traps, or touches memory out of bounds, saying which', async () => {
    expect(await outcome(fx.exits, { allowWasi: true })).toMatchObject({
      reason: 'exits',
      message: expect.stringContaining('exited (status 3)'),
    });
    expect(await outcome(fx.exits)).toMatchObject({
      reason: 'exits',
      message: expect.stringContaining('exited (it called proc_exit) instead of returning'),
    });
    expect(await outcome(fx.traps)).toMatchObject({
      reason: 'traps',
      message: expect.stringContaining('trapped: wasm `unreachable` instruction executed'),
    });
    expect(await outcome(fx.outOfBounds)).toMatchObject({
      reason: 'traps',
      message: expect.stringMatching(/trapped: out of bounds memory access \(memory fault at wasm address 0x11170/),
    });
  });

  it('stops an initialiser that loops at the deadline, leaving no Wizer process behind', async () => {
    expect(await outcome(fx.loops, { timeoutMs: 1500 })).toMatchObject({
      code: 'INVALID_FUNCTION',
      reason: 'timeout',
      message: expect.stringContaining('did not finish within 1500 ms'),
    });
    expect(wizerChildren()).toEqual([]);
  });

  it('refuses an initialiser that grows memory past the cap, and lets the same one grow under a larger cap', async () => {
    expect(await outcome(fx.grows, { maxMemoryBytes: 4 * MiB })).toMatchObject({
      reason: 'memory-cap',
      message: expect.stringContaining('more memory than the 4 MiB it may grow to'),
    });
    expect(await outcome(fx.grows, { maxMemoryBytes: 8 * MiB })).toBe('snapshot');
    expect(await outcome(fx.bigInitial, { maxMemoryBytes: 1 * MiB })).toMatchObject({
      reason: 'initial-memory',
      message: expect.stringContaining('2 MiB of initial memory, over the 1 MiB'),
    });
  });

  it('stops Wizer once the snapshot goes over maxSnapshotBytes, and takes it under a larger limit', async () => {
    expect(await outcome(fx.fills, { maxSnapshotBytes: MiB })).toMatchObject({
      code: 'INVALID_FUNCTION',
      reason: 'snapshot-size',
      message: expect.stringContaining('over the 1048576-byte limit for a module (maxModuleBytes)'),
    });
    expect(wizerChildren()).toEqual([]);
    expect(await outcome(fx.fills, { maxSnapshotBytes: 4 * MiB })).toBe('snapshot');
  });

  it('refuses what Wizer cannot snapshot: imported memories, tables and globals, shared and 64-bit memories, reference types', async () => {
    const reasons = await Promise.all(
      (['importsMemory', 'importsTable', 'importsGlobal', 'shared', 'memory64', 'refFunc'] as const).map((k) =>
        outcome(fx[k]),
      ),
    );
    expect(reasons).toMatchObject([
      {
        code: 'INVALID_FUNCTION',
        reason: 'imported-memory',
        message: expect.stringContaining('imports its memory (env.memory)'),
      },
      { reason: 'imported-table', message: expect.stringContaining('imports a table (env.table)') },
      { reason: 'imported-global', message: expect.stringContaining('imports a global (env.g)') },
      { reason: 'shared-memory', message: expect.stringContaining('memory is shared') },
      { reason: 'memory64', message: expect.stringContaining('64-bit') },
      { reason: 'reference-types', message: expect.stringContaining('reference types') },
    ]);
  });

  it('refuses a module without the initialiser, one whose initialiser takes arguments, a component and bytes that are no module', async () => {
    expect(await outcome(fx.noInitializer)).toMatchObject({
      reason: 'no-initializer',
      message: expect.stringContaining('exports no function named "wizer.initialize"'),
    });
    expect(await outcome(fx.takesArgument)).toMatchObject({
      reason: 'initializer-type',
      message: expect.stringContaining('must take no arguments and return nothing'),
    });
    const component = await componentOf(readFileSync(join(functionsDir(), 'wasm', 'core', 'primecount.wasm')));
    expect(await outcome(component)).toMatchObject({
      reason: 'not-a-core-module',
      message: expect.stringContaining('it is a component'),
    });
    expect(await outcome(new TextEncoder().encode('#!/bin/sh\n'))).toMatchObject({ reason: 'malformed' });
  });

  it('is aborted by its signal', async () => {
    const controller = new AbortController();
    const pending = outcome(fx.loops, { signal: controller.signal, timeoutMs: 60_000 });
    setTimeout(() => controller.abort(), 200);
    expect(await pending).toMatchObject({ code: 'ABORTED' });
    expect(wizerChildren()).toEqual([]);
  });
});

describe('without Wizer installed', () => {
  it('says RUNTIME_UNAVAILABLE and the command that installs it', async () => {
    // preinit.ts and what it imports, compiled into a folder where no node_modules can be found.
    const dir = mkdtempSync(join(tmpdir(), 'nebula-no-wizer-'));
    try {
      for (const file of [
        'errors.ts',
        'runtimes/wasm/artifact/preinit.ts',
        'runtimes/wasm/binary/memory-cap.ts',
        'runtimes/wasm/binary/codec.ts',
      ]) {
        const js = ts.transpileModule(readFileSync(join(repoRoot, 'src', file), 'utf8'), {
          compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 },
        });
        mkdirSync(dirname(join(dir, file)), { recursive: true });
        writeFileSync(join(dir, file.replace(/\.ts$/, '.js')), js.outputText);
      }
      writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
      writeFileSync(join(dir, 'stores.wasm'), fx.stores);
      const script = `import { preinitialize } from './runtimes/wasm/artifact/preinit.js';
        import { readFileSync } from 'node:fs';
        const e = await preinitialize(readFileSync('stores.wasm')).catch((e) => e);
        console.log(JSON.stringify({ code: e.code, message: e.message }));`;
      const out = JSON.parse(
        execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: dir, encoding: 'utf8' }),
      );
      expect(out).toEqual({
        code: 'RUNTIME_UNAVAILABLE',
        message: `Pre-initialisation runs Wizer, and @bytecodealliance/wizer is not installed. Install it beside nebula-faas: ${WIZER_INSTALL}`,
      });
      expect(WIZER_INSTALL).toBe('npm install @bytecodealliance/wizer@10.0.0');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the built-in primecount, pre-initialised', () => {
  const core = readFileSync(join(functionsDir(), 'wasm', 'core', 'primecount.wasm'));
  let cacheDir: string;
  let nebula: Nebula;
  beforeAll(() => {
    cacheDir = mkdtempSync(join(tmpdir(), 'nebula-preinit-cache-'));
    nebula = new Nebula({ builtins: false, wasm: { cacheDir, workers: 1 } });
  });
  afterAll(async () => {
    await nebula.close();
    rmSync(cacheDir, { recursive: true, force: true });
  });

  it('gives the same stdout, stderr and exit code from its snapshot as from the module', async () => {
    const snap = await preinitialize(core, { name: 'primecount' });
    // The table (3 MiB) is in the snapshot's data now.
    expect(snap.sizeAfter).toBeGreaterThan(snap.sizeBefore + 3 * MiB);
    await nebula.deploy([
      { name: 'plain', wasm: core, preinit: false },
      { name: 'snapshot', wasm: snap.bytes },
    ]);
    for (const input of [0, 2, 1000, 7919, 1000000, 33554431, { n: 1000, repeat: 3 }, 33554432, -1, 'abc']) {
      const [plain, snapshot] = await Promise.all([nebula.invoke('plain', input), nebula.invoke('snapshot', input)]);
      const seen = (r: typeof plain) => ({
        ok: r.ok,
        result: r.result,
        code: r.error?.code,
        exitCode: r.error?.exitCode,
        stderr: r.error?.stderr,
      });
      expect(seen(snapshot), JSON.stringify(input)).toEqual(seen(plain));
    }
    expect((await nebula.invoke('snapshot', 1000000)).result).toBe(78498);
    expect((await nebula.invoke('plain', 'abc')).error).toMatchObject({ code: 'FUNCTION_FAILED', exitCode: 2 });
  }, 60_000);
});
