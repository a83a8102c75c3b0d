/**
 * Pre-initialisation at deploy (`preinit`, `initFunc`, `checkInput`, `grants.initWasi`) with the
 * real Wizer: what deploy makes of each setting, what records and `functions()` say, the snapshot
 * cache, and initialisers that trap, loop, exit or grow past the cap refused without harm to anything else.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from '@bytecodealliance/jco';
import { Nebula } from '../../../../src/index.js';
import { builtinBinary } from '../../../../src/builtins.js';

const MiB = 1024 * 1024;
const WRITE = `(import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))`;
/** Writes the digit `value` (0-9) on stdout. */
const PRINT_DIGIT = (value: string) => `(i32.store8 (i32.const 100) (i32.add (i32.const 48) ${value}))
  (i32.store (i32.const 0) (i32.const 100)) (i32.store (i32.const 4) (i32.const 1))
  (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))`;
/** A command whose `_start` runs `init` unless a snapshot already did, then prints the global. */
const command = (initName: string, init: string, imports = '') => `(module ${WRITE} ${imports}
  (memory (export "memory") 1) (global $value (mut i32) (i32.const 0)) (global $ready (mut i32) (i32.const 0))
  (func $init (export "${initName}") ${init} (global.set $ready (i32.const 1)))
  (func (export "_start") (if (i32.eqz (global.get $ready)) (then (call $init))) ${PRINT_DIGIT('(global.get $value)')}))`;

const WAT = {
  /** Start-up work that sets the value to 7; a snapshot prints the same. */
  table: command('wizer.initialize', '(global.set $value (i32.const 7))'),
  /** The same, under another export name. */
  setup: command('setup', '(global.set $value (i32.const 5))'),
  /** No initialiser at all. */
  plain: `(module ${WRITE} (memory (export "memory") 1) (func (export "_start") ${PRINT_DIGIT('(i32.const 3)')}))`,
  /** Counts its runs and runs itself in `_start` regardless: 1 from the module, 2 from a snapshot. */
  counts: `(module ${WRITE} (memory (export "memory") 1) (global $runs (mut i32) (i32.const 0))
    (func $init (export "wizer.initialize") (global.set $runs (i32.add (global.get $runs) (i32.const 1))))
    (func (export "_start") (call $init) ${PRINT_DIGIT('(global.get $runs)')}))`,
  traps: command('wizer.initialize', 'unreachable'),
  loops: command('wizer.initialize', '(loop $l (br $l))'),
  exits: command(
    'wizer.initialize',
    '(call $exit (i32.const 4))',
    '(import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))',
  ),
  /** Grows by 100 pages (6.25 MiB) and traps when that is refused, as C after a failed malloc. */
  grows: command('wizer.initialize', '(if (i32.eq (memory.grow (i32.const 100)) (i32.const -1)) (then unreachable))'),
  /** Asks for the time: WASI, refused unless granted. */
  clock: command(
    'wizer.initialize',
    '(drop (call $time (i32.const 1) (i64.const 0) (i32.const 16))) (global.set $value (i32.const 1))',
    '(import "wasi_snapshot_preview1" "clock_time_get" (func $time (param i32 i64 i32) (result i32)))',
  ),
  /** Start-up work that leaves 2 MB of memory written: a snapshot of more than 2 MB. */
  fills: `(module ${WRITE} (memory (export "memory") 40) (global $ready (mut i32) (i32.const 0))
    (func $init (export "wizer.initialize") (memory.fill (i32.const 1024) (i32.const 1) (i32.const 2000000)) (global.set $ready (i32.const 1)))
    (func (export "_start") (if (i32.eqz (global.get $ready)) (then (call $init))) ${PRINT_DIGIT('(i32.load8_u (i32.const 5000))')}))`,
} as const;

let fx: Record<keyof typeof WAT, Uint8Array>;
let cacheDir: string;
let nebula: Nebula;

beforeAll(async () => {
  fx = Object.fromEntries(
    await Promise.all(Object.entries(WAT).map(async ([k, text]) => [k, await parse(text)])),
  ) as typeof fx;
  cacheDir = mkdtempSync(join(tmpdir(), 'nebula-snapshot-cache-'));
  nebula = new Nebula({ builtins: false, meter: null, wasm: { cacheDir, workers: 1, preinitTimeoutMs: 3000 } });
});
afterAll(async () => {
  await nebula.close();
  rmSync(cacheDir, { recursive: true, force: true });
});

const refusal = (e: unknown) => {
  const err = e as { code?: string; details?: { reason?: string }; message: string };
  return { code: err.code, reason: err.details?.reason, message: err.message };
};

