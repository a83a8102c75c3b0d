/**
 * Micro-benchmarks of a Wasm invocation back to back, with tinybench: a whole `invoke()` of a
 * trivial function (cold and prewarmed) against instantiating and running the same core module
 * directly on this thread. Each figure is defined in `covers`, beside the others, so a reader can
 * tell them from the cold start of the run phase (an invocation arriving at an idle host).
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
  /** What one sample of the task covers, from its start to its end. */
  covers: string;
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
  const covers: Record<string, string> = {};
  const task = (name: string, what: string, fn: () => unknown) => {
    covers[name] = what;
    bench.add(name, fn);
  };
  task(
    'direct: new WebAssembly.Instance + _start, fib(1), this thread',
    'a new instance of the compiled module with a newly mapped memory, and its _start, on the calling thread: no hand-over, no pooled memory, no record',
    () => {
      const { ctx } = direct.host;
      ctx.beginRun(direct.input, ctx.stdout, ctx.stderr);
      const inst = new WebAssembly.Instance(module, direct.imports);
      ctx.memory = inst.exports.memory as WebAssembly.Memory;
      try {
        (inst.exports._start as () => void)();
      } catch (e) {
        if (!isStopSignal(e)) throw e;
      }
    },
  );
  task(
    'nebula.invoke fib(1), wasm cold, back to back',
    'a whole invoke(): the hand-over to a worker that is already awake, a fresh instance over a memory from the pool (zeroed), the run, the result and its record; one after another, so caches are warm',
    async () => {
      await nebula.invoke('fib', 1, { runtime: 'wasm', mode: 'cold', waitForEnergy: false });
    },
  );
  task(
    'nebula.invoke fib(1), wasm prewarmed, back to back',
    'as the cold task, with an instance made ahead of time',
    async () => {
      await nebula.invoke('fib', 1, { runtime: 'wasm', mode: 'prewarmed', waitForEnergy: false });
    },
  );
  await bench.run();
  return bench.tasks.map((t) => {
    const r = t.result as unknown as {
      latency?: { samplesCount?: number; mean: number; p50?: number; p99?: number; rme: number };
      samples?: number[];
    };
    const lat = r?.latency;
    return {
      task: t.name,
      covers: covers[t.name] ?? '',
      samples: lat?.samplesCount ?? r?.samples?.length ?? 0,
      meanMs: lat?.mean ?? Number.NaN,
      medianMs: lat?.p50 ?? Number.NaN,
      p99Ms: lat?.p99 ?? Number.NaN,
      rmePercent: lat?.rme ?? Number.NaN,
    };
  });
}
