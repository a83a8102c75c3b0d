import { describe, expect, it } from 'vitest';
import { Nebula, NebulaError } from '../src/index.js';

describe('Nebula registry and input validation', () => {
  it('registers the built-in functions by default and none with builtins: false', async () => {
    const a = new Nebula();
    expect((await a.functions()).map((f) => f.name).sort()).toEqual(['exponential', 'factorial', 'fib', 'hash', 'prime']);
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
    await expect(n.invoke('fib', cyclic)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(n.invoke('fib', 10n)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(n.invoke('fib', undefined)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(n.invoke('fib', 'x'.repeat(100))).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await n.close();
  });

  it('rejects unknown runtimes and modes, and work after close()', async () => {
    const n = new Nebula();
    await expect(n.invoke('fib', 1, { runtime: 'lambda' as never })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(n.invoke('fib', 1, { mode: 'hot' as never })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(n.invoke('fib', 1, { timeoutMs: -1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await n.close();
    await expect(n.invoke('fib', 1)).rejects.toMatchObject({ code: 'CLOSED' });
  });
});
