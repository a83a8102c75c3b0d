import { describe, expect, it } from 'vitest';
import { HistogramKeepAlive, parsePolicy } from '../../../src/experiment/replay/policies.js';

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
    expect(() => parsePolicy('histogram:width=3')).toThrow(/"width=3" is not one of range=/);
    expect(() => parsePolicy('histogram:head=99,tail=5')).toThrow(/head must be at most tail/);
    expect(() => parsePolicy('lru')).toThrow(/use none, fixed:DURATION/);
  });
});
