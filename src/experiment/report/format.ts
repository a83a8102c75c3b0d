/** Number formatting shared by the reports, the terminal summary and `nebula compare`. */

/** A duration in ms as a person reads it: µs below 1 ms, ms below 1 s, else s; three significant digits. */
export function fmtMs(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '–';
  const a = Math.abs(ms);
  if (a < 1) return `${sig(ms * 1000)} µs`;
  if (a < 1000) return `${sig(ms)} ms`;
  return `${sig(ms / 1000)} s`;
}

/** Three significant digits, never in exponent notation ("0.531", "12.3", "1517"). */
function sig(v: number): string {
  const a = Math.abs(v);
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  return v.toPrecision(3);
}

/** Energy in Wh with an SI prefix (nWh, µWh, mWh, Wh), three significant digits. */
export function fmtWh(wh: number | undefined): string {
  if (wh === undefined || !Number.isFinite(wh)) return '–';
  const a = Math.abs(wh);
  if (a === 0) return '0 Wh';
  if (a < 1e-12) return `${sig(wh * 1e15)} fWh`;
  if (a < 1e-9) return `${sig(wh * 1e12)} pWh`;
  if (a < 1e-6) return `${sig(wh * 1e9)} nWh`;
  if (a < 1e-3) return `${sig(wh * 1e6)} µWh`;
  if (a < 1) return `${sig(wh * 1e3)} mWh`;
  return `${sig(wh)} Wh`;
}

/**
 * A quantity above idle (energy or power, which the baseline can make negative) with its 95%
 * interval, never as a bare negative: `2.10 µWh [1.80 µWh, 2.40 µWh]`; an interval reaching zero
 * is `not distinguishable from idle (± 2.40 µWh)` (the largest distance of the interval from zero);
 * one wholly below zero (the baseline was above the power during the runs) is
 * `below idle by 2.00 µWh [1.60 µWh, 2.40 µWh]`. Without an interval, a value at or below zero is
 * not distinguishable from idle (± its size).
 */
export function fmtAboveIdle(
  value: number | undefined,
  ci: readonly [number, number] | null | undefined,
  fmt: (v: number) => string,
  withCi = true,
): string {
  if (value === undefined || !Number.isFinite(value)) return '–';
  const bounded = ci && Number.isFinite(ci[0]) && Number.isFinite(ci[1]);
  if (!bounded) return value > 0 ? fmt(value) : `not distinguishable from idle (± ${fmt(Math.abs(value))})`;
  const [lo, hi] = ci;
  if (lo > 0) return withCi ? `${fmt(value)} [${fmt(lo)}, ${fmt(hi)}]` : fmt(value);
  if (hi < 0)
    return withCi ? `below idle by ${fmt(-value)} [${fmt(-hi)}, ${fmt(-lo)}]` : `below idle by ${fmt(-value)}`;
  return `not distinguishable from idle (± ${fmt(Math.max(Math.abs(lo), Math.abs(hi)))})`;
}

/** A size in bytes with a binary prefix, three significant digits: `512 B`, `30.1 KiB`, `3.04 MiB`, `1.5 GiB`. */
export function fmtBytes(bytes: number | undefined): string {
  if (bytes === undefined || !Number.isFinite(bytes)) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${Math.round(v)} B` : `${sig(v)} ${units[u]}`;
}

/** Power in W, two decimals. */
export function fmtW(w: number | undefined): string {
  return w === undefined || !Number.isFinite(w) ? '–' : `${w.toFixed(2)} W`;
}

/** A ratio such as `1.06x`, `12.3x`, `581x`. */
export function fmtRatio(r: number | undefined): string {
  if (r === undefined || !Number.isFinite(r)) return '–';
  return `${sig(r)}x`;
}

/** A p value: `0.003`, `< 0.001`. */
export function fmtP(p: number): string {
  if (!Number.isFinite(p)) return '–';
  return p < 0.001 ? '< 0.001' : p.toFixed(3);
}

export function fmtInput(input: unknown): string {
  return JSON.stringify(input) ?? 'null';
}

const TIME_TICKS: Array<[number, string]> = [
  [1e-6, 'ns'],
  [1e-3, 'µs'],
  [1, 'ms'],
  [1000, 's'],
];
const ENERGY_TICKS: Array<[number, string]> = [
  [1e-15, 'fWh'],
  [1e-12, 'pWh'],
  [1e-9, 'nWh'],
  [1e-6, 'µWh'],
  [1e-3, 'mWh'],
  [1, 'Wh'],
];

/** An axis tick at a power of ten, in whole numbers of one unit ("1 µs", "10 µs", "100 µs", "1 ms"). */
function tick(value: number, units: Array<[number, string]>): string {
  let unit = units[0]!;
  for (const u of units) if (value >= u[0] * 0.999) unit = u;
  const n = value / unit[0];
  return `${n < 0.999 ? Number(n.toPrecision(1)) : Math.round(n)} ${unit[1]}`;
}

/** Axis tick label of a duration in ms at a power of ten. */
export const tickMs = (ms: number): string => tick(ms, TIME_TICKS);
/** Axis tick label of an energy in Wh at a power of ten. */
export const tickWh = (wh: number): string => tick(wh, ENERGY_TICKS);

/** Energy in J with an SI prefix (nJ, µJ, mJ, J), three significant digits. */
export function fmtJ(j: number | null | undefined): string {
  if (j === undefined || j === null || !Number.isFinite(j)) return '–';
  const a = Math.abs(j);
  if (a < 1e-9) return '≈ 0 J';
  if (a < 1e-6) return `${sig(j * 1e9)} nJ`;
  if (a < 1e-3) return `${sig(j * 1e6)} µJ`;
  if (a < 1) return `${sig(j * 1e3)} mJ`;
  return `${sig(j)} J`;
}