describe('preinit at deploy', () => {
  it("pre-initialises a module exporting wizer.initialize by default ('auto'), with the same output as without", async () => {
    const [snap, plain] = await nebula.deploy([
      { name: 'table', wasm: fx.table },
      { name: 'table-plain', wasm: fx.table, preinit: false },
    ]);
    expect(snap!.artifacts.wasm).toMatchObject({
      preinitialized: true,
      snapshot: {
        tool: expect.stringMatching(/^wizer 10\./),
        initFunc: 'wizer.initialize',
        cached: false,
        originalBytes: fx.table.length,
        originalMemoryBytes: 65536,
        snapshotMemoryBytes: 65536,
      },
    });
    expect(snap!.artifacts.wasm!.snapshot!.snapshotMs).toBeGreaterThan(0);
    expect(plain!.artifacts.wasm).toMatchObject({ preinitialized: false });
    expect(plain!.artifacts.wasm!.snapshot).toBeUndefined();
    const [a, b] = [await nebula.invoke('table', null), await nebula.invoke('table-plain', null)];
    expect([a.result, a.preinitialized, b.result, b.preinitialized]).toEqual([7, true, 7, false]);
    // functions() says the same as deploy did.
    const listed = (await nebula.functions()).find((f) => f.name === 'table');
    expect(listed?.artifacts.wasm).toMatchObject({ preinitialized: true, snapshot: { cached: false } });
    // Every mode runs the snapshot.
    for (const mode of ['prewarmed', 'warm', 'warm'] as const)
      expect(await nebula.invoke('table', null, { mode })).toMatchObject({ ok: true, result: 7, preinitialized: true });
  });

  it('calls the initialiser initFunc names, and leaves a module without one as it is unless preinit is true', async () => {
    const [setup] = await nebula.deploy({ name: 'setup', wasm: fx.setup, initFunc: 'setup' });
    expect(setup!.artifacts.wasm).toMatchObject({ preinitialized: true, snapshot: { initFunc: 'setup' } });
    expect(await nebula.invoke('setup', null)).toMatchObject({ result: 5, preinitialized: true });
    // Under another initFunc, 'auto' finds no initialiser and does nothing.
    const [other] = await nebula.deploy({ name: 'setup-other', wasm: fx.setup, initFunc: 'init' });
    expect(other!.artifacts.wasm).toMatchObject({ preinitialized: false });

    const [plain] = await nebula.deploy({ name: 'plain', wasm: fx.plain });
    expect(plain!.artifacts.wasm).toMatchObject({ preinitialized: false });
    expect(
      refusal(await nebula.deploy({ name: 'plain-forced', wasm: fx.plain, preinit: true }).catch((e: unknown) => e)),
    ).toEqual({
      code: 'INVALID_FUNCTION',
      reason: 'no-initializer',
      message: expect.stringContaining('exports no function named "wizer.initialize"'),
    });
    expect(nebula.has('plain-forced')).toBe(false);
  });

  it('takes the snapshot from the cache on a later deploy, in this process and the next', async () => {
    const [again] = await nebula.deploy({ name: 'table-again', wasm: fx.table });
    const first = (await nebula.functions()).find((f) => f.name === 'table')!.artifacts.wasm!.snapshot!;
    expect(again!.artifacts.wasm!.snapshot).toEqual({ ...first, cached: true });
    const other = new Nebula({ builtins: false, meter: null, wasm: { cacheDir, workers: 1 } });
    try {
      const [fresh] = await other.deploy({ name: 'table', wasm: fx.table });
      expect(fresh!.artifacts.wasm!.snapshot).toEqual({ ...first, cached: true });
      expect(await other.invoke('table', null)).toMatchObject({ result: 7, preinitialized: true });
    } finally {
      await other.close();
    }
  });

  it('runs checkInput from the module and from the snapshot, and refuses a snapshot whose output differs', async () => {
    const [checked] = await nebula.deploy({ name: 'table-checked', wasm: fx.table, checkInput: { any: 'input' } });
    expect(checked!.artifacts.wasm).toMatchObject({ preinitialized: true });
    // Without checkInput nothing tells: the snapshot of a function that counts its runs deploys, and prints 2.
    await nebula.deploy({ name: 'counts', wasm: fx.counts });
    expect(await nebula.invoke('counts', null)).toMatchObject({ result: 2, preinitialized: true });
    const err = refusal(
      await nebula.deploy({ name: 'counts', wasm: fx.counts, checkInput: 0 }).catch((e: unknown) => e),
    );
    expect(err).toEqual({
      code: 'INVALID_FUNCTION',
      reason: 'snapshot-output',
      message: expect.stringContaining(
        'its snapshot changes its output on checkInput 0: from the module exit 0, stdout "1", stderr ""; from the snapshot exit 0, stdout "2"',
      ),
    });
    // The refused deploy left the function deployed before it in place.
    expect(await nebula.invoke('counts', null)).toMatchObject({ ok: true, result: 2 });
    expect(
      refusal(await nebula.deploy({ name: 'bad-input', wasm: fx.table, checkInput: 1n }).catch((e: unknown) => e)),
    ).toEqual({ code: 'INVALID_ARGUMENT', reason: undefined, message: expect.stringContaining('checkInput') });
  });

  it('refuses an initialiser that traps, loops, exits or grows past limits.memoryMiB, with the reason, and nothing else is affected', async () => {
    await nebula.deploy({ name: 'bystander', wasm: fx.table });
    const cases = [
      ['traps', {}, 'traps', 'trapped: wasm `unreachable` instruction executed'],
      ['loops', {}, 'timeout', 'did not finish within 3000 ms'],
      ['exits', {}, 'exits', 'exited (it called proc_exit)'],
      ['exits', { grants: { initWasi: true } }, 'exits', 'exited (status 4)'],
      ['grows', { limits: { memoryMiB: 4 } }, 'memory-cap', 'more memory than the 4 MiB it may grow to'],
    ] as const;
    for (const [name, extra, reason, text] of cases) {
      const err = refusal(
        await nebula.deploy({ name: 'bystander', wasm: fx[name], ...extra }).catch((e: unknown) => e),
      );
      expect(err, name).toEqual({
        code: 'INVALID_FUNCTION',
        reason,
        message: expect.stringContaining(text),
      });
      expect(err.message, name).toMatch(/deploy it with preinit: false/);
      // The function under that name is still the one deployed before, and runs.
      expect(await nebula.invoke('bystander', null), name).toMatchObject({ ok: true, result: 7 });
    }
    // With preinit: false the same modules deploy and do their work at start (a trap then fails the invocation).
    await nebula.deploy({ name: 'grows-at-start', wasm: fx.grows, preinit: false, limits: { memoryMiB: 64 } });
    expect(await nebula.invoke('grows-at-start', null)).toMatchObject({ ok: true, preinitialized: false });
    // The same initialiser under a larger cap is pre-initialised.
    await nebula.deploy({ name: 'grows-under-cap', wasm: fx.grows, limits: { memoryMiB: 64 } });
    expect(await nebula.invoke('grows-under-cap', null)).toMatchObject({ ok: true, preinitialized: true });
  });

  it('refuses a snapshot larger than maxModuleBytes, and deploys the same module with preinit: false', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nebula-snapshot-size-'));
    const small = new Nebula({
      builtins: false,
      meter: null,
      wasm: { cacheDir: dir, workers: 1, maxModuleBytes: MiB },
    });
    try {
      expect(refusal(await small.deploy({ name: 'fills', wasm: fx.fills }).catch((e: unknown) => e))).toEqual({
        code: 'INVALID_FUNCTION',
        reason: 'snapshot-size',
        message: expect.stringContaining('over the 1048576-byte limit for a module (maxModuleBytes)'),
      });
      expect(await small.functions()).toEqual([]);
      await small.deploy({ name: 'fills', wasm: fx.fills, preinit: false });
      expect(await small.invoke('fills', null)).toMatchObject({ ok: true, result: 1, preinitialized: false });
    } finally {
      await small.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses an initialiser that calls WASI unless grants.initWasi allows it', async () => {
    expect(refusal(await nebula.deploy({ name: 'clock', wasm: fx.clock }).catch((e: unknown) => e))).toMatchObject({
      code: 'INVALID_FUNCTION',
      reason: 'calls-wasi',
    });
    await nebula.deploy({ name: 'clock', wasm: fx.clock, grants: { initWasi: true } });
    expect(await nebula.invoke('clock', null)).toMatchObject({ result: 1, preinitialized: true });
  });

  it('refuses preinit values it does not know', async () => {
    for (const bad of [{ preinit: 'yes' }, { initFunc: '' }, { grants: { initWasi: 'yes' } }])
      await expect(nebula.deploy({ name: 'x', wasm: fx.table, ...(bad as object) })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
      });
  });
});

