import { describe, expect, it } from 'vitest';
import type { Cell } from '../../../src/experiment/cell.js';
import { STEP_HEAD, stepCells } from '../../../src/experiment/load/step-row.js';
import {
  kneeOf,
  stopReason,
  summarizeStep,
  type LoadRecord,
  type LoadStep,
  type StepSummary,
} from '../../../src/experiment/load/summary.js';
import { quantileInterval } from '../../../src/stats.js';
import { record } from '../fixtures.js';

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

/** A step of `shares.length` records with these energy shares (J), one every 10 ms. */
function stepOf(shares: number[], edit: (r: LoadRecord, i: number) => void = () => {}): StepSummary {
  const cell: Cell = { function: 'fib', input: 20, runtime: 'wasm', mode: 'warm' };
  const startAt = Date.parse('2026-01-01T10:00:00Z');
  const records = shares.map((shareJ, i) => {
    const r = record(cell, 0.05, 0.5, 1e-7) as LoadRecord;
    r.energy = { ...r.energy!, shareJ, baselineShareJ: 0.001 };
    r.load = { step: 0, intendedAt: startAt + i * 10, lagMs: 0, queueMs: 0, latencyMs: r.timing.totalMs };
    edit(r, i);
    return r;
  });
  const step: LoadStep = { ...cell, ratePerS: 100, arrivals: 'constant', durationMs: shares.length * 10 };
  const n = shares.length;
  return summarizeStep(0, step, records, { scheduled: n, sent: n, givenUp: 0, unsent: 0, peakInFlight: 1, startAt });
}

describe('energy per invocation under load', () => {
  it('is the median of the records’ shares with the interval the stats module gives, the mean beside it', () => {
    const shares = Array.from({ length: 99 }, (_, i) => (i + 1) * 1e-4); // 0.1 mJ .. 9.9 mJ
    const e = stepOf(shares).energyJPerInvocation!;
    const ci = quantileInterval(shares, 0.5);
    expect(e.aboveIdle.value).toBeCloseTo(5e-3, 12);
    expect(e.aboveIdle.ci95).toEqual([ci.lo, ci.hi]);
    expect(e.aboveIdle.ci95[0]).toBeLessThan(e.aboveIdle.value);
    expect(e.aboveIdle.ci95[1]).toBeGreaterThan(e.aboveIdle.value);
    expect(e.aboveIdle.open).toBe(false);
    expect(e.withIdle.value).toBeCloseTo(5e-3 + 1e-3, 12);
    expect(e.meanAboveIdle).toBeCloseTo(5e-3, 12);
    expect(e.n).toBe(99);
    expect(stepCells(stepOf(shares))[STEP_HEAD.indexOf('energy/inv [95%]')]).toMatch(/^5\.00 mJ \[\S+ mJ, \S+ mJ\]$/);
  });

  it('says when too few records bound the interval, as the latency cells do (≥ before the upper end)', () => {
    const few = stepOf([1e-3, 2e-3, 3e-3]);
    expect(few.energyJPerInvocation!.aboveIdle.open).toBe(true);
    expect(stepCells(few)[STEP_HEAD.indexOf('energy/inv [95%]')]).toBe('2.00 mJ [1.00 mJ, ≥3.00 mJ]');
    const none = stepOf([1e-3], (r) => (r.energy = null));
    expect(none.energyJPerInvocation).toBeNull();
    expect(stepCells(none)[STEP_HEAD.indexOf('energy/inv [95%]')]).toBe('–');
  });
});

describe('sandboxes under load', () => {
  it('counts the sandboxes made in the step from the records, and the distinct ones used where records name them', () => {
    const kinds = ['fresh', 'reused', 'prewarmed', 'reused', 'fresh', 'reused'] as const;
    const ids = ['a', 'a', 'b', 'b', 'c', 'old'];
    const named = stepOf([1, 1, 1, 1, 1, 1], (r, i) => {
      r.sandbox = kinds[i]!;
      r.sandboxId = ids[i]!;
    });
    expect(named.sandboxes).toEqual({ made: 3, fresh: 2, prewarmed: 1, used: 4 });
    const cells = stepCells(named);
    expect(cells[STEP_HEAD.indexOf('sandboxes made')]).toBe('3 (1 prewarmed)');
    expect(cells[STEP_HEAD.indexOf('sandboxes used')]).toBe('4');

    const unnamed = stepOf([1, 1, 1], (r, i) => (r.sandbox = i === 0 ? 'fresh' : 'reused'));
    expect(unnamed.sandboxes).toEqual({ made: 1, fresh: 1, prewarmed: 0, used: null });
    expect(stepCells(unnamed)[STEP_HEAD.indexOf('sandboxes used')]).toBe('not reported');
  });

  it('counts the peak in flight from the records when the generator did not (a run read back)', () => {
    const step = (peakInFlight: number) => {
      const cell: Cell = { function: 'fib', input: 20, runtime: 'wasm', mode: 'warm' };
      const t = Date.parse('2026-01-01T10:00:00Z');
      // Three overlap at 5..6 ms; the fourth starts as the first ends (not two at once).
      const spans: Array<[number, number]> = [
        [0, 6],
        [2, 9],
        [5, 8],
        [6, 7],
      ];
      const records = spans.map(([from, to]) => {
        const r = record(cell, 0.05, 0.5, null) as LoadRecord;
        r.timing = { ...r.timing, requestAt: t + from, totalMs: to - from };
        r.load = { step: 0, intendedAt: t + from, lagMs: 0, queueMs: 0, latencyMs: to - from };
        return r;
      });
      const gen = { scheduled: 4, sent: 4, givenUp: 0, unsent: 0, peakInFlight, startAt: t };
      return summarizeStep(0, { ...cell, ratePerS: 400, arrivals: 'constant', durationMs: 10 }, records, gen);
    };
    expect(step(Number.NaN).inFlight.peak).toBe(3);
    expect(step(5).inFlight.peak).toBe(5);
  });
});
