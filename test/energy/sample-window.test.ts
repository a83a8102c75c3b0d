import { EventEmitter } from 'eventemitter3';
import { describe, expect, it } from 'vitest';
import {
  EnergyTracker,
  EstimateMeter,
  Nebula,
  type Meter,
  type MeterEvents,
  type PowerSample,
} from '../../src/index.js';

/** A meter driven by the test, to feed exact samples. */
class HandMeter extends EventEmitter<MeterEvents> implements Meter {
  readonly name = 'hand';
  readonly intervalMs = 10;
  readonly estimate = false;
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
}

describe('the sample window', () => {
  it('stays bounded in a long-running host, by count and by age', () => {
    const meter = new HandMeter();
    const tracker = new EnergyTracker(meter, { maxSamples: 500 });
    for (let i = 0; i < 20_000; i++) meter.emit('sample', { t: 1_000_000 + i * 10, powerW: 5 });
    expect(tracker.history.length).toBeLessThanOrEqual(550);
    expect(tracker.history.length).toBeGreaterThanOrEqual(500);
    expect(tracker.history.at(-1)!.t).toBe(1_000_000 + 19_999 * 10);
    const aged = new EnergyTracker(meter, { historyMs: 1000 });
    for (let i = 0; i < 1000; i++) meter.emit('sample', { t: 2_000_000 + i * 10, powerW: 5 });
    const kept = aged.history;
    expect(kept.at(-1)!.t - kept[0]!.t).toBeLessThanOrEqual(1100);
  });

  it('drops samples that are out of order or not numbers', () => {
    const meter = new HandMeter();
    const tracker = new EnergyTracker(meter);
    const feed: PowerSample[] = [
      { t: 100, powerW: 1 },
      { t: 90, powerW: 2 },
      { t: 110, powerW: Number.NaN },
      { t: 120, powerW: 3 },
    ];
    for (const s of feed) meter.emit('sample', s);
    expect(tracker.history.map((s) => s.t)).toEqual([100, 120]);
  });

  it('forwards samples as Nebula "sample" events', async () => {
    const nebula = new Nebula({ meter: new EstimateMeter({ intervalMs: 20 }) });
    const seen: PowerSample[] = [];
    nebula.on('sample', (s) => seen.push(s));
    await nebula.measureBaseline({ durationMs: 100 });
    await nebula.close();
    expect(seen.length).toBeGreaterThan(2);
    expect(seen.every((s) => s.estimate === true)).toBe(true);
  });
});
