import { describe, expect, it } from 'vitest';
import { medianRatio, quantile, summarize } from '../../src/index.js';
import { schedule, cellKey, type Cell } from '../../src/bench/schedule.js';

describe('statistics against hand-computed values', () => {
  it('summarises a sample: median, quartiles, std (n-1), p95 by linear interpolation, t interval, Tukey outliers', () => {
    const s = summarize([1, 2, 3, 4, 100]);
    expect(s).toMatchObject({ n: 5, min: 1, max: 100, mean: 22, median: 3, q1: 2, q3: 4 });
    // std: sqrt(((21^2 + 20^2 + 19^2 + 18^2 + 78^2)) / 4) = sqrt(7610 / 4)
    expect(s.std).toBeCloseTo(Math.sqrt(7610 / 4), 9);
    // p95: position 0.95 * 4 = 3.8 -> 4 + 0.8 * (100 - 4)
    expect(s.p95).toBeCloseTo(80.8, 9);
    // 95% CI: mean ± t(4) * std / sqrt(5), t(4) = 2.776
    expect(s.ci95[0]).toBeCloseTo(22 - (2.776 * Math.sqrt(7610 / 4)) / Math.sqrt(5), 9);
    expect(s.outliers).toBe(1);
  });

  it('handles empty and single samples without inventing numbers', () => {
    expect(summarize([]).n).toBe(0);
    expect(Number.isNaN(summarize([]).median)).toBe(true);
    const one = summarize([7]);
    expect(one).toMatchObject({ n: 1, median: 7, std: 0 });
    expect(Number.isNaN(one.ci95[0])).toBe(true);
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
