/** The time a load run's plan still needs: later steps' durations plus the settling measured between steps. */
import { describe, expect, it } from 'vitest';
import { PlanTime } from '../../../src/experiment/load/plan-time.js';
import type { LoadStep } from '../../../src/experiment/load/summary.js';

const step = (fn: string, ratePerS: number, durationMs: number): LoadStep => ({
  function: fn,
  input: 1,
  runtime: 'wasm',
  mode: 'warm',
  ratePerS,
  arrivals: 'constant',
  durationMs,
});

describe('PlanTime', () => {
  const steps = [step('a', 10, 5000), step('a', 20, 5000), step('b', 10, 2000), step('b', 20, 2000)];

  it('counts every later step, its duration and the settling measured so far', () => {
    const plan = new PlanTime(steps);
    // Nothing measured yet: one second of settling a step.
    expect(plan.started(0, 0)).toBe(1000 + (5000 + 1000) + (2000 + 1000) * 2);
    // Step 1 starts 5.5 s after step 0 (5 s of arrivals): 500 ms of settling.
    expect(plan.started(1, 5500)).toBe(500 + (2000 + 500) * 2);
    // 700 ms before step 2: the mean settling is 600 ms.
    expect(plan.started(2, 11_200)).toBe(600 + (2000 + 600));
    expect(plan.started(3, 13_800)).toBe(plan.settleMs);
  });

  it('leaves out the steps of a series whose sweep stopped early', () => {
    const plan = new PlanTime(steps);
    const stoppedA = (s: LoadStep) => s.function === 'a';
    expect(plan.started(0, 0, stoppedA)).toBe(1000 + (2000 + 1000) * 2);
  });
});