describe('the built-in primecount', () => {
  it('is pre-initialised on Wasm, and keeps its initialisation at start as a process, with the same output', async () => {
    const own = new Nebula({ meter: null, wasm: { cacheDir, workers: 1 } });
    try {
      const [info] = await own.deploy({ ...own.spec('primecount'), checkInput: 7919 });
      expect(info!.artifacts.wasm).toMatchObject({ preinitialized: true, snapshot: { initFunc: 'wizer.initialize' } });
      expect(info!.artifacts.wasm!.snapshot!.snapshotBytes).toBeGreaterThan(3 * 1024 * 1024);
      expect(info!.artifacts.wasm!.snapshot!.snapshotMemoryBytes).toBeGreaterThan(
        info!.artifacts.wasm!.snapshot!.originalMemoryBytes,
      );
      expect(info!.artifacts.process?.preinitialized).toBeUndefined();
      expect(builtinBinary('primecount')).not.toBeNull();
      const wasm = await own.invoke('primecount', 1000000, { runtime: 'wasm' });
      const native = await own.invoke('primecount', 1000000, { runtime: 'process' });
      expect([wasm.result, wasm.preinitialized]).toEqual([78498, true]);
      expect([native.result, native.preinitialized]).toEqual([78498, false]);
    } finally {
      await own.close();
    }
  });
});
