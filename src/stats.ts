/**
 * The statistics of nebula-faas, in one place: quantiles, summaries with a distribution-free
 * interval for the median and for any quantile, Student t quantiles, seeded bootstrap ratios, the Mann-Whitney U
 * test, least-squares lines, differences of estimates and quantiles of mixtures. Used by energy
 * attribution, experiments, reports, the energy advisor and `nebula compare`. Published as
 * `nebula-faas/stats`.
 *
 * @example
 * ```ts
 * import { medianRatio, summarize } from 'nebula-faas/stats';
 * const s = summarize([1.2, 1.1, 1.4, 1.3]); // s.median, s.ci95, s.p99, ...
 * const { ratio, ci95 } = medianRatio(wasmMs, dockerMs); // median(b) / median(a), bootstrap 95% interval
 * ```
 * @module
 */

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
  /**
   * Distribution-free interval for the median from order statistics (binomial), at least 95%
   * coverage when n >= 6; for smaller samples it is [min, max] with the coverage in `ci95Coverage`.
   */
  ci95: [number, number];
  /** The coverage the median interval actually has (0.95 or more when n >= 6). */
  ci95Coverage: number;
  /** 95% Student t interval of the mean (for means only; never printed next to a median). */
  meanCi95: [number, number];
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

/** Two-sided 95% Student t quantile for `df` degrees of freedom. */
export function t95(df: number): number {
  const table = [
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11,
    2.101, 2.093, 2.086,
  ];
  if (df < 1) return Number.NaN;
  if (df <= table.length) return table[df - 1]!;
  if (df <= 30) return 2.086 - ((df - 20) * (2.086 - 2.042)) / 10;
  if (df <= 60) return 2.042 - ((df - 30) * (2.042 - 2.0)) / 30;
  if (df <= 120) return 2.0 - ((df - 60) * (2.0 - 1.98)) / 60;
  return 1.96;
}

/** P(X <= k) for X ~ Binomial(n, 1/2), summed in log space so large n does not underflow. */
function binomialHalfCdf(n: number, k: number): number {
  if (k < 0) return 0;
  if (k >= n) return 1;
  let logTerm = -n * Math.LN2; // C(n, 0) / 2^n
  let sum = Math.exp(logTerm);
  for (let i = 1; i <= k; i++) {
    logTerm += Math.log((n - i + 1) / i);
    sum += Math.exp(logTerm);
  }
  return Math.min(1, sum);
}

/**
 * 0-based ranks [lo, hi] of the order statistics bounding the median with at least 95% coverage
 * (the largest symmetric pair whose binomial coverage is >= 0.95), and that coverage.
 */
export function medianInterval(n: number): { lo: number; hi: number; coverage: number } {
  if (n <= 0) return { lo: -1, hi: -1, coverage: 0 };
  let best = { lo: 0, hi: n - 1, coverage: 1 - 2 * binomialHalfCdf(n, 0) };
  if (n > 2000) {
    // Normal approximation of the binomial: exact sums of this many terms buy nothing.
    const j = Math.max(0, Math.floor(n / 2 - (1.96 * Math.sqrt(n)) / 2 - 1));
    return { lo: j, hi: n - 1 - j, coverage: 0.95 };
  }
  for (let j = 1; j < n / 2; j++) {
    const coverage = 1 - 2 * binomialHalfCdf(n, j);
    if (coverage < 0.95) break;
    best = { lo: j, hi: n - 1 - j, coverage };
  }
  return best;
}

/**
 * A distribution-free 95% interval for the quantile `q` of the population a sorted sample came
 * from: the order statistics at ranks `nq -/+ 1.96 sqrt(nq(1 - q))` (normal approximation of the
 * binomial count below the quantile). `open` is true when the upper rank falls past the sample
 * (too few values above the quantile to bound it): `hi` is then the largest value seen, a lower
 * bound of the upper end.
 */
