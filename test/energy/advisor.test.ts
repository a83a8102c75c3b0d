import { describe, expect, it } from 'vitest';
import { advise, parseRate, type AdvisorInput } from '../../src/energy/advisor.js';

/** Wh per J. */
const WH = 1 / 3600;
/**
 * A cold invocation 1.002 J, a warm one (a reused sandbox) 2 mJ: 1 J of start-up; 0.1 W per kept
 * sandbox (break-even 10 s); cold takes ~100 ms, warm ~1 ms.
 */
const fib: AdvisorInput = {
  function: 'fib',
  input: 30,
  runtime: 'docker',
  coldWh: { value: 1.002 * WH, ci95: null, source: 'test' },
  warmWh: { value: 0.002 * WH, ci95: null, source: 'test' },
  keepWarmW: { value: 0.1, ci95: null, source: 'test' },
  latencyMs: {
    cold: Array.from({ length: 100 }, (_, i) => 100 + i),
    warm: Array.from({ length: 100 }, (_, i) => 1 + i / 100),
  },
  estimate: false,
};

describe('the energy advisor', () => {
  it('gives the break-even keep-alive as start-up energy (cold - warm) over keep-warm power', () => {
    const a = advise([fib], 1);
    expect(a.breakEven).toHaveLength(1);
    expect(a.breakEven[0]).toMatchObject({ function: 'fib', input: 30, runtime: 'docker', atLeast: false });
    expect(a.breakEven[0]!.seconds).toBeCloseTo(10, 9);
    expect(a.startup[0]!.startupWh.value).toBeCloseTo(1 * WH, 12);
  });

  it('gives a lower bound when the keep-warm power is not distinguishable from idle (its interval reaches zero)', () => {
    const idle = { ...fib, keepWarmW: { value: 0.01, ci95: [-0.3, 0.5] as [number, number], source: 'test' } };
    expect(advise([idle], 1).breakEven[0]!.seconds).toBeCloseTo(2, 9);
    expect(advise([idle], 1).breakEven[0]!.atLeast).toBe(true);
    const none = { ...fib, keepWarmW: { value: -0.1, ci95: [-0.3, 0] as [number, number], source: 'test' } };
    expect(advise([none], 1).breakEven[0]).toMatchObject({ seconds: Number.POSITIVE_INFINITY, atLeast: false });
  });

  it('costs a cold option at exactly the cold figure, the number the energy table shows', () => {
    for (const rate of [0.001, 1, 100]) {
      const cold = advise([fib], rate).options.find((o) => o.mode === 'cold')!;
      expect(cold.energyPerInvocationWh).toBe(fib.coldWh!.value);
    }
    // With nothing but a cold cell (a run with --modes cold), the cold option is still that figure.
    const only = advise([{ ...fib, warmWh: null, keepWarmW: null }], 1);
    expect(only.options.map((o) => [o.mode, o.energyPerInvocationWh])).toEqual([['cold', fib.coldWh!.value]]);
  });

  it('keeps warm when invocations come more often than the break-even, and starts cold when they come less often', () => {
    // 1/s: mean gap 1 s < 10 s. Keep-alive ln(100)/lambda: 1% cold; E = 0.01 x cold + 0.99 x warm + 0.1 W x 0.99 / 1.
    const often = advise([fib], 1);
    expect(often.best[0]).toMatchObject({ mode: 'warm', runtime: 'docker' });
    expect(often.best[0]!.keepAliveS).toBeCloseTo(Math.log(100), 9);
    expect(often.best[0]!.coldShare).toBeCloseTo(0.01, 9);
    expect(often.best[0]!.energyPerInvocationWh).toBeCloseTo((0.01 * 1.002 + 0.99 * 0.002 + 0.099) * WH, 12);
    const p = often.best[0]!.parts;
    expect(p.coldWh + p.warmWh + p.keepWarmWh).toBeCloseTo(often.best[0]!.energyPerInvocationWh, 15);
    // 0.01/s: mean gap 100 s > 10 s: cold.
    const rare = advise([fib], 0.01);
    expect(rare.best[0]).toMatchObject({ mode: 'cold', energyPerInvocationWh: 1.002 * WH });
    expect(rare.options.map((o) => o.energyPerInvocationWh)).toEqual(
      [...rare.options.map((o) => o.energyPerInvocationWh)].sort((a, b) => a - b),
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
        { ...fib, runtime: 'wasm', coldWh: null },
        { ...fib, runtime: 'process', warmWh: null },
      ],
      1,
    );
    expect(a.options.map((o) => `${o.runtime} ${o.mode}`).sort()).toEqual(['docker cold', 'process cold']);
    const notes = a.notes.join('\n');
    expect(notes).toMatch(/no keep-warm power measured/);
    expect(notes).toMatch(/no energy figure of a cold invocation/);
    expect(notes).toMatch(/no warm cell measured/);
    const neg = advise([{ ...fib, coldWh: { value: -0.001, ci95: null, source: 'test' } }], 1);
    expect(neg.options.find((o) => o.mode === 'cold')!.energyPerInvocationWh).toBe(0);
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
