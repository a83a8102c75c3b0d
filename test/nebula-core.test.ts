import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { Nebula, NebulaError, RuntimeUnavailableError, WasmRuntime } from '../src/index.js';
import { newId } from '../src/record.js';
import { tempDir } from './temp-dir.js';
import { BUILTIN_NAMES } from '../src/builtins.js';

describe('Nebula registry and input validation', () => {
  it('registers the built-in functions by default and none with builtins: false', async () => {
    const a = new Nebula();
    expect((await a.functions()).map((f) => f.name).sort()).toEqual([
      'exponential',
      'factorial',
      'fib',
      'hash',
      'prime',
      'primecount',
    ]);
    const b = new Nebula({ builtins: false });
    expect(await b.functions()).toEqual([]);
    await Promise.all([a.close(), b.close()]);
  });

  it('refuses invalid function names and specs without an artifact', async () => {
    const n = new Nebula({ builtins: false });
    for (const name of ['', 'Fib', '1fib', 'a b', 'x'.repeat(64), '../etc']) {
      await expect(n.deploy({ name, wasm: new Uint8Array([0]) })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    }
    await expect(n.deploy({ name: 'empty' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await n.close();
  });

  it('throws FUNCTION_NOT_FOUND for an unknown function, naming what is deployed', async () => {
    const n = new Nebula();
    const err = await n.invoke('nope', 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NebulaError);
    expect(err).toMatchObject({ code: 'FUNCTION_NOT_FOUND' });
    expect((err as Error).message).toContain('fib');
    await n.close();
  });

  it('throws INVALID_INPUT for input that is not JSON-serialisable or too large', async () => {
    const n = new Nebula({ maxInputBytes: 16 });
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await expect(n.invoke('fib', cyclic as never)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(n.invoke('fib', 10n as never)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(n.invoke('fib', undefined as never)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(n.invoke('fib', 'x'.repeat(100) as never)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await n.close();
  });

  it('rejects unknown runtimes and modes, and work after close()', async () => {
    const n = new Nebula();
    await expect(n.invoke('fib', 1, { runtime: 'lambda' as never })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(n.invoke('fib', 1, { mode: 'hot' as never })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(n.invoke('fib', 1, { timeoutMs: -1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    // A Node.js timer fires at once past 2^31 - 1 ms: such a timeout is refused, not silently 1 ms.
    await expect(n.invoke('fib', 1, { timeoutMs: 2 ** 31 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(() => new Nebula({ timeoutMs: Number.POSITIVE_INFINITY })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }) as Error,
    );
    expect((await n.invoke('fib', 1, { timeoutMs: 2 ** 31 - 1 })).result).toBe(1);
    await n.close();
    await expect(n.invoke('fib', 1)).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('refuses runtimes that are not runtime instances by kind, at construction, and close() still works', async () => {
    for (const runtimes of [
      ['wasm'],
      'wasm',
      { lambda: {} },
      { wasm: 'wasm' },
      { wasm: { prepare() {}, close() {}, kind: 'docker' } },
    ])
      expect(() => new Nebula({ meter: null, runtimes: runtimes as never })).toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENT' }) as Error,
      );
    expect(() => new Nebula({ runtimes: ['wasm'] as never })).toThrow(/pass \{ runtime: 'wasm' \} to invoke\(\)/);
    const n = new Nebula({ meter: null, runtimes: { wasm: undefined } });
    await n.close();
  });
});

describe('the runtime registry', () => {
  it('lists every kind once, and every place validates against it', async () => {
    const { runtimeDescriptors, runtimeKinds, isRuntimeKind } = await import('../src/index.js');
    expect(runtimeKinds()).toEqual(['wasm', 'docker', 'process']);
    expect(runtimeKinds()).toEqual(runtimeDescriptors().map((d) => d.kind));
    for (const d of runtimeDescriptors()) {
      expect(isRuntimeKind(d.kind)).toBe(true);
      expect(d.label.length).toBeGreaterThan(0);
      expect(d.color).toMatch(/^#[0-9a-f]{6}$/);
    }
    expect(isRuntimeKind('lambda')).toBe(false);
  });

  it('refuses a malformed source for a runtime, naming the runtime and what it must be', async () => {
    const n = new Nebula({ builtins: false });
    await expect(n.deploy({ name: 'a', docker: { image: '' } })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/"docker" must be/) as string,
    });
    await expect(n.deploy({ name: 'b', docker: { image: 'x', binary: 'y' } as never })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(n.deploy({ name: 'c', wasm: 42 as never })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/"wasm" must be/) as string,
    });
    await n.close();
  });

  it('shows each artifact in functions(), known before anything is prepared', async () => {
    const n = new Nebula();
    const fib = (await n.functions()).find((f) => f.name === 'fib')!;
    expect(fib.runtimes[0]).toBe('wasm');
    expect(fib.artifacts.wasm?.sizeBytes).toBeGreaterThan(1000);
    expect(fib.artifacts.docker?.path).toMatch(/fib$/);
    await n.close();
  });
});

describe('typed records', () => {
  it('narrows on ok: a success has a result and no error, a failure an error and a null result', async () => {
    const n = new Nebula();
    const good = await n.invoke('fib', 10);
    const bad = await n.invoke('fib', -1);
    await n.close();
    if (!good.ok) throw new Error('fib(10) failed');
    const doubled: number = good.result * 2; // typed as number for the built-in fib
    expect(doubled).toBe(110);
    expect(good.error).toBeUndefined();
    if (bad.ok) throw new Error('fib(-1) succeeded');
    expect(bad.result).toBeNull();
    expect(bad.error.code).toBe('FUNCTION_FAILED');
    expect(good.sandbox).toBe('fresh');
    expect(good.timing.prepareMs).toBeGreaterThanOrEqual(0);
  });
});

describe('the warm-up step, nebula.ready()', () => {
  it('takes the set-up once, without leaving a record, an event or a results line', async () => {
    const file = join(tempDir('ready'), 'results.jsonl');
    const n = new Nebula({ meter: null, resultsFile: file });
    const events: string[] = [];
    for (const e of ['invocation:start', 'invocation:end', 'invocation:settled', 'deploy'] as const)
      n.on(e, () => events.push(e));
    const ready = n.ready();
    expect(n.ready()).toBe(ready);
    await ready;
    expect(events).toEqual([]);
    expect(n.pendingEnergy).toBe(0);
    expect((await n.functions()).map((f) => f.name)).toEqual([...BUILTIN_NAMES]);
    await n.close();
    expect(existsSync(file) ? readFileSync(file, 'utf8') : '').toBe('');
  });

  it('is started by the constructor unless warmUp is false, and starts the runtimes that start ahead', async () => {
    const started = vi.spyOn(WasmRuntime.prototype, 'ready');
    try {
      const off = new Nebula({ meter: null, warmUp: false });
      expect(started).not.toHaveBeenCalled();
      await off.ready();
      expect(started).toHaveBeenCalledTimes(1);
      await off.close();
      const on = new Nebula({ meter: null });
      expect(started).toHaveBeenCalledTimes(2);
      await on.ready();
      await on.prepare(['fib'], ['wasm']);
      const rec = await on.invoke('fib', 10);
      expect(rec).toMatchObject({ ok: true, result: 55 });
      expect(rec.timing.prepareMs).toBe(0);
      await on.close();
    } finally {
      started.mockRestore();
    }
  });

  it('never rejects: a runtime that cannot start says so where it is needed', async () => {
    const failing = vi
      .spyOn(WasmRuntime.prototype, 'ready')
      .mockRejectedValue(new RuntimeUnavailableError('no threads here'));
    const n = new Nebula({ meter: null });
    try {
      await expect(n.ready()).resolves.toBeUndefined();
    } finally {
      failing.mockRestore();
      await n.close();
    }
  });

  it('gives every record its own time-ordered id, past the refills of the random pool behind them', () => {
    const ids = Array.from({ length: 3000 }, () => newId());
    for (const id of ids) expect(id).toMatch(/^[0-9a-z]{11}[0-9a-f]{8}$/);
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(ids.map((id) => id.slice(11))).size).toBeGreaterThan(2990);
    const times = ids.map((id) => parseInt(id.slice(0, 9), 36));
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });
});
