/**
 * Micro-benchmarks of the engine's own per-invocation overhead with tinybench: `invoke()` of a
 * trivial function against instantiating and running the same core module directly.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Bench } from 'tinybench';
import type { Nebula } from '../nebula.js';
import { functionsDir } from '../paths.js';

/** One tinybench task's latency, ms. */
export interface MicroResult {
  task: string;
  samples: number;
  meanMs: number;
  medianMs: number;
  p99Ms: number;
  /** Relative margin of error of the mean, %. */
  rmePercent: number;
}

/** A host for the direct baseline: reads the input, discards the output, turns exit into a throw. */
function directImports(mem: () => WebAssembly.Memory, input: Uint8Array) {
  let pos = 0;
  const exit = new Error('exit');
  const fns: Record<string, (...a: number[]) => number> = {
    fd_read: (_fd, iovs, _n, nread) => {
      const v = new DataView(mem().buffer);
      const ptr = v.getUint32(iovs, true);
      const len = v.getUint32(iovs + 4, true);
      const chunk = input.subarray(pos, pos + len);
      new Uint8Array(mem().buffer).set(chunk, ptr);
      pos += chunk.length;
      v.setUint32(nread, chunk.length, true);
      return 0;
    },
    fd_write: (_fd, iovs, n, nwritten) => {
      const v = new DataView(mem().buffer);
      let total = 0;
      for (let i = 0; i < n; i++) total += v.getUint32(iovs + i * 8 + 4, true);
      v.setUint32(nwritten, total, true);
      return 0;
    },
    proc_exit: () => {
      throw exit;
    },
  };
  return new Proxy(fns, { get: (t, name: string) => t[name] ?? (() => 0) });
}

/** How long {@link microBenchmarks} takes with its default time, ms (three tasks of 400 ms after 100 ms of warm-up). */
export const MICRO_EXPECTED_MS = 1600;

/** Runs the micro-benchmarks (about 1.5 s). */
export async function microBenchmarks(nebula: Nebula, timeMs = 400): Promise<MicroResult[]> {
  const module = await WebAssembly.compile(await readFile(join(functionsDir(), 'wasm', 'core', 'fib.wasm')));
  const input = new TextEncoder().encode('1');
  const bench = new Bench({ time: timeMs, warmupTime: 100 });
  bench
    .add('direct: new WebAssembly.Instance + _start, fib(1), this thread', () => {
      let memory: WebAssembly.Memory | undefined;
      const inst = new WebAssembly.Instance(module, { wasi_snapshot_preview1: directImports(() => memory!, input) });
      memory = inst.exports.memory as WebAssembly.Memory;
      try {
        (inst.exports._start as () => void)();
      } catch {
        // exit
      }
    })
    .add('nebula.invoke fib(1), wasm cold', async () => {
      await nebula.invoke('fib', 1, { runtime: 'wasm', mode: 'cold', waitForEnergy: false });
    })
    .add('nebula.invoke fib(1), wasm prewarmed', async () => {
      await nebula.invoke('fib', 1, { runtime: 'wasm', mode: 'prewarmed', waitForEnergy: false });
    });
  await bench.run();
  return bench.tasks.map((t) => {
    const r = t.result as unknown as { latency?: { samplesCount?: number; mean: number; p50?: number; p99?: number; rme: number }; samples?: number[] };
    const lat = r?.latency;
    return {
      task: t.name,
      samples: lat?.samplesCount ?? r?.samples?.length ?? 0,
      meanMs: lat?.mean ?? Number.NaN,
      medianMs: lat?.p50 ?? Number.NaN,
      p99Ms: lat?.p99 ?? Number.NaN,
      rmePercent: lat?.rme ?? Number.NaN,
    };
  });
}
