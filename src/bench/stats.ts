/** Descriptive statistics of one metric, the way the reports print them. */
import { t95 } from '../energy/integrate.js';

/** Summary of one sample of values. */
export interface Summary {
  n: number;
  min: number;
  max: number;
  mean: number;
  median: number;
  /** First and third quartiles. */
  q1: number;
  q3: number;
  /** Sample standard deviation (n - 1). */
  std: number;
  p95: number;
  p99: number;
  /** 95% confidence interval of the mean (Student t). */
  ci95: [number, number];
  /** Values outside [Q1 - 1.5 IQR, Q3 + 1.5 IQR] (Tukey's fences). */
  outliers: number;
}

/** Quantile with linear interpolation between order statistics (R type 7, numpy's default). */
export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** Summarises finite values; an empty sample gives n = 0 and NaN elsewhere. */
export function summarize(values: number[]): Summary {
  const xs = values.filter(Number.isFinite).sort((a, b) => a - b);
  const n = xs.length;
  const mean = n ? xs.reduce((a, b) => a + b, 0) / n : Number.NaN;
  const std = n > 1 ? Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1)) : n === 1 ? 0 : Number.NaN;
  const half = n > 1 ? (t95(n - 1) * std) / Math.sqrt(n) : Number.NaN;
  const q1 = quantile(xs, 0.25);
  const q3 = quantile(xs, 0.75);
  const iqr = q3 - q1;
  return {
    n,
    min: n ? xs[0]! : Number.NaN,
    max: n ? xs[n - 1]! : Number.NaN,
    mean,
    median: quantile(xs, 0.5),
    q1,
    q3,
    std,
    p95: quantile(xs, 0.95),
    p99: quantile(xs, 0.99),
    ci95: [mean - half, mean + half],
    outliers: xs.filter((x) => x < q1 - 1.5 * iqr || x > q3 + 1.5 * iqr).length,
  };
}

/** A small fast seeded PRNG (mulberry32), so shuffles and bootstraps repeat with the same seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Ratio of medians `b / a` with a 95% percentile-bootstrap interval (both samples resampled
 * independently, `rounds` times, seeded).
 */
export function medianRatio(a: number[], b: number[], seed = 1, rounds = 2000): { ratio: number; ci95: [number, number] } {
  const sa = a.filter(Number.isFinite).sort((x, y) => x - y);
  const sb = b.filter(Number.isFinite).sort((x, y) => x - y);
  const ratio = quantile(sb, 0.5) / quantile(sa, 0.5);
  if (sa.length < 2 || sb.length < 2) return { ratio, ci95: [Number.NaN, Number.NaN] };
  const rand = rng(seed);
  const resample = (xs: number[]) => {
    const r = Array.from({ length: xs.length }, () => xs[Math.floor(rand() * xs.length)]!).sort((x, y) => x - y);
    return quantile(r, 0.5);
  };
  const ratios: number[] = [];
  for (let i = 0; i < rounds; i++) ratios.push(resample(sb) / resample(sa));
  ratios.sort((x, y) => x - y);
  return { ratio, ci95: [quantile(ratios, 0.025), quantile(ratios, 0.975)] };
}
