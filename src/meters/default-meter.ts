/**
 * The meter `new Nebula()` attaches when none is given: RAPL where this host's powercap
 * counters can be read, otherwise the CPU-utilisation estimate (labelled an estimate).
 */
import { EstimateMeter } from './estimate.js';
import type { Meter } from './meter.js';
import { RaplMeter } from './rapl.js';

/** Sampling interval of the default meter, ms: fine enough for windows of a few hundred ms, cheap (one read per tick). */
const DEFAULT_METER_INTERVAL_MS = 100;

let raplProblem: string | null | undefined;

/** Why RAPL is not the default here (`null` when it is); probed once per process. */
export function raplUnavailableReason(): string | null {
  if (raplProblem === undefined) raplProblem = RaplMeter.probe();
  return raplProblem;
}

/** A new instance of the best meter available without configuration. */
export function defaultMeter(): Meter {
  return raplUnavailableReason() === null
    ? new RaplMeter({ intervalMs: DEFAULT_METER_INTERVAL_MS })
    : new EstimateMeter({ intervalMs: DEFAULT_METER_INTERVAL_MS });
}
