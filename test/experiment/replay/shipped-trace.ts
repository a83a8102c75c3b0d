/** The shipped synthetic trace, and what its arrivals alone say a fixed keep-alive must give. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../../src/paths.js';
import { parseTrace, type Trace } from '../../../src/experiment/replay/trace.js';

export const MIN = 60_000;

/** The first `minutes` of examples/traces/synthetic-azure.csv. */
export function shippedTrace(minutes: number): Trace {
  return parseTrace(
    readFileSync(join(packageRoot(), 'examples', 'traces', 'synthetic-azure.csv'), 'utf8'),
    'synthetic-azure.csv',
    { fromMs: 0, toMs: minutes * MIN },
  );
}

/** Cold starts under a fixed keep-alive of `keepMs`, from the arrivals alone: a function's first arrival, and each one more than `keepMs` after the one before. */
export function coldFromArrivals(trace: Trace, keepMs: number): Record<string, number> {
  const last = new Map<string, number>();
  const cold: Record<string, number> = {};
  for (const a of trace.arrivals) {
    const prev = last.get(a.function);
    if (prev === undefined || a.atMs - prev > keepMs) cold[a.function] = (cold[a.function] ?? 0) + 1;
    last.set(a.function, a.atMs);
  }
  return cold;
}

/**
 * The gaps between a function's arrivals that lie within a second before to a minute after
 * `keepMs`: a policy decides from an invocation's end, a fraction of a second of trace time after
 * its arrival, so a count from the arrivals alone is exact only where there are none.
 */
export function gapsNear(trace: Trace, keepMs: number): number[] {
  const gaps: number[] = [];
  const last = new Map<string, number>();
  for (const a of trace.arrivals) {
    if (last.has(a.function)) gaps.push(a.atMs - last.get(a.function)!);
    last.set(a.function, a.atMs);
  }
  return gaps.filter((g) => g > keepMs - 1000 && g < keepMs + 60_000);
}