export function quantileInterval(sorted: number[], q: number): { lo: number; hi: number; open: boolean } {
  const n = sorted.length;
  if (n === 0) return { lo: Number.NaN, hi: Number.NaN, open: true };
  const half = 1.96 * Math.sqrt(n * q * (1 - q));
  const j = Math.floor(n * q - half);
  const k = Math.ceil(n * q + half);
  return { lo: sorted[Math.max(1, j) - 1]!, hi: sorted[Math.min(n, k) - 1]!, open: k > n };
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
  const mi = medianInterval(n);
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
    ci95: n ? [xs[mi.lo]!, xs[mi.hi]!] : [Number.NaN, Number.NaN],
    ci95Coverage: mi.coverage,
    meanCi95: [mean - half, mean + half],
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
export function medianRatio(
  a: number[],
  b: number[],
  seed = 1,
  rounds = 2000,
): { ratio: number; ci95: [number, number] } {
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

/** Standard normal CDF (Abramowitz and Stegun 7.1.26, error < 1.5e-7). */
export function normalCdf(z: number): number {
  const t = 1 / (1 + (0.3275911 * Math.abs(z)) / Math.SQRT2);
  const y =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) *
      t *
      Math.exp(-(z * z) / 2);
  return z >= 0 ? (1 + y) / 2 : (1 - y) / 2;
}

/**
 * Two-sided Mann-Whitney U test (normal approximation with tie and continuity corrections):
 * whether one sample tends to be larger than the other, without assuming a distribution.
 * Returns U of `a`, the z score and the p value (NaN when either sample is empty).
 */
export function mannWhitney(a: number[], b: number[]): { u: number; z: number; p: number } {
  const xs = a.filter(Number.isFinite);
  const ys = b.filter(Number.isFinite);
  const n1 = xs.length;
  const n2 = ys.length;
  if (!n1 || !n2) return { u: Number.NaN, z: Number.NaN, p: Number.NaN };
  const all = [...xs.map((v) => ({ v, g: 0 })), ...ys.map((v) => ({ v, g: 1 }))].sort((p, q) => p.v - q.v);
  let rankSumA = 0;
  let tieTerm = 0;
  for (let i = 0; i < all.length;) {
    let j = i;
    while (j + 1 < all.length && all[j + 1]!.v === all[i]!.v) j++;
    const rank = (i + j) / 2 + 1;
    const t = j - i + 1;
    tieTerm += t ** 3 - t;
    for (let k = i; k <= j; k++) if (all[k]!.g === 0) rankSumA += rank;
    i = j + 1;
  }
  const u = rankSumA - (n1 * (n1 + 1)) / 2;
  const mean = (n1 * n2) / 2;
  const n = n1 + n2;
  const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  if (!(variance > 0)) return { u, z: 0, p: 1 };
  const z = (u - mean - Math.sign(u - mean) * 0.5) / Math.sqrt(variance);
  return { u, z, p: Math.min(1, 2 * (1 - normalCdf(Math.abs(z)))) };
}

/** A least-squares line `y = intercept + slope x`, with 95% Student t intervals. */
export interface LinearFit {
  n: number;
  slope: number;
  intercept: number;
  /** 95% interval of the slope (t with n - 2 degrees of freedom); NaN with fewer than 3 points. */
  slopeCi95: [number, number];
  interceptCi95: [number, number];
  /** Share of the variance of y the line explains (0..1). */
  r2: number;
}

/** Fits a straight line to finite (x, y) pairs by ordinary least squares. */
export function linearFit(xs: number[], ys: number[]): LinearFit {
  const pts = xs.map((x, i) => [x, ys[i]!] as const).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const n = pts.length;
  const nan: [number, number] = [Number.NaN, Number.NaN];
  if (n < 2) return { n, slope: Number.NaN, intercept: Number.NaN, slopeCi95: nan, interceptCi95: nan, r2: Number.NaN };
  const mx = pts.reduce((a, [x]) => a + x, 0) / n;
  const my = pts.reduce((a, [, y]) => a + y, 0) / n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (const [x, y] of pts) {
    sxx += (x - mx) ** 2;
    sxy += (x - mx) * (y - my);
    syy += (y - my) ** 2;
  }
  if (!(sxx > 0)) return { n, slope: Number.NaN, intercept: my, slopeCi95: nan, interceptCi95: nan, r2: Number.NaN };
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  const sse = pts.reduce((a, [x, y]) => a + (y - intercept - slope * x) ** 2, 0);
  const r2 = syy > 0 ? 1 - sse / syy : 1;
  if (n < 3) return { n, slope, intercept, slopeCi95: nan, interceptCi95: nan, r2 };
  const s2 = sse / (n - 2);
  const t = t95(n - 2);
  const seSlope = Math.sqrt(s2 / sxx);
  const seIntercept = Math.sqrt(s2 * (1 / n + (mx * mx) / sxx));
  return {
    n,
    slope,
    intercept,
    slopeCi95: [slope - t * seSlope, slope + t * seSlope],
    interceptCi95: [intercept - t * seIntercept, intercept + t * seIntercept],
    r2,
  };
}

/**
 * The difference `a - b` of two independent estimates given with symmetric 95% intervals, and
 * its 95% interval (half-widths added in quadrature: the normal approximation, slightly
 * conservative when each half-width came from a t quantile with few degrees of freedom).
 */
export function differenceCi95(
  a: number,
  aCi95: [number, number],
  b: number,
  bCi95: [number, number],
): { value: number; ci95: [number, number] } {
  const ha = (aCi95[1] - aCi95[0]) / 2;
  const hb = (bCi95[1] - bCi95[0]) / 2;
  const h = Math.sqrt(ha * ha + hb * hb);
  const value = a - b;
  return { value, ci95: [value - h, value + h] };
}

/**
 * Quantile `q` of a mixture of empirical distributions: with probability `weight` (summing to
 * 1) a value is drawn from that group's sample. Exact for the empirical distributions (the
 * smallest value whose mixture CDF reaches `q`).
 */
export function mixtureQuantile(groups: Array<{ values: number[]; weight: number }>, q: number): number {
  const pts: Array<[number, number]> = [];
  for (const g of groups) {
    const xs = g.values.filter(Number.isFinite);
    if (!xs.length || !(g.weight > 0)) continue;
    for (const x of xs) pts.push([x, g.weight / xs.length]);
  }
  if (!pts.length) return Number.NaN;
  pts.sort((a, b) => a[0] - b[0]);
  const total = pts.reduce((a, [, w]) => a + w, 0);
  let acc = 0;
  for (const [x, w] of pts) {
    acc += w / total;
    if (acc >= q - 1e-12) return x;
  }
  return pts[pts.length - 1]![0];
}
