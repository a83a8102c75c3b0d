/**
 * Energy attribution: keeps a bounded window of meter samples and turns an invocation's
 * time window into an `InvocationEnergy` (time-weighted over the piecewise-linear trace).
 * PLACEHOLDER: the Energy issue replaces the body; the signatures are what Nebula uses.
 */
import type { Meter } from '../meters/meter.js';
import type { Baseline, BatchEnergy, InvocationEnergy } from '../types.js';

/** Options of {@link EnergyTracker}. */
export interface EnergyTrackerOptions {
  /** How much sample history to keep, ms. Default 10 minutes. */
  historyMs?: number;
}

/** The energy of one window, or why there is none. */
export interface Attribution {
  energy: InvocationEnergy | null;
  note?: string;
}

/** Follows one meter and attributes energy to time windows. */
export class EnergyTracker {
  baseline: Baseline | null = null;

  constructor(readonly meter: Meter, readonly options: EnergyTrackerOptions = {}) {}

  /** Starts the meter once; later calls return the same promise. */
  async start(): Promise<void> {}

  /** Stops the meter. */
  async stop(): Promise<void> {}

  /** Energy of [from, to] (epoch ms); waits up to about one meter interval for samples that cover `to`. */
  async attribute(_from: number, _to: number, _options: { wait?: boolean; signal?: AbortSignal } = {}): Promise<Attribution> {
    return { energy: null, note: 'energy attribution not implemented yet' };
  }

  /** Energy per invocation of `n` back-to-back invocations in [from, to]; see {@link BatchEnergy}. */
  async batch(_from: number, _to: number, _n: number): Promise<BatchEnergy> {
    throw new Error('not implemented');
  }

  /** Measures idle power for `durationMs` and keeps it as the baseline. */
  async measureBaseline(_durationMs: number): Promise<Baseline> {
    throw new Error('not implemented');
  }
}
