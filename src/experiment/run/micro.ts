/**
 * Micro-benchmarks of the engine's own per-invocation overhead with tinybench: `invoke()` of a
 * trivial function against instantiating and running the same core module directly.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Bench } from 'tinybench';
import type { Nebula } from '../../nebula.js';
import { functionsDir } from '../../paths.js';
import { encodeGrants, HostContext, isStopSignal, OutputWriter } from '../../runtimes/wasm/host/context.js';
import { preview1Imports } from '../../runtimes/wasm/host/preview1.js';

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

/** The runtime's own preview1 bindings over one host context, for the direct baseline on this thread. */
function directHost(input: Uint8Array) {
  const host = { ctx: new HostContext(encodeGrants(['fib'], {}), new OutputWriter(4096), new OutputWriter(4096)) };
  return { host, imports: { wasi_snapshot_preview1: preview1Imports(host) }, input };
}

/** How long {@link microBenchmarks} takes with its default time, ms (three tasks of 400 ms after 100 ms of warm-up). */
export const MICRO_EXPECTED_MS = 1600;

/** Runs the micro-benchmarks (about 1.5 s). */
export async function microBenchmarks(nebula: Nebula, timeMs = 400): Promise<MicroResult[]> {
  const module = await WebAssembly.compile(await readFile(join(functionsDir(), 'wasm', 'core', 'fib.wasm')));
  const direct = directHost(new TextEncoder().encode('1'));
  const bench = new Bench({ time: timeMs, warmupTime: 100 });
  bench
    .add('direct: new WebAssembly.Instance + _start, fib(1), this thread', () => {
      const { ctx } = direct.host;
      ctx.beginRun(direct.input, ctx.stdout, ctx.stderr);
      const inst = new WebAssembly.Instance(module, direct.imports);
      ctx.memory = inst.exports.memory as WebAssembly.Memory;
      try {
        (inst.exports._start as () => void)();
      } catch (e) {
        if (!isStopSignal(e)) throw e;
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
    const r = t.result as unknown as {
      latency?: { samplesCount?: number; mean: number; p50?: number; p99?: number; rme: number };
      samples?: number[];
    };
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
