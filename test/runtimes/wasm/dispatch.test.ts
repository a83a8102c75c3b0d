/**
 * The hand-over between the host and the workers (shared slots, wake words, results read back
 * from the slot or, when large, from the port): nothing lost or mixed up over many invocations,
 * large inputs and outputs whole, and a runaway instance stopped while other runs complete.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Nebula, type InvocationMode } from '../../../src/index.js';
import { buildFixtures, type Fixture } from './fixtures.js';
import { tempDir } from '../../temp-dir.js';

let fx: Record<Fixture, Uint8Array>;
let nebula: Nebula;

beforeAll(async () => {
  fx = await buildFixtures();
  nebula = new Nebula({ wasm: { cacheDir: tempDir('wasm-cache') } });
  await nebula.deploy([
    { name: 'echo', wasm: fx.echo },
    { name: 'loop', wasm: fx.loop },
  ]);
  await nebula.prepare(['fib'], ['wasm']);
});
afterAll(async () => {
  await nebula.close();
});

describe('the dispatch path', () => {
  it('survives 10 000 invocations with no lost or mismatched result', async () => {
    const modes: InvocationMode[] = ['cold', 'prewarmed', 'warm'];
    const total = 10_000;
    let next = 0;
    const wrong: unknown[] = [];
    let done = 0;
    // 64 callers: more than the 64 shared slots hold at once, so the overflow queue is used too.
    await Promise.all(
      Array.from({ length: 80 }, async () => {
        for (let i = next++; i < total; i = next++) {
          const input = { i, text: `run-${i}-${'é'.repeat(i % 7)}` };
          const rec = await nebula.invoke('echo', input, { mode: modes[i % 3] });
          if (!rec.ok || JSON.stringify(rec.result) !== JSON.stringify(input)) wrong.push({ i, rec });
          done++;
        }
      }),
    );
    expect(wrong).toEqual([]);
    expect(done).toBe(total);
  });

  it('passes inputs and outputs larger than a slot whole, in both directions', async () => {
    const big = { data: 'x'.repeat(300_000), tail: 'ü'.repeat(40_000) };
    const recs = await Promise.all([1, 2, 3, 4].map(() => nebula.invoke('echo', big)));
    for (const r of recs) expect(r.result).toEqual(big);
  });

  it('stops a runaway instance at its timeout while concurrent runs complete', async () => {
    const [runaway, ...others] = await Promise.all([
      nebula.invoke('loop', null, { timeoutMs: 300 }),
      ...Array.from({ length: 30 }, (_, i) => nebula.invoke('fib', 10 + (i % 10))),
    ]);
    expect(runaway.error?.code).toBe('TIMEOUT');
    expect(runaway.error?.message).toMatch(/ran longer than its timeout of 300 ms/);
    expect(others.filter((r) => !r.ok)).toEqual([]);
    expect(others.map((r) => r.result)).toEqual(
      Array.from({ length: 30 }, (_, i) => [55, 89, 144, 233, 377, 610, 987, 1597, 2584, 4181][i % 10]),
    );
  });
});
