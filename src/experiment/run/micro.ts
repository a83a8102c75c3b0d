/**
 * Micro-benchmarks of an invocation back to back, with tinybench: a whole `invoke()` of a trivial
 * function (the built-in fib with input 1, cold and prewarmed) against the same work with no engine
 * around it, which each runtime that has one gives as its descriptor's `microFloor` (for Wasm: the
 * core module instantiated and run directly on this thread). Each figure says what it covers
 * (`covers`), beside the others, so a reader can tell them from the cold start of the run phase
 * (an invocation arriving at an idle host).
 */
import { Bench } from 'tinybench';
import type { Nebula } from '../../nebula.js';
import { runtimeDescriptor, type RuntimeKind } from '../../runtimes/registry.js';

/** One tinybench task's latency, ms. */
export interface MicroResult {
  task: string;
  /** The runtime it times (absent in runs recorded before it was kept). */
  runtime?: RuntimeKind;
  /** What one sample of the task covers, from its start to its end. */
  covers: string;
  samples: number;
  meanMs: number;
  medianMs: number;
  p99Ms: number;
  /** Relative margin of error of the mean, %. */
  rmePercent: number;
}

/** The runtimes of `runtimes` that give a floor to measure against. */
export function microRuntimes(runtimes: readonly RuntimeKind[]): RuntimeKind[] {
  return runtimes.filter((r) => runtimeDescriptor(r)?.microFloor !== undefined);
}

/** How long {@link microBenchmarks} takes per runtime with its default time, ms (three tasks of 400 ms after 100 ms of warm-up). */
export const MICRO_EXPECTED_MS = 1600;

/** Runs the micro-benchmarks on each of `runtimes` that gives a floor (about 1.5 s each); fib must be deployed on them. */
export async function microBenchmarks(
  nebula: Nebula,
  runtimes: readonly RuntimeKind[],
  timeMs = 400,
): Promise<MicroResult[]> {
  const bench = new Bench({ time: timeMs, warmupTime: 100 });
  const about = new Map<string, { runtime: RuntimeKind; covers: string }>();
  for (const runtime of microRuntimes(runtimes)) {
    const task = (name: string, covers: string, fn: () => unknown) => {
      about.set(name, { runtime, covers });
      bench.add(name, fn);
    };
    const floor = await runtimeDescriptor(runtime)!.microFloor!();
    task(floor.task, floor.covers, () => floor.run());
    task(
      `nebula.invoke fib(1), ${runtime} cold, back to back`,
      `a whole invoke(), from the call to its record${floor.invoke ? ` (${floor.invoke})` : ''}; one after another, so caches are warm`,
      async () => {
        await nebula.invoke('fib', 1, { runtime, mode: 'cold', waitForEnergy: false });
      },
    );
    task(
      `nebula.invoke fib(1), ${runtime} prewarmed, back to back`,
      'as the cold task, with a sandbox made ahead of time',
      async () => {
        await nebula.invoke('fib', 1, { runtime, mode: 'prewarmed', waitForEnergy: false });
      },
    );
  }
  if (!bench.tasks.length) return [];
  await bench.run();
  return bench.tasks.map((t) => {
    const r = t.result as unknown as {
      latency?: { samplesCount?: number; mean: number; p50?: number; p99?: number; rme: number };
      samples?: number[];
    };
    const lat = r?.latency;
    return {
      task: t.name,
      ...about.get(t.name)!,
      samples: lat?.samplesCount ?? r?.samples?.length ?? 0,
      meanMs: lat?.mean ?? Number.NaN,
      medianMs: lat?.p50 ?? Number.NaN,
      p99Ms: lat?.p99 ?? Number.NaN,
      rmePercent: lat?.rme ?? Number.NaN,
    };
  });
}
