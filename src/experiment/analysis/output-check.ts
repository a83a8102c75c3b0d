/**
 * The output check: a function must give the same result for the same input on every runtime
 * and mode it ran on (and on every repetition). Records that differ from the result most
 * records gave are listed by id.
 */
import type { RuntimeKind } from '../../runtimes/index.js';
import type { InvocationMode, InvocationRecord } from '../../types.js';

/** Records of one runtime and mode whose result differs from the reference. */
export interface OutputMismatch {
  function: string;
  input: unknown;
  /** The reference: the result most successful records of this function and input gave. */
  expected: unknown;
  runtime: RuntimeKind;
  mode: InvocationMode;
  /** What these records gave instead. */
  got: unknown;
  /** The records' ids (as in records.jsonl). */
  recordIds: string[];
}

/** The result of the output check, as summary.json holds it. */
export interface OutputCheck {
  /** Function-and-input groups with at least one successful record. */
  groups: number;
  /** Successful records compared. */
  records: number;
  /** Empty when every record agrees with its group's reference. */
  mismatches: OutputMismatch[];
}

/** JSON text with object keys sorted, so `{a,b}` and `{b,a}` compare equal. */
export function canonicalJson(value: unknown): string {
  return (
    JSON.stringify(value, (_k, v: unknown) =>
      v && typeof v === 'object' && !Array.isArray(v)
        ? Object.fromEntries(
            Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
          )
        : v,
    ) ?? 'null'
  );
}

/**
 * Compares the results of successful records per function and input. The reference is the most
 * frequent result; on a tie, the one the `baseline` runtime gave, else the first seen.
 * Results are compared exactly after JSON parsing (object key order ignored). `variantOf` maps a
 * function's pre-initialised twin to it: the twin's records join the function's groups.
 */
export function checkOutputs(
  records: readonly InvocationRecord[],
  baseline?: RuntimeKind,
  variantOf: ReadonlyMap<string, string> = new Map(),
): OutputCheck {
  const groups = new Map<string, InvocationRecord[]>();
  let compared = 0;
  for (const r of records) {
    if (!r.ok) continue;
    compared++;
    const key = `${variantOf.get(r.function) ?? r.function}|${canonicalJson(r.input)}`;
    (groups.get(key) ?? groups.set(key, []).get(key)!).push(r);
  }
  const mismatches: OutputMismatch[] = [];
  for (const recs of groups.values()) {
    const counts = new Map<string, { n: number; first: number; baseline: boolean; value: unknown }>();
    recs.forEach((r, i) => {
      const k = canonicalJson(r.result);
      const c = counts.get(k) ?? { n: 0, first: i, baseline: false, value: r.result };
      c.n++;
      c.baseline ||= r.runtime === baseline;
      counts.set(k, c);
    });
    if (counts.size < 2) continue;
    const [refKey, ref] = [...counts.entries()].sort(
      ([, a], [, b]) => b.n - a.n || Number(b.baseline) - Number(a.baseline) || a.first - b.first,
    )[0]!;
    const byCell = new Map<string, OutputMismatch>();
    for (const r of recs) {
      const k = canonicalJson(r.result);
      if (k === refKey) continue;
      const cell = `${r.runtime}|${r.mode}|${k}`;
      const m = byCell.get(cell) ?? {
        function: r.function,
        input: r.input,
        expected: ref.value,
        runtime: r.runtime,
        mode: r.mode,
        got: r.result,
        recordIds: [],
      };
      m.recordIds.push(r.id);
      byCell.set(cell, m);
    }
    mismatches.push(...byCell.values());
  }
  return { groups: groups.size, records: compared, mismatches };
}

/** One line per mismatch, for notes and the terminal: `fib(30) on docker cold gave 1 instead of 832040 (3 records)`. */
export function describeMismatch(m: OutputMismatch): string {
  const show = (v: unknown) => {
    const t = canonicalJson(v);
    return t.length > 60 ? `${t.slice(0, 57)}...` : t;
  };
  return `${m.function}(${show(m.input)}) on ${m.runtime} ${m.mode} gave ${show(m.got)} instead of ${show(m.expected)} (${m.recordIds.length} record${m.recordIds.length === 1 ? '' : 's'})`;
}
