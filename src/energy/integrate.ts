/**
 * Energy from a power trace: samples joined by straight lines (piecewise-linear), integrated
 * exactly (trapezoids), with the window's ends interpolated between the samples around them.
 */
import type { PowerSample } from '../types.js';

/** Power at `t` on the line between the samples around it (samples sorted by t, t inside their span). */
export function powerAt(samples: PowerSample[], t: number): number {
  let lo = 0;
  let hi = samples.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (samples[mid]!.t <= t) lo = mid;
    else hi = mid;
  }
  const a = samples[lo]!;
  const b = samples[hi]!;
  if (b.t === a.t) return b.powerW;
  return a.powerW + ((b.powerW - a.powerW) * (t - a.t)) / (b.t - a.t);
}

/** Integral of power over [from, to], joules. Needs samples at or before `from` and at or after `to`. */
export function integrateJ(samples: PowerSample[], from: number, to: number): number {
  if (to <= from) return 0;
  let joules = 0;
  let prevT = from;
  let prevP = powerAt(samples, from);
  for (const s of samples) {
    if (s.t <= from) continue;
    if (s.t >= to) break;
    joules += ((prevP + s.powerW) / 2) * (s.t - prevT);
    prevT = s.t;
    prevP = s.powerW;
  }
  joules += ((prevP + powerAt(samples, to)) / 2) * (to - prevT);
  return joules / 1000; // W x ms -> J
}

/** Why a window cannot be measured: no sample before its start, none after its end, or a gap inside. */
export interface CoverageProblem {
  kind: 'start' | 'end' | 'gap';
  message: string;
}

/** Why a window cannot be measured from these samples (sorted by t), or null when it can. */
export function coverageProblem(
  samples: PowerSample[],
  from: number,
  to: number,
  maxGapMs: number,
): CoverageProblem | null {
  if (samples.length === 0) return { kind: 'start', message: 'the meter has no sample yet' };
  const first = samples[0]!.t;
  const last = samples[samples.length - 1]!.t;
  if (first > from)
    return {
      kind: 'start',
      message: `the meter's samples start ${(first - from).toFixed(0)} ms after the window's start`,
    };
  if (last < to)
    return { kind: 'end', message: `the meter's samples end ${(to - last).toFixed(0)} ms before the window's end` };
  let prev = first;
  for (const s of samples) {
    if (prev >= to) break;
    if (s.t - prev > maxGapMs && s.t > from)
      return { kind: 'gap', message: `the meter had a gap of ${(s.t - prev).toFixed(0)} ms inside the window` };
    prev = s.t;
  }
  return null;
}
