/** The contract every Meter honours: it starts, emits finite samples on nebula's clock, and stops cleanly. */
import { describe, expect, it } from 'vitest';
import type { Meter, PowerSample } from '../../src/index.js';

/** Resolves once `samples` holds `n` samples (the meter pushes into it), or rejects after `timeoutMs`. */
export function untilSamples(meter: Meter, samples: PowerSample[], n: number, timeoutMs = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (samples.length < n) return;
      clearTimeout(timer);
      meter.off('sample', check);
      resolve();
    };
    const timer = setTimeout(() => {
      meter.off('sample', check);
      reject(new Error(`${meter.name}: ${samples.length} of ${n} samples within ${timeoutMs} ms`));
    }, timeoutMs);
    meter.on('sample', check);
    check();
  });
}

export function meterContract(name: string, make: () => Promise<{ meter: Meter; done?: () => Promise<void> }>): void {
  describe(`Meter contract: ${name}`, () => {
    it('emits samples with finite time and power, in order, after start and none after stop', async () => {
      const { meter, done } = await make();
      const samples: PowerSample[] = [];
      meter.on('sample', (s) => samples.push(s));
      const before = Date.now();
      await meter.start();
      await untilSamples(meter, samples, 3);
      await meter.stop();
      const count = samples.length;
      await new Promise((r) => setTimeout(r, meter.intervalMs * 3));
      expect(samples.length).toBe(count);
      expect(count).toBeGreaterThanOrEqual(3);
      for (const s of samples) {
        expect(Number.isFinite(s.t) && Number.isFinite(s.powerW)).toBe(true);
        expect(s.t).toBeGreaterThanOrEqual(before - 5);
        expect(s.t).toBeLessThanOrEqual(Date.now() + 5);
        expect(s.powerW).toBeGreaterThanOrEqual(0);
      }
      expect(samples.every((s, i) => i === 0 || s.t > samples[i - 1]!.t)).toBe(true);
      expect(typeof meter.name).toBe('string');
      expect(meter.intervalMs).toBeGreaterThan(0);
      await done?.();
    });
  });
}
