/**
 * The Meter interface: a source of power samples. `gude/` (Modbus TCP), `rapl.ts` (Linux
 * powercap) and `estimate.ts` (CPU utilisation) implement it.
 */
import type { EventEmitter } from 'eventemitter3';
import type { PowerSample } from '../types.js';

/** The events every meter emits. */
export interface MeterEvents {
  /** A reading arrived. */
  sample: (sample: PowerSample) => void;
  /** A reading failed (a gap in the samples follows); the meter keeps trying. A MeterError: `details.reason` says why. */
  error: (error: Error) => void;
}

/** A source of power samples. */
export interface Meter extends EventEmitter<MeterEvents> {
  /** Identifies the meter in records, e.g. `gude:10.0.0.7:502/port1`, `rapl`, `estimate`. */
  readonly name: string;
  /** Nominal time between samples, ms. */
  readonly intervalMs: number;
  /** True when the meter only estimates power. */
  readonly estimate: boolean;
  /**
   * Starts sampling. Resolves once the meter is running; rejects with a MeterError:
   * `METER_UNAVAILABLE` (cannot be reached or read) or `METER_PROTOCOL` (it answers, but not with a reading).
   */
  start(): Promise<void>;
  /** Stops sampling and releases connections and timers. */
  stop(): Promise<void>;
}
