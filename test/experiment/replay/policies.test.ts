import { describe, expect, it } from 'vitest';
import { HistogramKeepAlive, parsePolicy, policyOnTrace } from '../../../src/experiment/replay/policies.js';
import { parseTrace, type Trace } from '../../../src/experiment/replay/trace.js';

const MIN = 60_000;

describe('keep-alive policies', () => {
  it('none keeps nothing, fixed keeps its window from the end', () => {
    expect(parsePolicy('none').decide('f')).toEqual({ prewarmMs: 0, keepAliveMs: 0 });
    expect(parsePolicy('fixed:10m').decide('f')).toEqual({ prewarmMs: 0, keepAliveMs: 10 * MIN });
  });

  it('histogram: pre-warm at the bin of the 5th percentile minus 10%, keep to the end of the bin of the 99th plus 10%', () => {
    const p = new HistogramKeepAlive('histogram');
    // 40 idle times between 10 and 12 minutes: one bin of 10 min (lower edge), 20 in 11, 19 in 12.
    p.observe('f', undefined);
    p.observe('f', 10.5 * MIN);
    for (let i = 0; i < 20; i++) p.observe('f', 11.2 * MIN);
    for (let i = 0; i < 19; i++) p.observe('f', 12.9 * MIN);
    // Head: 5% of 40 = 2 idle times; the bin reaching 2 is minute 11 (1 in bin 10, 21 through bin 11).
    // Tail: 99% of 40 = 39.6: bin 12, whose upper edge is 13 minutes.
    const d = p.decide('f');
    expect(d.prewarmMs).toBeCloseTo(11 * MIN * 0.9, 6);
    expect(d.prewarmMs + d.keepAliveMs).toBeCloseTo(13 * MIN * 1.1, 6);
  });

  it('histogram: the fixed fallback (no pre-warm, keep for the range) when not representative', () => {
    const few = new HistogramKeepAlive('histogram');
    for (let i = 0; i < 5; i++) few.observe('f', 11 * MIN);
    expect(few.decide('f')).toEqual({ prewarmMs: 0, keepAliveMs: 240 * MIN });

    // Spread evenly over the range: a low coefficient of variation of the bin counts.
    const spread = parsePolicy('histogram:fallback=20m');
    for (let m = 0; m < 240; m++) spread.observe('f', (m + 0.5) * MIN);
    expect(spread.decide('f')).toEqual({ prewarmMs: 0, keepAliveMs: 20 * MIN });

    // Mostly beyond the range.
    const long = parsePolicy('histogram:range=1h');
    for (let i = 0; i < 20; i++) long.observe('f', 2 * 60 * MIN);
    expect(long.decide('f')).toEqual({ prewarmMs: 0, keepAliveMs: 60 * MIN });

    // Another function has no histogram yet.
    expect(few.decide('g').prewarmMs).toBe(0);
  });

  it('takes its parameters by name and refuses bad ones', () => {
    const p = parsePolicy('histogram:range=2h,bin=30s,head=10,tail=95,margin=0.2,min=5,cv=1.5') as HistogramKeepAlive;
    expect(p.params).toMatchObject({
      rangeMs: 120 * MIN,
      binMs: 30_000,
      headPercentile: 10,
      tailPercentile: 95,
      margin: 0.2,
      minSamples: 5,
      cvThreshold: 1.5,
      fallbackMs: 120 * MIN,
    });
    expect(() => parsePolicy('fixed')).toThrow(/fixed takes its keep-alive/);
    expect(() => parsePolicy('fixed:ten')).toThrow(/not a duration/);
    expect(() => parsePolicy('histogram:width=3')).toThrow(/"width=3" is not one of per=app\|function, range=/);
    expect(() => parsePolicy('histogram:head=99,tail=5')).toThrow(/head must be at most tail/);
    expect(() => parsePolicy('lru')).toThrow(/use none, fixed:DURATION/);
  });

  describe('histogram per application', () => {
    /** An Azure trace of a day: each function's row of counts per minute, from `every` minutes starting at `from`. */
    const azure = (rows: Array<[app: string, fn: string, from: number, every: number]>) =>
      parseTrace(
        [
          ['HashOwner', 'HashApp', 'HashFunction', 'Trigger', ...Array.from({ length: 1440 }, (_, m) => m + 1)].join(
            ',',
          ),
          ...rows.map(([app, fn, from, every]) =>
            [
              'o',
              app,
              fn,
              'http',
              ...Array.from({ length: 1440 }, (_, m) => (m >= from && (m - from) % every === 0 ? 1 : 0)),
            ].join(','),
          ),
        ].join('\n'),
        'hand-made.csv',
      );
    // App A: f at minutes 0, 10, 20, ...; g at 5, 15, 25, ...: the application is idle 5 minutes at a time,
    // each of its functions 10. App B: h alone, every 3 minutes.
    const trace = azure([
      ['A', 'f', 0, 10],
      ['A', 'g', 5, 10],
      ['B', 'h', 0, 3],
    ]);
    const learn = (policy: string, t: Trace = trace) => {
      const learner = policyOnTrace(parsePolicy(policy), t);
      for (const a of t.arrivals) learner.arrive(a.function, a.atMs);
      return learner;
    };
    // Pre-warm at the idle time's bin (lower edge) minus 10%, kept to its upper edge plus 10%.
    const window = (idleMin: number) => ({
      prewarmMs: idleMin * MIN * 0.9,
      keepAliveMs: (idleMin + 1) * MIN * 1.1 - idleMin * MIN * 0.9,
    });
    const close = (d: { prewarmMs: number; keepAliveMs: number }, want: { prewarmMs: number; keepAliveMs: number }) => {
      expect(d.prewarmMs).toBeCloseTo(want.prewarmMs, 6);
      expect(d.keepAliveMs).toBeCloseTo(want.keepAliveMs, 6);
    };

    it("reads each function's application from the Azure trace", () => {
      expect(trace.functions).toEqual(['A/f', 'A/g', 'B/h']);
      expect(trace.apps).toEqual(['A', 'A', 'B']);
    });

    it('by default pools the arrivals of an application: both its functions follow its 5-minute idle times', () => {
      const learner = learn('histogram');
      expect(learner.per).toBe('app');
      close(learner.decide('A/f'), window(5));
      close(learner.decide('A/g'), window(5));
      close(learner.decide('B/h'), window(3));
    });

    it('per=function learns each function alone: 10 minutes for f and g', () => {
      const learner = learn('histogram:per=function');
      expect(learner.per).toBe('function');
      close(learner.decide('A/f'), window(10));
      close(learner.decide('A/g'), window(10));
      close(learner.decide('B/h'), window(3));
    });

    it('a trace without applications is learnt per function, and per=app on it is refused', () => {
      const plain = parseTrace(
        ['time,function', ...Array.from({ length: 30 }, (_, i) => `${i * 120},x`)].join('\n'),
        'plain.csv',
      );
      expect(plain.apps).toBeUndefined();
      const learner = learn('histogram', plain);
      expect(learner.per).toBe('function');
      close(learner.decide('x'), window(2));
      expect(() => learn('histogram:per=app', plain)).toThrow(/per=app needs a trace with applications/);
      expect(() => parsePolicy('histogram:per=owner')).toThrow(/per is app or function, got "owner"/);
    });
  });
});
