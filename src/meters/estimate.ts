/**
 * EstimateMeter: power estimated from this host's CPU utilisation, for machines without a power
 * meter. Every sample is labelled an estimate. The model is the linear one of Fan, Weber and
 * Barroso, "Power provisioning for a warehouse-sized computer" (ISCA 2007):
 * P = P_idle + (P_busy - P_idle) x u, with idle power about half of busy power. The default
 * per-core figures (4 W idle, 8 W busy) are rough values for a modern server core; set your own.
 */
import { cpus } from 'node:os';
import { EventEmitter } from 'eventemitter3';
import { nowMs } from '../clock.js';
import type { Meter, MeterEvents } from './meter.js';
import { cpuTimes } from './cpu-load.js';
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
  private prev = cpuTimes();
  private prevT = 0;
  private readonly ticker: Ticker;

  constructor(readonly options: EstimateMeterOptions = {}) {
    super();
    this.intervalMs = options.intervalMs ?? 200;
    this.ticker = new Ticker(this.intervalMs, () => this.read());
  }

  /** The model's power at utilisation `u` (0..1), W. */
  powerAt(u: number): number {
    const cores = this.options.cores ?? cpus().length;
    const idle = this.options.idleWPerCore ?? 4;
    const max = this.options.maxWPerCore ?? 8;
    return cores * (idle + (max - idle) * Math.min(1, Math.max(0, u)));
  }

  async start(): Promise<void> {
    this.prev = cpuTimes();
    this.prevT = nowMs();
    this.ticker.start();
  }

  async stop(): Promise<void> {
    this.ticker.stop();
  }

  private read(): void {
    const now = cpuTimes();
    const t = nowMs();
    const total = now.total - this.prev.total;
    const u = total > 0 ? (now.busy - this.prev.busy) / total : 0;
    const from = this.prevT;
    this.prev = now;
    this.prevT = t;
    // The utilisation is the interval's mean: its power belongs to the interval's middle.
    this.emit('sample', { t: (from + t) / 2, powerW: this.powerAt(u), estimate: true });
  }
}
