/**
 * Open-loop arrival schedules: when each invocation is meant to be sent, decided before the run
 * and never moved by how long earlier invocations took (that would hide a stall: coordinated
 * omission).
 */
import { rng } from '../../stats.js';

/** `constant`: one arrival every 1/rate s; `poisson`: exponential gaps of mean 1/rate s (seeded). */
export type ArrivalProcess = 'constant' | 'poisson';

/** The arrival processes, as flags and configs name them. */
export const ARRIVAL_PROCESSES: readonly ArrivalProcess[] = ['constant', 'poisson'];

/**
 * The intended send times of a step, ms after its start, ascending: `ratePerS` arrivals a second
 * on average over `durationMs` (the first at 0).
 */
export function arrivalOffsets(process: ArrivalProcess, ratePerS: number, durationMs: number, seed: number): number[] {
  const gapMs = 1000 / ratePerS;
  const out: number[] = [];
  if (process === 'constant') {
    for (let i = 0; i * gapMs < durationMs; i++) out.push(i * gapMs);
    return out;
  }
  const rand = rng(seed);
  // Inverse transform of the exponential distribution; 1 - u is in (0, 1], so the log is finite.
  for (let t = 0; t < durationMs; t += -Math.log(1 - rand()) * gapMs) out.push(t);
  return out;
}
