import { describe, expect, it } from 'vitest';
import { canonicalJson, checkOutputs, describeMismatch } from '../../../src/experiment/analysis/output-check.js';
import type { InvocationRecord } from '../../../src/index.js';

let seq = 0;
function rec(fn: string, runtime: 'wasm' | 'docker', input: unknown, result: unknown, ok = true): InvocationRecord {
  const base = {
    id: `r${++seq}`,
    function: fn,
    runtime,
    mode: 'cold' as const,
    sandbox: 'fresh' as const,
    input,
    startedAt: new Date().toISOString(),
    timing: {} as never,
    energy: null,
    energyStatus: 'off' as const,
    resources: { cpuMs: null, maxMemoryBytes: null, cpuSource: null, memorySource: null },
  };
  return ok
    ? { ...base, ok: true, result }
    : { ...base, ok: false, result: null, error: { code: 'FUNCTION_FAILED', message: 'x' } };
}

describe('the output check', () => {
  it('finds nothing when every runtime gives the same result, whatever the key order', () => {
    const check = checkOutputs([
      rec('f', 'wasm', 1, { a: 1, b: [2] }),
      rec('f', 'docker', 1, { b: [2], a: 1 }),
      rec('g', 'wasm', 2, 'x'),
    ]);
    expect(check).toEqual({ groups: 2, records: 3, mismatches: [] });
    expect(canonicalJson({ b: 1, a: { d: 1, c: 2 } })).toBe('{"a":{"c":2,"d":1},"b":1}');
  });

  it('lists the records that differ from the majority, by runtime and mode, with their ids', () => {
    const records = [
      rec('fib', 'wasm', 30, 832040),
      rec('fib', 'wasm', 30, 832040),
      rec('fib', 'docker', 30, 832041),
      rec('fib', 'docker', 30, 832040),
      rec('fib', 'docker', 30, 832041),
    ];
    const check = checkOutputs(records);
    expect(check.mismatches).toEqual([
      {
        function: 'fib',
        input: 30,
        expected: 832040,
        runtime: 'docker',
        mode: 'cold',
        got: 832041,
        recordIds: [records[2]!.id, records[4]!.id],
      },
    ]);
    expect(describeMismatch(check.mismatches[0]!)).toBe(
      'fib(30) on docker cold gave 832041 instead of 832040 (2 records)',
    );
  });

  it('breaks a tie in favour of the baseline runtime and ignores failed records', () => {
    const records = [rec('e', 'wasm', 1, 2.718), rec('e', 'docker', 1, 2.7182), rec('e', 'docker', 1, null, false)];
    expect(checkOutputs(records, 'docker').mismatches.map((m) => [m.runtime, m.got, m.expected])).toEqual([
      ['wasm', 2.718, 2.7182],
    ]);
    expect(checkOutputs(records, 'wasm').mismatches.map((m) => [m.runtime, m.got, m.expected])).toEqual([
      ['docker', 2.7182, 2.718],
    ]);
  });

  it("checks a function's pre-initialised twin against the function's own records", () => {
    const records = [rec('pc', 'wasm', 10, 4), rec('pc', 'docker', 10, 4), rec('pc-preinit', 'wasm', 10, 5)];
    // Alone, the twin is a group of its own and agrees with itself.
    expect(checkOutputs(records).mismatches).toEqual([]);
    const check = checkOutputs(records, 'docker', new Map([['pc-preinit', 'pc']]));
    expect(check.groups).toBe(1);
    expect(check.mismatches.map((m) => [m.function, m.got, m.expected])).toEqual([['pc-preinit', 5, 4]]);
  });

  it('compares inputs by value, so the same input written with other key order is one group', () => {
    const check = checkOutputs(
      [rec('h', 'wasm', { n: 1, k: 2 }, 'a'), rec('h', 'docker', { k: 2, n: 1 }, 'b')],
      'wasm',
    );
    expect(check.groups).toBe(1);
    expect(check.mismatches).toHaveLength(1);
  });
});
