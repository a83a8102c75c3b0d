/**
 * Replay of the shipped synthetic trace on the real Wasm runtime (two worker threads): under the
 * fixed policy its keeper holds each trace function's instance, warm runs go to the thread that
 * keeps it, and the cold starts the records report equal those computed from the arrivals alone.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Nebula, WasmRuntime } from '../../../src/index.js';
import { builtinFunctions } from '../../../src/runtimes/registry.js';
import { runReplay } from '../../../src/experiment/replay/run-replay.js';
import { tempDir } from '../../temp-dir.js';
import { coldFromArrivals, gapsNear, MIN, shippedTrace } from './shipped-trace.js';

const trace = shippedTrace(120);

let nebula: Nebula | undefined;
afterAll(async () => {
  await nebula?.close();
});

describe('trace replay on Wasm', () => {
  it('the fixed policy has exactly the cold starts the arrivals imply, with two worker threads', async () => {
    expect(gapsNear(trace, 10 * MIN)).toEqual([]);

    const dir = tempDir('replay-wasm');
    const runtime = new WasmRuntime({ workers: 2, cacheDir: join(dir, 'cache'), maxWarmInstances: 1 });
    nebula = new Nebula({ meter: null, runtimes: { wasm: runtime } });
    const fib = builtinFunctions().find((f) => f.name === 'fib')!;
    const result = await runReplay(nebula, {
      trace,
      mapping: Object.fromEntries(trace.functions.map((f) => [f, { spec: fib, input: 10 }])),
      runtimes: ['wasm'],
      policies: ['fixed:10m'],
      speed: 1200,
      maxInFlight: 1,
      baselineMs: 0,
      outDir: join(dir, 'run'),
    });
    const [fixed] = result.results;
    expect(fixed!.invocations).toBe(trace.arrivals.length);
    expect(fixed!.errors).toEqual({});
    const expected = coldFromArrivals(trace, 10 * MIN);
    expect(Object.fromEntries(Object.entries(fixed!.perFunction).map(([f, c]) => [f, c.coldStarts]))).toEqual(expected);
    expect(fixed!.keptPeak).toBeGreaterThan(0);
  });
});
