import { describe, expect, it } from 'vitest';
import { MAX_TRACE_ARRIVALS, parseTrace } from '../../../src/experiment/replay/trace.js';

const header = [
  'HashOwner',
  'HashApp',
  'HashFunction',
  'Trigger',
  ...Array.from({ length: 1440 }, (_, i) => i + 1),
].join(',');
const row = (fn: string, counts: Record<number, number | string>) =>
  ['o', 'a', fn, 'http', ...Array.from({ length: 1440 }, (_, m) => String(counts[m] ?? 0))].join(',');

describe('trace parsing', () => {
  it('Azure 2019: each minute count spread evenly inside its minute, a window of the day kept', () => {
    const text = [header, row('f1', { 0: 2, 3: 1 }), row('f2', { 1: 1 })].join('\n');
    const t = parseTrace(text, 't.csv');
    expect(t.format).toBe('azure-2019');
    expect(t.functions).toEqual(['a/f1', 'a/f2']);
    expect(t.arrivals).toEqual([
      { atMs: 15_000, function: 'a/f1' },
      { atMs: 45_000, function: 'a/f1' },
      { atMs: 90_000, function: 'a/f2' },
      { atMs: 210_000, function: 'a/f1' },
    ]);
    const w = parseTrace(text, 't.csv', { fromMs: 60_000, toMs: 240_000 });
    expect(w.arrivals.map((a) => a.atMs)).toEqual([90_000, 210_000]);
  });

  it('time,function: seconds from the start, sorted', () => {
    const t = parseTrace('time,function\n2.5,b\n0,a\n1,b\n', 'x.csv');
    expect(t.format).toBe('time-function');
    expect(t.arrivals).toEqual([
      { atMs: 0, function: 'a' },
      { atMs: 1000, function: 'b' },
      { atMs: 2500, function: 'b' },
    ]);
  });

  it('refuses a header from another format, bad counts and times, and too many invocations, naming the line', () => {
    const cases: Array<[string, RegExp]> = [
      ['HashOwner,HashApp,HashFunction,Average,Count,Minimum\n', /duration or memory file/],
      ['start,name\n1,a\n', /not a header of a known format.*time,function/],
      [[header, row('f1', { 5: -1 })].join('\n'), /t\.csv:2: minute 6 holds "-1", not a count/],
      [[header, row('f1', { 7: 'x' })].join('\n'), /minute 8 holds "x"/],
      [[header, row('f1', { 0: 3_000_000_000 })].join('\n'), new RegExp(`over the limit of ${MAX_TRACE_ARRIVALS}`)],
      [[header, row('f1', {}), row('f1', {})].join('\n'), /listed twice/],
      [[header, 'o,a,f,http,1'].join('\n'), /has 5 columns, the header 1444/],
      ['time,function\nsoon,a\n', /t\.csv:2: time "soon" is not a number/],
      ['time,function\n-1,a\n', /time "-1" is not a number of seconds of 0 or more/],
      [[header, row('f1', {})].join('\n'), /holds no invocation/],
    ];
    for (const [text, message] of cases) expect(() => parseTrace(text, 't.csv'), String(message)).toThrow(message);
  });
});
