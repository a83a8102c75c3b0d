import { describe, expect, it } from 'vitest';
import { kneeOf, stopReason, type StepSummary } from '../../../src/experiment/load/summary.js';

const bounds = { stopP99Ms: 100, stopErrorRate: 0.05, kneeP99Ms: 10 };

function step(ratePerS: number, p99: number, ok = 100, failed = 0): StepSummary {
  return {
    ratePerS,
    ok,
    failed,
    latencyMs: { p99: { value: p99, ci95: [p99, p99], open: false } },
  } as unknown as StepSummary;
}

describe('the knee and the stop bounds of a sweep', () => {
  it('the knee is the highest rate with p99 within its bound and errors within theirs', () => {
    expect(kneeOf([step(50, 2), step(100, 8), step(200, 40)], bounds)).toBe(100);
    expect(kneeOf([step(50, 2), step(100, 8, 90, 10)], bounds)).toBe(50);
    expect(kneeOf([step(50, 20)], bounds)).toBeNull();
  });

  it('a step over the p99 bound or the error bound stops the sweep, saying which', () => {
    expect(stopReason(step(100, 50), bounds)).toBeUndefined();
    expect(stopReason(step(100, 150), bounds)).toMatch(/p99 150\.0 ms is over the bound of 100 ms/);
    expect(stopReason(step(100, 5, 90, 10), bounds)).toMatch(/10\.0% of invocations failed/);
  });
});
