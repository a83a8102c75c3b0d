import { describe, expect, it } from 'vitest';
import { arrivalOffsets } from '../../../src/experiment/load/arrivals.js';

describe('arrival schedules', () => {
  it('constant: rate x duration arrivals, evenly spaced from 0', () => {
    const xs = arrivalOffsets('constant', 200, 1000, 1);
    expect(xs).toHaveLength(200);
    expect(xs[0]).toBe(0);
    expect(xs[1]).toBeCloseTo(5, 12);
    expect(xs[199]).toBeCloseTo(995, 9);
  });

  it('poisson: the same arrivals for the same seed, about rate x duration of them, gaps of mean 1/rate', () => {
    const a = arrivalOffsets('poisson', 1000, 10_000, 7);
    expect(arrivalOffsets('poisson', 1000, 10_000, 7)).toEqual(a);
    expect(arrivalOffsets('poisson', 1000, 10_000, 8)).not.toEqual(a);
    // 10 000 expected; the count of a Poisson process has a standard deviation of 100.
    expect(Math.abs(a.length - 10_000)).toBeLessThan(500);
    expect(a.every((t, i) => i === 0 || t >= a[i - 1]!)).toBe(true);
    expect(a[a.length - 1]).toBeLessThan(10_000);
  });
});
