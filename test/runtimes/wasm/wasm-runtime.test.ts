import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Nebula, WasmRuntime } from '../../../src/index.js';
import { functionsDir } from '../../../src/paths.js';
import { buildFixtures, type Fixture } from './fixtures.js';
import { tempDir } from '../../temp-dir.js';

let fx: Record<Fixture, Uint8Array>;
let cacheDir: string;
let nebula: Nebula;

beforeAll(async () => {
  fx = await buildFixtures();
  cacheDir = tempDir('wasm-cache');
  nebula = new Nebula({ builtins: false, wasm: { cacheDir } });
});
afterAll(async () => {
  await nebula.close();
});

describe('WasmRuntime deploy', () => {
  it('runs a preview1 command module and a component built from it', async () => {
    await nebula.deploy({ name: 'echo', wasm: fx.echo });
    const rec = await nebula.invoke('echo', { hello: ['wörld', 1] });
    expect(rec.ok).toBe(true);
    expect(rec.result).toEqual({ hello: ['wörld', 1] });

    await nebula.deploy({ name: 'prime-component', wasm: join(functionsDir(), 'wasm', 'prime.wasm') });
    await nebula.deploy({
      name: 'prime-module',
      wasm: readFileSync(join(functionsDir(), 'wasm', 'core', 'prime.wasm')),
    });
    const [a, b] = await Promise.all([nebula.invoke('prime-component', 100), nebula.invoke('prime-module', 100)]);
    expect([a.result, b.result]).toEqual([541, 541]);
    const info = (await nebula.functions()).find((f) => f.name === 'prime-component');
    expect(info?.runtimes).toEqual(['wasm']);
    expect(info?.artifacts.wasm?.sizeBytes).toBeGreaterThan(1000);
  });

  it.each([
    ['not wasm', () => new TextEncoder().encode('#!/bin/sh\necho hi'), /not a WebAssembly module/],
    ['a truncated module', () => fx.echo.subarray(0, 100), /does not validate/],
    ['a reactor (library) module', () => fx.reactor, /library \(reactor\)/],
    ['a module importing a host function', () => fx.foreign, /env\.secret/],
    [
      'a module importing a preview1 function WASI does not define',
      () => fx.unknownPreview1,
      /wasi_snapshot_preview1\.nebula_backdoor/,
    ],
    ['a module that exports no memory', () => fx.noMemory, /exports no memory/],
  ])('refuses %s at deploy time with INVALID_FUNCTION', async (_what, bytes, message) => {
    const err = await nebula.deploy({ name: 'bad', wasm: bytes() }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'INVALID_FUNCTION' });
    expect((err as Error).message).toMatch(message);
    expect(nebula.has('bad')).toBe(false);
  });

  it('refuses a path that does not exist', async () => {
    await expect(nebula.deploy({ name: 'missing', wasm: '/nonexistent/fn.wasm' })).rejects.toMatchObject({
      code: 'INVALID_FUNCTION',
    });
  });

  it('reuses the disk cache in a second runtime: its first run did not compile', async () => {
    const first = new Nebula({ builtins: false, wasm: { cacheDir, workers: 1 } });
    await first.deploy({ name: 'echo2', wasm: fx.exit3 });
    expect((await first.invoke('echo2', 1)).timing.compiled).toBe(true);
    await first.close();
    const second = new Nebula({ builtins: false, wasm: { cacheDir, workers: 1 } });
    await second.deploy({ name: 'echo2', wasm: fx.exit3 });
    expect((await second.invoke('echo2', 1)).timing.compiled).toBe(false);
    await second.close();
  });
});

