import { describe, expect, it } from 'vitest';
import {
  differenceCi95,
  linearFit,
  mannWhitney,
  medianInterval,
  medianRatio,
  mixtureQuantile,
  quantile,
  quantileInterval,
  summarize,
  t95,
} from '../src/stats.js';
import { cellKey, type Cell } from '../src/experiment/cell.js';
import { schedule } from '../src/experiment/run/schedule.js';

describe('statistics against hand-computed values', () => {
  it('summarises a sample: median, quartiles, std (n-1), p95 by linear interpolation, t interval, Tukey outliers', () => {
    const s = summarize([1, 2, 3, 4, 100]);
    expect(s).toMatchObject({ n: 5, min: 1, max: 100, mean: 22, median: 3, q1: 2, q3: 4 });
    // std: sqrt(((21^2 + 20^2 + 19^2 + 18^2 + 78^2)) / 4) = sqrt(7610 / 4)
    expect(s.std).toBeCloseTo(Math.sqrt(7610 / 4), 9);
    // p95: position 0.95 * 4 = 3.8 -> 4 + 0.8 * (100 - 4)
    expect(s.p95).toBeCloseTo(80.8, 9);
    // 95% t interval of the mean: mean ± t(4) * std / sqrt(5), t(4) = 2.776
    expect(s.meanCi95[0]).toBeCloseTo(22 - (2.776 * Math.sqrt(7610 / 4)) / Math.sqrt(5), 9);
    // The median's interval is distribution-free: with n = 5 only [min, max] (coverage 1 - 2/32).
    expect(s.ci95).toEqual([1, 100]);
    expect(s.ci95Coverage).toBeCloseTo(1 - 2 / 32, 12);
    expect(s.outliers).toBe(1);
  });

  it('handles empty and single samples without inventing numbers', () => {
    expect(summarize([]).n).toBe(0);
    expect(Number.isNaN(summarize([]).median)).toBe(true);
    const one = summarize([7]);
    expect(one).toMatchObject({ n: 1, median: 7, std: 0 });
    expect(Number.isNaN(one.meanCi95[0])).toBe(true);
    expect(one.ci95).toEqual([7, 7]);
    expect(summarize([1, Number.NaN, 3]).n).toBe(2);
  });

  it('interpolates quantiles as R type 7', () => {
    expect(quantile([10, 20, 30, 40], 0.5)).toBe(25);
    expect(quantile([10, 20, 30, 40], 0.25)).toBe(17.5);
  });

  it('gives the ratio of medians with a bootstrap interval that contains it, repeatably by seed', () => {
    const a = [1, 1.1, 0.9, 1.05, 0.95, 1];
    const b = a.map((x) => x * 100);
    const r = medianRatio(a, b, 7);
    expect(r.ratio).toBeCloseTo(100, 9);
    expect(r.ci95[0]).toBeLessThanOrEqual(100);
    expect(r.ci95[1]).toBeGreaterThanOrEqual(100);
    expect(medianRatio(a, b, 7)).toEqual(r);
  });
});

describe('invocation order', () => {
  const cells: Cell[] = [
    { function: 'fib', runtime: 'wasm', mode: 'cold', input: 1 },
    { function: 'fib', runtime: 'docker', mode: 'cold', input: 1 },
    { function: 'prime', runtime: 'wasm', mode: 'cold', input: 1 },
  ];

  it('interleaves cells round by round (A B C A B C)', () => {
    const order = schedule(cells, 3, 'interleaved').map(cellKey);
    expect(order).toEqual([...cells, ...cells, ...cells].map(cellKey));
  });

  it('shuffles each round with a seed, repeatably, keeping every cell once per round', () => {
    const a = schedule(cells, 20, 'shuffled', 42).map(cellKey);
    expect(schedule(cells, 20, 'shuffled', 42).map(cellKey)).toEqual(a);
    expect(schedule(cells, 20, 'shuffled', 43).map(cellKey)).not.toEqual(a);
    for (let r = 0; r < 20; r++) expect(new Set(a.slice(r * 3, r * 3 + 3)).size).toBe(3);
    expect(a).not.toEqual(schedule(cells, 20, 'interleaved').map(cellKey));
  });
});

describe('the median interval from order statistics', () => {
  it('picks the ranks of the binomial table (n = 10: 2nd and 9th, 97.9%; n = 20: 6th and 15th, 95.9%)', () => {
    // Hand-checked against the binomial(n, 1/2) CDF: P(B <= 1) = 11/1024 for n = 10; P(B <= 5) = 21700/1048576 for n = 20.
    expect(medianInterval(10)).toMatchObject({ lo: 1, hi: 8 });
    expect(medianInterval(10).coverage).toBeCloseTo(1 - (2 * 11) / 1024, 12);
    expect(medianInterval(20)).toMatchObject({ lo: 5, hi: 14 });
    expect(medianInterval(20).coverage).toBeCloseTo(1 - (2 * 21700) / 1048576, 12);
  });

  it('never gives a bound outside the data, so a positive quantity never gets a negative bound', () => {
    const s = summarize([0.001, 0.002, 0.0021, 0.0022, 0.003, 0.004, 0.5, 0.9]);
    expect(s.ci95[0]).toBeGreaterThan(0);
    expect(s.ci95[0]).toBeLessThanOrEqual(s.median);
    expect(s.ci95[1]).toBeGreaterThanOrEqual(s.median);
  });

  it('covers the true median in about 95% of samples from a skewed distribution', () => {
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const trueMedian = Math.log(2); // exponential(1)
    let covered = 0;
    const trials = 400;
    for (let t = 0; t < trials; t++) {
      const xs = Array.from({ length: 25 }, () => -Math.log(1 - rand()));
      const [lo, hi] = summarize(xs).ci95;
      if (lo <= trueMedian && trueMedian <= hi) covered++;
    }
    expect(covered / trials).toBeGreaterThan(0.92);
  });
});

