/**
 * Replay of the shipped synthetic trace on the real Wasm runtime (two worker threads): under the
 * fixed policy its keeper holds each trace function's instance, warm runs go to the thread that
 * keeps it, and the cold starts the records report equal those computed from the arrivals alone.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Nebula, WasmRuntime } from '../../../src/index.js';
import { packageRoot } from '../../../src/paths.js';
import { builtinFunctions } from '../../../src/runtimes/registry.js';
import { parseTrace } from '../../../src/experiment/replay/trace.js';
import { runReplay } from '../../../src/experiment/replay/run-replay.js';
import { tempDir } from '../../temp-dir.js';

const MIN = 60_000;
const trace = parseTrace(
  readFileSync(join(packageRoot(), 'examples', 'traces', 'synthetic-azure.csv'), 'utf8'),
  'synthetic-azure.csv',
  { fromMs: 0, toMs: 120 * MIN },
);

/** Cold starts under a fixed keep-alive, from the arrivals alone: a function's first arrival, and each one more than `keepMs` after the one before. */
function coldFromArrivals(keepMs: number): Record<string, number> {
  const last = new Map<string, number>();
  const cold: Record<string, number> = {};
  for (const a of trace.arrivals) {
    const prev = last.get(a.function);
    if (prev === undefined || a.atMs - prev > keepMs) cold[a.function] = (cold[a.function] ?? 0) + 1;
    last.set(a.function, a.atMs);
  }
  return cold;
}

let nebula: Nebula | undefined;
afterAll(async () => {
  await nebula?.close();
});

describe('trace replay on Wasm', () => {
  it('the fixed policy has exactly the cold starts the arrivals imply, with two worker threads', async () => {
    const gaps: number[] = [];
    const last = new Map<string, number>();
    for (const a of trace.arrivals) {
      if (last.has(a.function)) gaps.push(a.atMs - last.get(a.function)!);
      last.set(a.function, a.atMs);
    }
    // The decision counts from the invocation's end: no gap may lie that close to the keep-alive.
    expect(gaps.filter((g) => g > 10 * MIN - 1000 && g < 10 * MIN + 60_000)).toEqual([]);

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
    const expected = coldFromArrivals(10 * MIN);
    expect(Object.fromEntries(Object.entries(fixed!.perFunction).map(([f, c]) => [f, c.coldStarts]))).toEqual(expected);
    expect(fixed!.keptPeak).toBeGreaterThan(0);
  });
});
