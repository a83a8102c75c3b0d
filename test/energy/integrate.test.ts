import { describe, expect, it } from 'vitest';
import { coverageProblem, integrateJ, powerAt } from '../../src/energy/integrate.js';
import { t95 } from '../../src/stats.js';

const s = (t: number, powerW: number) => ({ t, powerW });

describe('piecewise-linear energy', () => {
  const trace = [s(0, 10), s(1000, 20), s(2000, 20), s(3000, 0)];

  it('interpolates power between samples', () => {
    expect(powerAt(trace, 500)).toBe(15);
    expect(powerAt(trace, 2500)).toBe(10);
    expect(powerAt(trace, 1000)).toBe(20);
  });

  it('integrates trapezoids exactly, including windows that start and end between samples', () => {
    expect(integrateJ(trace, 0, 3000)).toBeCloseTo(15 + 20 + 10, 9);
    expect(integrateJ(trace, 500, 1500)).toBeCloseTo(((15 + 20) / 2) * 0.5 + 20 * 0.5, 9);
    // Shorter than one sampling interval: the line between the two samples around it.
    expect(integrateJ(trace, 200, 300)).toBeCloseTo(((12 + 13) / 2) * 0.1, 9);
    expect(integrateJ(trace, 300, 300)).toBe(0);
  });

  it('says why a window is not covered', () => {
    expect(coverageProblem(trace, -10, 100, 1500)).toMatchObject({
      kind: 'start',
      message: expect.stringMatching(/start/) as string,
    });
    expect(coverageProblem(trace, 100, 3100, 1500)).toMatchObject({
      kind: 'end',
      message: expect.stringMatching(/end/) as string,
    });
    expect(coverageProblem([s(0, 1), s(5000, 1)], 100, 200, 1500)).toMatchObject({
      kind: 'gap',
      message: expect.stringMatching(/gap/) as string,
    });
    expect(coverageProblem([], 0, 1, 1500)?.kind).toBe('start');
    expect(coverageProblem(trace, 100, 2900, 1500)).toBeNull();
  });

  it('has the Student t quantiles', () => {
    expect(t95(1)).toBe(12.706);
    expect(t95(9)).toBe(2.262);
    expect(t95(1000)).toBe(1.96);
  });
});
