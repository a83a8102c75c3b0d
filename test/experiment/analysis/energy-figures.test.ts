import { describe, expect, it } from 'vitest';
import { energyFigure, energyRatio, fmtEnergy } from '../../../src/experiment/analysis/energy-figures.js';
import type { BatchEnergy } from '../../../src/index.js';
import { summarize } from '../../../src/stats.js';

const batch = (isolatedWh: number, ci: [number, number], n = 100): BatchEnergy => ({
  meter: 'm',
  estimate: false,
  n,
  window: { from: 0, to: 1000 },
  samples: 50,
  avgPowerW: 20,
  baselineW: 10,
  energyPerInvocationJ: (isolatedWh + 1e-6) * 3600,
  energyPerInvocationWh: isolatedWh + 1e-6,
  isolatedEnergyPerInvocationJ: isolatedWh * 3600,
  isolatedEnergyPerInvocationWh: isolatedWh,
  ci95Wh: ci,
});

describe('energy figures', () => {
  it('takes the batch when a cell has one, else the median of its records with the order-statistics interval', () => {
    const fromBatch = energyFigure(
      { batch: batch(2e-6, [1.5e-6, 2.5e-6]), metrics: { isolatedEnergyWh: summarize([9, 9, 9]) } },
      true,
      false,
    )!;
    expect(fromBatch).toMatchObject({
      source: 'batch',
      valueWh: 2e-6,
      ci95Wh: [1.5e-6, 2.5e-6],
      aboveIdle: true,
      n: 100,
    });
    const values = [3, 1, 4, 1, 5, 9, 2, 6].map((v) => v * 1e-4);
    const fromRecords = energyFigure({ metrics: { isolatedEnergyWh: summarize(values) } }, true, true)!;
    expect(fromRecords).toMatchObject({
      source: 'records',
      valueWh: summarize(values).median,
      ci95Wh: summarize(values).ci95,
      estimate: true,
      n: 8,
    });
    // Without a baseline the figure is the whole draw, and the batch interval moves with it.
    const whole = energyFigure({ batch: batch(2e-6, [1.5e-6, 2.5e-6]), metrics: {} }, false, false)!;
    expect(whole.valueWh).toBeCloseTo(3e-6, 12);
    expect(whole.ci95Wh[0]).toBeCloseTo(2.5e-6, 12);
  });

  it('says "not distinguishable from idle" with the interval, never a bare negative', () => {
    const f = energyFigure({ batch: batch(-1e-7, [-3e-7, 2e-7]), metrics: {} }, true, false)!;
    expect(f.aboveIdle).toBe(false);
    expect(fmtEnergy(f)).toBe('not distinguishable from idle (± 300 nWh)');
    expect(fmtEnergy(energyFigure({ batch: batch(2e-6, [1.5e-6, 2.5e-6]), metrics: {} }, true, false))).toBe(
      '2.00 µWh [1.50 µWh, 2.50 µWh]',
    );
  });

  it('divides the same quantity on both sides, with bounds when one side is a batch and none when the divisor is idle', () => {
    const docker = energyFigure(
      { metrics: { isolatedEnergyWh: summarize([300, 310, 290, 305, 295, 300].map((v) => v * 1e-6)) } },
      true,
      false,
    )!;
    const wasm = energyFigure({ batch: batch(1.2e-6, [1e-6, 1.5e-6]), metrics: {} }, true, false)!;
    const r = energyRatio(docker, wasm)!;
    expect(r.interval).toBe('bounds');
    expect(r.ratio).toBeCloseTo(docker.valueWh / 1.2e-6, 6);
    expect(r.ci95[0]).toBeCloseTo(docker.ci95Wh[0] / 1.5e-6, 6);
    expect(r.ci95[1]).toBeCloseTo(docker.ci95Wh[1] / 1e-6, 6);
    const idle = energyFigure({ batch: batch(1e-9, [-1e-9, 3e-9]), metrics: {} }, true, false)!;
    expect(energyRatio(docker, idle)).toBeUndefined();
    const boot = energyRatio(docker, docker, { num: [1, 2, 3], den: [1, 2, 3], seed: 1 })!;
    expect(boot.interval).toBe('bootstrap');
    expect(boot.ratio).toBe(1);
  });
});
