import { afterAll, describe, expect, it } from 'vitest';
import { WasmRuntime, builtinFunctions, type V8Tiering } from '../../../src/index.js';

// V8's flags are process-wide; vitest runs each test file in a process of its own.
describe('WasmRuntime v8Tiering', () => {
  const runtimes: WasmRuntime[] = [];
  const make = (v8Tiering?: V8Tiering) => {
    const rt = new WasmRuntime({ workers: 1, ...(v8Tiering ? { v8Tiering } : {}) });
    runtimes.push(rt);
    return rt;
  };
  const fib = builtinFunctions().find((f) => f.name === 'fib')!;
  afterAll(async () => {
    for (const rt of runtimes) await rt.close();
  });

  it('refuses an unknown setting with INVALID_ARGUMENT', async () => {
    await expect(make('turbo' as V8Tiering).prepare(fib)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining("'eager' or 'default'"),
    });
  });

  it('runs with the default setting, and again in a second runtime asking for the same', async () => {
    const first = await make().prepare(fib);
    const second = await make('eager').prepare(fib);
    for (const p of [first, second]) {
      const o = await p.run('20', {
        mode: 'cold',
        timeoutMs: 30_000,
        requestAt: Date.now(),
        deadlineAt: Date.now() + 30_000,
      });
      expect({ code: o.exitCode, out: o.stdout }).toEqual({ code: 0, out: '6765\n' });
    }
  });

  it('refuses the other setting in the same process, saying why', async () => {
    await expect(make('default').prepare(fib)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining("already compiles wasm with v8Tiering 'eager'"),
    });
  });
});
