/**
 * One energy figure per cell, used by every table, chart, ratio and terminal line, so they all
 * show the same quantity: the energy one invocation draws above the idle baseline. It comes
 * from the cell's batch when it has one (mean over back-to-back invocations), else from its
 * records (median of the per-record values: their window figures, or their shares when
 * invocations overlapped).
 */
import { medianRatio, type Summary } from '../../stats.js';
import type { BatchEnergy } from '../../types.js';
import { fmtAboveIdle, fmtWh } from '../report/format.js';

/** The energy of one invocation of a cell, Wh. */
export interface EnergyFigure {
  /** `true`: above the idle baseline (isolated); `false`: no baseline was measured, so the whole draw. */
  isolated: boolean;
  /** The figure, Wh. */
  valueWh: number;
  /**
   * 95% interval, Wh. Batch: Student t interval of the mean over the batch's sub-windows.
   * Records: distribution-free interval of the median (order statistics).
   */
  ci95Wh: [number, number];
  /** `batch`: mean per invocation over a batch; `records`: median of the per-record values. */
  source: 'batch' | 'records';
  /** Invocations behind the figure. */
  n: number;
  /** False when the interval reaches zero or below: the invocation is not distinguishable from idle. */
  aboveIdle: boolean;
  /** True when the meter only estimates power. */
  estimate: boolean;
  /** Records only: most records' windows were shorter than the sampling, so their energy is interpolated. */
  interpolated?: boolean;
  /** Records only: the records' shares (`energy.shareJ`), not their window figures: the invocations overlapped. */
  shares?: boolean;
}

/** The record metric a figure from records is the median of. */
export function figureMetric(f: EnergyFigure): 'shareWh' | 'isolatedEnergyWh' | 'energyWh' {
  return f.shares ? 'shareWh' : f.isolated ? 'isolatedEnergyWh' : 'energyWh';
}

/** The figure of a cell from its batch or its per-record summaries; undefined without energy. */
export function energyFigure(
  cell: { batch?: BatchEnergy; metrics: Record<string, Summary> },
  isolated: boolean,
  estimate: boolean,
  interpolated = false,
  shares = false,
): EnergyFigure | undefined {
  const b = cell.batch;
  if (b && !shares && Number.isFinite(b.isolatedEnergyPerInvocationWh)) {
    const value = isolated ? b.isolatedEnergyPerInvocationWh : b.energyPerInvocationWh;
    const shift = value - b.isolatedEnergyPerInvocationWh;
    const ci: [number, number] = [b.ci95Wh[0] + shift, b.ci95Wh[1] + shift];
    return {
      isolated,
      valueWh: value,
      ci95Wh: ci,
      source: 'batch',
      n: b.n,
      aboveIdle: ci[0] > 0,
      estimate: b.estimate || estimate,
    };
  }
  const s = cell.metrics[shares ? 'shareWh' : isolated ? 'isolatedEnergyWh' : 'energyWh'];
  if (!s || s.n === 0) return undefined;
  return {
    isolated,
    valueWh: s.median,
    ci95Wh: s.ci95,
    source: 'records',
    n: s.n,
    aboveIdle: s.ci95[0] > 0,
    estimate,
    ...(interpolated ? { interpolated } : {}),
    ...(shares ? { shares } : {}),
  };
}

/** The name of the figure's statistic, e.g. `batch mean of 880` or `median of 20 records`. */
export function figureSource(f: EnergyFigure): string {
  if (f.source === 'batch') return `batch mean of ${f.n}`;
  return `median of ${f.n}${f.interpolated ? ' interpolated' : ''} record${f.n === 1 ? '' : 's'}${f.shares ? "' shares" : ''}`;
}

/**
 * The figure as text, never a bare negative (see `fmtAboveIdle`): not distinguishable from idle,
 * `not distinguishable from idle (± 2.1 µWh)`, the ± being the largest distance of the interval
 * from zero; wholly below idle (a baseline above the power during the runs), `below idle by ...`.
 */
export function fmtEnergy(f: EnergyFigure | undefined, withCi = true): string {
  if (!f) return '–';
  return fmtAboveIdle(f.valueWh, f.ci95Wh, fmtWh, withCi);
}

/** True when the figure's whole interval is below zero: the idle baseline was above the power drawn. */
export function belowIdle(f: EnergyFigure | undefined): boolean {
  return f !== undefined && f.isolated && f.ci95Wh[1] < 0;
}

/** A cross-runtime energy ratio and how its interval was made. */
export interface EnergyRatio {
  ratio: number;
  ci95: [number, number];
  /** `bootstrap`: both from records (medians resampled); `bounds`: from the two 95% intervals, at least 90% joint coverage. */
  interval: 'bootstrap' | 'bounds';
}

/**
 * `num / den` of two figures of the same quantity. Undefined when the denominator is not
 * distinguishable from idle (the ratio would be unbounded). Both from records: bootstrap of
 * the per-record values; otherwise the bounds of the two intervals (the numerator's lower bound
 * clipped at zero, since the quantity is positive).
 */
export function energyRatio(
  num: EnergyFigure,
  den: EnergyFigure,
  samples?: { num: number[]; den: number[]; seed: number },
): EnergyRatio | undefined {
  if (!den.aboveIdle || !(den.valueWh > 0)) return undefined;
  if (num.source === 'records' && den.source === 'records' && samples) {
    const { ratio, ci95 } = medianRatio(samples.den, samples.num, samples.seed);
    if (Number.isFinite(ratio)) return { ratio, ci95: [Math.max(0, ci95[0]), ci95[1]], interval: 'bootstrap' };
  }
  return {
    ratio: Math.max(0, num.valueWh) / den.valueWh,
    ci95: [Math.max(0, num.ci95Wh[0]) / den.ci95Wh[1], num.ci95Wh[1] / den.ci95Wh[0]],
    interval: 'bounds',
  };
}
