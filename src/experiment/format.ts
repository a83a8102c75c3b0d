/** Number formatting shared by the reports. */

/** A duration in ms as a person reads it: us below 1 ms, ms below 10 s, else s. */
export function fmtMs(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '–';
  if (Math.abs(ms) < 1) return `${(ms * 1000).toFixed(ms < 0.01 ? 2 : 1)} µs`;
  if (Math.abs(ms) < 1000) return `${ms.toFixed(ms < 10 ? 2 : 1)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

/** Energy in Wh with an SI prefix (µWh, mWh, Wh). */
export function fmtWh(wh: number | undefined): string {
  if (wh === undefined || !Number.isFinite(wh)) return '–';
  const a = Math.abs(wh);
  if (a < 1e-3) return `${(wh * 1e6).toPrecision(3)} µWh`;
  if (a < 1) return `${(wh * 1e3).toPrecision(3)} mWh`;
  return `${wh.toPrecision(3)} Wh`;
}

export function fmtW(w: number | undefined): string {
  return w === undefined || !Number.isFinite(w) ? '–' : `${w.toFixed(2)} W`;
}

export function fmtRatio(r: number): string {
  if (!Number.isFinite(r)) return '–';
  return r >= 100 ? `${r.toFixed(0)}x` : r >= 10 ? `${r.toFixed(1)}x` : `${r.toFixed(2)}x`;
}

export function fmtInput(input: unknown): string {
  return JSON.stringify(input);
}