describe('the Mann-Whitney U test', () => {
  it('gives U and a small p for clearly separated samples, and p = 1 for identical ones', () => {
    const r = mannWhitney([1, 2, 3, 4, 5, 6, 7, 8], [11, 12, 13, 14, 15, 16, 17, 18]);
    expect(r.u).toBe(0);
    expect(r.p).toBeLessThan(0.001);
    expect(mannWhitney([1, 1, 1], [1, 1, 1]).p).toBe(1);
  });

  it('matches a hand-computed z for a small sample with ties', () => {
    // a = [1, 2, 2], b = [2, 3]: ranks 1, 3, 3 | 3, 5 -> R_a = 7, U = 7 - 6 = 1; mean 3;
    // variance = (6/12) * (6 - (3^3 - 3) / (5 * 4)) = 0.5 * 4.8 = 2.4; z = (1 - 3 + 0.5) / sqrt(2.4)
    const r = mannWhitney([1, 2, 2], [2, 3]);
    expect(r.u).toBe(1);
    expect(r.z).toBeCloseTo(-1.5 / Math.sqrt(2.4), 12);
  });

  it('keeps the t table the energy and the summaries share', () => {
    expect(t95(1)).toBe(12.706);
    expect(t95(1000)).toBe(1.96);
  });
});

describe('least-squares lines, differences and mixtures', () => {
  it('recovers an exact line, and gives an interval that holds the slope of a noisy one', () => {
    const exact = linearFit([0, 1, 2, 3], [1, 3, 5, 7]);
    expect(exact.slope).toBeCloseTo(2, 12);
    expect(exact.intercept).toBeCloseTo(1, 12);
    expect(exact.r2).toBeCloseTo(1, 12);
    expect(exact.slopeCi95[1] - exact.slopeCi95[0]).toBeCloseTo(0, 9);
    // y = 40 + 0.5 x with a +-0.1 alternating error: the slope is 0.5, the interval is narrow and holds it.
    const xs = [0, 0, 1, 1, 10, 10, 50, 50];
    const noisy = linearFit(
      xs,
      xs.map((x, i) => 40 + 0.5 * x + (i % 2 ? 0.1 : -0.1)),
    );
    expect(noisy.slope).toBeCloseTo(0.5, 9);
    expect(noisy.slopeCi95[0]).toBeLessThan(0.5);
    expect(noisy.slopeCi95[1]).toBeGreaterThan(0.5);
    expect(noisy.slopeCi95[1] - noisy.slopeCi95[0]).toBeLessThan(0.01);
    // Hand check of the slope's interval: x = 0..3 (Sxx = 5), y = 1, 2, 5, 6: slope 1.8, intercept 0.8,
    // residuals 0.2, -0.6, 0.6, -0.2 (SSE 0.8), s^2 = 0.4, half-width = t(2) x sqrt(0.4 / 5).
    const hand = linearFit([0, 1, 2, 3], [1, 2, 5, 6]);
    expect(hand.slope).toBeCloseTo(1.8, 12);
    expect(hand.intercept).toBeCloseTo(0.8, 12);
    expect((hand.slopeCi95[1] - hand.slopeCi95[0]) / 2).toBeCloseTo(t95(2) * Math.sqrt(0.4 / 5), 12);
    expect(Number.isNaN(linearFit([1, 1], [2, 3]).slope)).toBe(true);
    expect(linearFit([1], [2]).n).toBe(1);
  });

  it('adds the half-widths of two independent intervals in quadrature', () => {
    const d = differenceCi95(10, [7, 13], 4, [0, 8]);
    expect(d.value).toBe(6);
    expect(d.ci95[0]).toBeCloseTo(6 - 5, 12);
    expect(d.ci95[1]).toBeCloseTo(6 + 5, 12);
  });

  it('takes quantiles of a weighted mixture of samples', () => {
    const fast = Array.from({ length: 100 }, (_, i) => 1 + i / 100);
    const slow = Array.from({ length: 100 }, (_, i) => 100 + i);
    expect(mixtureQuantile([{ values: fast, weight: 1 }], 0.99)).toBe(fast[98]);
    // 0.5% slow: the p99 stays among the fast values; 2% slow: it moves into the slow ones.
    expect(
      mixtureQuantile(
        [
          { values: fast, weight: 0.995 },
          { values: slow, weight: 0.005 },
        ],
        0.99,
      ),
    ).toBeLessThan(2);
    expect(
      mixtureQuantile(
        [
          { values: fast, weight: 0.98 },
          { values: slow, weight: 0.02 },
        ],
        0.99,
      ),
    ).toBeGreaterThanOrEqual(100);
    expect(Number.isNaN(mixtureQuantile([], 0.5))).toBe(true);
  });
});

describe('quantile intervals', () => {
  it('takes the order statistics at nq -/+ 1.96 sqrt(nq(1-q)), and says when the sample cannot bound the upper end', () => {
    const xs = Array.from({ length: 1000 }, (_, i) => i + 1);
    // n = 1000, q = 0.9: nq = 900, 1.96 * sqrt(90) = 18.59: ranks floor(881.4) = 881 and ceil(918.6) = 919.
    expect(quantileInterval(xs, 0.9)).toEqual({ lo: 881, hi: 919, open: false });
    // q = 0.999: nq = 999, 1.96 * sqrt(0.999) = 1.959: ranks 997 and 1001 > n, so the upper end is open.
    expect(quantileInterval(xs, 0.999)).toEqual({ lo: 997, hi: 1000, open: true });
    expect(quantileInterval([], 0.5).open).toBe(true);
  });
});
