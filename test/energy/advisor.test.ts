import { describe, expect, it } from 'vitest';
import { advise, parseRate, type AdvisorInput } from '../../src/energy/advisor.js';

/** 1 J per start-up, 0.1 W per kept sandbox (break-even 10 s), 2 mJ per run; cold takes ~100 ms, warm ~1 ms. */
const fib: AdvisorInput = {
  function: 'fib',
  input: 30,
  runtime: 'docker',
  execJ: { value: 0.002, ci95: null, source: 'test' },
  startupJ: { value: 1, ci95: null, source: 'test' },
  keepWarmW: { value: 0.1, ci95: null, source: 'test' },
  latencyMs: {
    cold: Array.from({ length: 100 }, (_, i) => 100 + i),
    warm: Array.from({ length: 100 }, (_, i) => 1 + i / 100),
  },
  estimate: false,
};

describe('the energy advisor', () => {
  it('gives the break-even keep-alive as start-up energy over keep-warm power', () => {
    expect(advise([fib], 1).breakEven).toEqual([
      { function: 'fib', input: 30, runtime: 'docker', seconds: 10, estimate: false, atLeast: false },
    ]);
  });

  it('gives a lower bound when the keep-warm power is not distinguishable from idle (its interval reaches zero)', () => {
    const idle = { ...fib, keepWarmW: { value: 0.01, ci95: [-0.3, 0.5] as [number, number], source: 'test' } };
    expect(advise([idle], 1).breakEven[0]).toMatchObject({ seconds: 2, atLeast: true });
    const none = { ...fib, keepWarmW: { value: -0.1, ci95: [-0.3, 0] as [number, number], source: 'test' } };
    expect(advise([none], 1).breakEven[0]).toMatchObject({ seconds: Number.POSITIVE_INFINITY, atLeast: false });
  });

  it('keeps warm when invocations come more often than the break-even, and starts cold when they come less often', () => {
    // 1/s: mean gap 1 s < 10 s. Keep-alive ln(100)/lambda: 1% cold; E = run + 0.01 x 1 J + 0.1 W x 0.99 / 1.
    const often = advise([fib], 1);
    expect(often.best[0]).toMatchObject({ mode: 'warm', runtime: 'docker' });
    expect(often.best[0]!.keepAliveS).toBeCloseTo(Math.log(100), 9);
    expect(often.best[0]!.coldShare).toBeCloseTo(0.01, 9);
    expect(often.best[0]!.energyPerInvocationJ).toBeCloseTo(0.002 + 0.01 + 0.099, 9);
    // 0.01/s: mean gap 100 s > 10 s: cold, E = run + start-up.
    const rare = advise([fib], 0.01);
    expect(rare.best[0]).toMatchObject({ mode: 'cold', energyPerInvocationJ: 1.002 });
    // Exactly at the break-even the two cost the same order; every option is listed, cheapest first.
    expect(rare.options.map((o) => o.energyPerInvocationJ)).toEqual(
      [...rare.options.map((o) => o.energyPerInvocationJ)].sort((a, b) => a - b),
    );
  });

  it('meets a p99 target with the shortest keep-alive that does, even when cold would spend less', () => {
    // 0.01/s prefers cold for energy, but cold's p99 (199 ms) misses 50 ms: warm with a keep-alive long
    // enough that at most ~1% of invocations start cold.
    const a = advise([fib], 0.01, 50);
    const best = a.best[0]!;
    expect(best.mode).toBe('warm');
    expect(best.meetsP99).toBe(true);
    expect(best.p99Ms!).toBeLessThanOrEqual(50);
    expect(best.coldShare).toBeLessThanOrEqual(0.01 + 1e-9);
    expect(a.options.find((o) => o.mode === 'cold')!.meetsP99).toBe(false);
    // A target nothing meets: no best option, and every option says it misses.
    const none = advise([fib], 1, 0.5);
    expect(none.best).toEqual([]);
    expect(none.options.every((o) => o.meetsP99 === false)).toBe(true);
  });

  it('says what it cannot cost and clamps figures below the meter resolution', () => {
    const a = advise(
      [
        { ...fib, keepWarmW: null },
        { ...fib, runtime: 'wasm', startupJ: null },
      ],
      1,
    );
    expect(a.options.map((o) => `${o.runtime} ${o.mode}`)).toEqual(['docker cold']);
    expect(a.notes.join('\n')).toMatch(/no keep-warm power measured/);
    expect(a.notes.join('\n')).toMatch(/no start-up energy measured/);
    const neg = advise([{ ...fib, startupJ: { value: -0.001, ci95: null, source: 'test' } }], 1);
    expect(neg.options.find((o) => o.mode === 'cold')!.parts.startupJ).toBe(0);
    expect(neg.notes.join('\n')).toMatch(/negative/);
  });

  it('warns when invocations overlap and one sandbox is not enough', () => {
    expect(advise([fib], 500).notes.join('\n')).toMatch(/overlap/);
    expect(advise([fib], 1).notes.join('\n')).not.toMatch(/overlap/);
  });

  it('reads arrival rates per second, minute or hour', () => {
    expect(parseRate('2/s')).toBe(2);
    expect(parseRate('30/min')).toBe(0.5);
    expect(parseRate('36/h')).toBe(0.01);
    expect(parseRate('0.5')).toBe(0.5);
    expect(Number.isNaN(parseRate('fast'))).toBe(true);
    expect(Number.isNaN(parseRate('2/day'))).toBe(true);
  });
});
