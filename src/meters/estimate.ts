/**
 * EstimateMeter: power estimated from this host's CPU utilisation, for machines without a power
 * meter. Every sample is labelled an estimate. The model is the linear one of Fan, Weber and
 * Barroso, "Power provisioning for a warehouse-sized computer" (ISCA 2007):
 * P = P_idle + (P_busy - P_idle) x u, with idle power about half of busy power. The default
 * per-core figures (4 W idle, 8 W busy) are rough values for a modern server core; set your own.
 */
import { checkKnownKeys, keysOf } from '../known-keys.js';
import { cpus } from 'node:os';
import { EventEmitter } from 'eventemitter3';
import { nowMs } from '../clock.js';
import { defineMeter, noAddress, numberParam, onlyParams, type Meter, type MeterEvents } from './meter.js';
import { coreTimes, utilisation, type CoreTimes } from './cpu-load.js';
import { MeterError } from '../errors.js';
import { finiteNumber, wholeNumber } from './gude/options.js';
import { Ticker } from './polling.js';

/** Options of {@link EstimateMeter}. */
export interface EstimateMeterOptions {
  /** Default 200 ms. */
  intervalMs?: number;
  /** Watts per core at 0% utilisation. Default 4. */
  idleWPerCore?: number;
  /** Watts per core at 100% utilisation. Default 8. */
  maxWPerCore?: number;
  /** Cores counted. Default: this host's. */
  cores?: number;
}

/** Estimates power from CPU utilisation (not a measurement: every sample says `estimate: true`). */
export class EstimateMeter extends EventEmitter<MeterEvents> implements Meter {
  readonly name = 'estimate';
  readonly intervalMs: number;
  readonly estimate = true;
  private prev: CoreTimes[] = coreTimes();
  private prevT = 0;
  private readonly idleW: number;
  private readonly maxW: number;
  private readonly cores: number | undefined;
  private readonly ticker: Ticker;

  /** @throws UsageError `INVALID_ARGUMENT` for an option out of range (an interval below 1 ms, busy power below idle power, no cores). */
  constructor(readonly options: EstimateMeterOptions = {}) {
    super();
    const o = options ?? {};
    checkKnownKeys(
      o,
      keysOf<EstimateMeterOptions>({ intervalMs: true, idleWPerCore: true, maxWPerCore: true, cores: true }),
      'EstimateMeter options',
    );
    this.intervalMs = finiteNumber('EstimateMeter intervalMs', o.intervalMs, 1, 3_600_000, 200);
    this.idleW = finiteNumber('EstimateMeter idleWPerCore', o.idleWPerCore, 0, 10_000, 4);
    this.maxW = finiteNumber(
      'EstimateMeter maxWPerCore (at least idleWPerCore)',
      o.maxWPerCore,
      this.idleW,
      10_000,
      Math.max(this.idleW, 8),
    );
    this.cores = o.cores === undefined ? undefined : wholeNumber('EstimateMeter cores', o.cores, 1, 65_536, 1);
    this.ticker = new Ticker(this.intervalMs, () => this.read());
  }

  /** The model's power at utilisation `u` (0..1), W. */
  powerAt(u: number): number {
    const cores = this.cores ?? cpus().length;
    return cores * (this.idleW + (this.maxW - this.idleW) * Math.min(1, Math.max(0, u)));
  }

  async start(): Promise<void> {
    this.prev = coreTimes();
    this.prevT = nowMs();
    this.ticker.start();
  }

  async stop(): Promise<void> {
    this.ticker.stop();
  }

  /**
   * One estimate from the utilisation since the last one. No sample when the counters say
   * nothing: less than a clock tick passed (the next sample covers the longer interval), or the
   * counters went backwards or a core went on or off line (an `error`; counting starts again).
   */
  private read(): void {
    const now = coreTimes();
    const t = nowMs();
    const r = utilisation(this.prev, now);
    if (r.u === undefined && r.why === 'still') return;
    const from = this.prevT;
    this.prev = now;
    this.prevT = t;
    if (r.u === undefined) {
      const what = r.why === 'changed' ? 'a CPU core went on or off line' : 'the CPU time counters went backwards';
      this.emit(
        'error',
        new MeterError('METER_PROTOCOL', `The estimate has no reading for this interval: ${what}.`, {
          details: { reason: r.why, meter: this.name },
        }),
      );
      return;
    }
    // The utilisation is the interval's mean: its power belongs to the interval's middle.
    this.emit('sample', { t: (from + t) / 2, powerW: this.powerAt(r.u), estimate: true });
  }
}

/** Registers the estimate: `estimate`, with any of its options as `?intervalMs=100&idleWPerCore=4&maxWPerCore=8&cores=2`. */
export const estimateMeter = defineMeter({
  scheme: 'estimate',
  summary: 'an estimate of power from CPU utilisation (not a measurement)',
  usage: 'estimate',
  create(url) {
    noAddress(url);
    const keys = ['intervalMs', 'idleWPerCore', 'maxWPerCore', 'cores'] as const;
    onlyParams(url, keys);
    const options: EstimateMeterOptions = {};
    for (const key of keys) {
      const value = numberParam(url, key);
      if (value !== undefined) options[key] = value;
    }
    return new EstimateMeter(options);
  },
});
