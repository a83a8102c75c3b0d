/** A Meter driven by the test: it samples only when told to, so the settling protocol can be followed step by step. */
import { EventEmitter } from 'eventemitter3';
import { MeterError, nowMs, type Meter, type MeterEvents } from '../../src/index.js';

export class HandMeter extends EventEmitter<MeterEvents> implements Meter {
  readonly name = 'hand';
  readonly estimate = false;
  started = 0;
  stopped = 0;

  constructor(
    readonly intervalMs = 10,
    private readonly failStart?: string,
  ) {
    super();
  }

  async start(): Promise<void> {
    this.started++;
    if (this.failStart) throw new MeterError('METER_UNAVAILABLE', this.failStart);
  }

  async stop(): Promise<void> {
    this.stopped++;
  }

  /** Emits a sample of `powerW` at `t` (default now). */
  sample(powerW: number, t = nowMs()): void {
    this.emit('sample', { t, powerW });
  }
}