describe('WasmRuntime invocations', () => {
  beforeAll(async () => {
    await nebula.deploy([
      { name: 'loop', wasm: fx.loop },
      { name: 'hog', wasm: fx.hog, limits: { memoryMiB: 16 } },
      { name: 'exit3', wasm: fx.exit3 },
      { name: 'trap', wasm: fx.trap },
      { name: 'env', wasm: fx.env, grants: { env: { MODE: 'fast' }, args: ['a', 'b'] } },
      { name: 'noenv', wasm: fx.env },
    ]);
  });

  it('stops an infinite loop at its timeout and stays usable', async () => {
    const rec = await nebula.invoke('loop', null, { timeoutMs: 300 });
    expect(rec.ok).toBe(false);
    expect(rec.error?.code).toBe('TIMEOUT');
    const after = await Promise.all([nebula.invoke('exit3', 1), nebula.invoke('env', 1)]);
    expect(after[0].error?.exitCode).toBe(3);
    expect(after[1].ok).toBe(true);
  });

  it('aborts through an AbortSignal', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const rec = await nebula.invoke('loop', null, { signal: ac.signal, timeoutMs: 60_000 });
    expect(rec.error?.code).toBe('ABORTED');
  });

  it('turns a runaway allocation into MEMORY_LIMIT at the cap, not a host crash', async () => {
    const rec = await nebula.invoke('hog', null);
    expect(rec.ok).toBe(false);
    expect(rec.error?.code).toBe('MEMORY_LIMIT');
    expect(rec.error?.message).toContain('16 MiB');
  });

  it('reports a non-zero exit with its code and stderr, and a trap as FUNCTION_FAILED', async () => {
    const a = await nebula.invoke('exit3', 1);
    expect(a.error).toMatchObject({ code: 'FUNCTION_FAILED', exitCode: 3 });
    expect(a.error?.stderr).toContain('something went wrong');
    const b = await nebula.invoke('trap', 1);
    expect(b.error?.code).toBe('FUNCTION_FAILED');
    expect(b.error?.message).toMatch(/trapped: RuntimeError: unreachable/);
  });

  it('gives env and args only as granted, and no filesystem', async () => {
    expect((await nebula.invoke('env', 1)).result).toEqual({ argc: 3, mode: 'fast', fopen: 0 });
    expect((await nebula.invoke('noenv', 1)).result).toEqual({ argc: 1, mode: '', fopen: 0 });
  });

  it('runs concurrent invocations in every mode, each with its own stdio', async () => {
    await nebula.deploy({ name: 'echo', wasm: fx.echo });
    const inputs = Array.from({ length: 24 }, (_, i) => ({ i, pad: 'x'.repeat(i * 100) }));
    const modes = ['cold', 'prewarmed', 'warm'] as const;
    const recs = await Promise.all(inputs.map((input, i) => nebula.invoke('echo', input, { mode: modes[i % 3] })));
    expect(recs.map((r) => r.result)).toEqual(inputs);
  });

  it('keeps the event loop free while a function runs', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const rec = await nebula.invoke('loop', null, { timeoutMs: 200 });
    clearInterval(timer);
    expect(rec.error?.code).toBe('TIMEOUT');
    expect(ticks).toBeGreaterThan(5);
  });

  it('runs a WasmRuntime given explicitly, and closes so the process can exit', async () => {
    const rt = new WasmRuntime({ workers: 1, cacheDir });
    const n = new Nebula({ builtins: false, runtimes: { wasm: rt } });
    await n.deploy({ name: 'echo', wasm: fx.echo });
    expect((await n.invoke('echo', 'hi')).result).toBe('hi');
    await n.close();
    await expect(n.invoke('echo', 'hi')).rejects.toMatchObject({ code: 'CLOSED' });
  });
});

describe('WasmRuntime through jco glue over a WASI 0.2 host', () => {
  it('runs a native WASI 0.2 component (no preview1 module inside) through the glue by default', async () => {
    await nebula.deploy([
      { name: 'native-ok', wasm: fx.nativeOk },
      { name: 'native-err', wasm: fx.nativeErr },
    ]);
    const [ok, err] = [await nebula.invoke('native-ok', null), await nebula.invoke('native-err', null)];
    expect(ok).toMatchObject({ ok: true, result: '' });
    // `run` returning err is how a WASI 0.2 command fails: exit code 1, not a trap.
    expect(err).toMatchObject({ ok: false, error: { code: 'FUNCTION_FAILED', exitCode: 1 } });
    expect(err.error?.message).not.toMatch(/trapped/);
  });

  it('runs components with componentHost: "glue", with the same answers and failures as records', async () => {
    const n = new Nebula({ wasm: { componentHost: 'glue', cacheDir, workers: 1 } });
    const [fib, fact, cold2] = [
      await n.invoke('fib', 20),
      await n.invoke('factorial', 20),
      await n.invoke('prime', 1000, { mode: 'prewarmed' }),
    ];
    expect([fib.result, fact.result, cold2.result]).toEqual([6765, '2432902008176640000', 7919]);
    // WASI 0.2 `exit` carries success or failure only, so a failing exit is code 1.
    const bad = await n.invoke('fib', 'abc' as never);
    expect(bad.error).toMatchObject({ code: 'FUNCTION_FAILED', exitCode: 1 });
    expect(bad.error?.stderr).toContain('fib: input must be an integer');
    await n.close();
  });
});
