import { describe, expect, it } from 'vitest';
import type { InvocationRecord } from '../../src/index.js';
import { ResultsStore } from '../../src/server/results-store.js';

const record = (id: string, extra: Record<string, unknown> = {}) =>
  ({
    id,
    function: 'fib',
    runtime: 'wasm',
    mode: 'cold',
    input: 1,
    ok: true,
    result: 1,
    timing: { cleanupMs: null },
    ...extra,
  }) as unknown as InvocationRecord;
const page = (store: ResultsStore, q: Partial<Parameters<ResultsStore['query']>[0]> = {}) =>
  JSON.parse(store.query({ limit: 1000, ...q })) as {
    results: Array<{ id: string; timing: { cleanupMs: number | null } }>;
    nextCursor: string | null;
    omitted?: Array<{ id: string }>;
  };

describe('ResultsStore', () => {
  it('shows later changes to a record while it settles, and keeps its JSON as it was afterwards', () => {
    const live = new ResultsStore({ maxRecords: 10, maxBytes: 1e6 });
    const frozen = new ResultsStore({ maxRecords: 10, maxBytes: 1e6, settleMs: 0 });
    const a = record('a');
    const b = record('b');
    live.add(a);
    frozen.add(b);
    (a.timing as { cleanupMs: number | null }).cleanupMs = 12;
    (b.timing as { cleanupMs: number | null }).cleanupMs = 12;
    expect(page(live).results[0]!.timing.cleanupMs).toBe(12);
    expect(page(frozen).results[0]!.timing.cleanupMs).toBeNull();
  });

  it('bounds bytes and count over many records, with cursors that still page correctly', () => {
    const one = Buffer.byteLength(JSON.stringify(record('r0000', { input: 'x'.repeat(1000) })));
    const store = new ResultsStore({ maxRecords: 50, maxBytes: one * 20 + 10, settleMs: 0 });
    for (let i = 0; i < 5000; i++) store.add(record(`r${String(i).padStart(4, '0')}`, { input: 'x'.repeat(1000) }));
    expect(store.size.records).toBe(20);
    expect(store.size.bytes).toBeLessThanOrEqual(one * 20 + 10);
    const first = page(store, { limit: 15 });
    expect(first.results.map((r) => r.id)).toEqual(Array.from({ length: 15 }, (_, i) => `r${4999 - i}`));
    const second = page(store, { limit: 15, cursor: first.nextCursor! });
    expect(second.results.map((r) => r.id)).toEqual(Array.from({ length: 5 }, (_, i) => `r${4984 - i}`));
    expect(second.nextCursor).toBeNull();
    expect(store.get('r0000')).toBeUndefined();
    expect(store.get('r4999')).toHaveProperty('json');
  });

  it('keeps the newest record even when it alone is over the byte bound', () => {
    const store = new ResultsStore({ maxRecords: 10, maxBytes: 100 });
    store.add(record('small'));
    store.add(record('big', { input: 'y'.repeat(500) }));
    expect(page(store).results.map((r) => r.id)).toEqual(['big']);
  });

  it('lists what cannot be serialised (BigInt, cycles) under omitted, and serves the rest', () => {
    const store = new ResultsStore({ maxRecords: 10, maxBytes: 1e6 });
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    store.add(record('ok1'));
    store.add(record('big-int', { result: 10n }));
    store.add(record('cycle', { input: cyclic }));
    store.add(record('ok2'));
    const p = page(store);
    expect(p.results.map((r) => r.id)).toEqual(['ok2', 'ok1']);
    expect(p.omitted!.map((o) => o.id)).toEqual(['cycle', 'big-int']);
    expect(store.get('big-int')).toMatchObject({ failure: expect.stringContaining('BigInt') });
  });
});
