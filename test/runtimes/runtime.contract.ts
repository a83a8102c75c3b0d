/**
 * The contract every Runtime honours (docs/function-contract.md, docs/timing.md), run by each implementation's test file:
 * the same built-in functions give the same answers, failures become records, timings are sane.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Nebula, PHASES, runtimeDescriptors, type RuntimeKind } from '../../src/index.js';

/** The buffer the `hash` built-in hashes: n KiB where byte i = (i*31 + 7) & 0xff. */
export function hashInput(kib: number): Buffer {
  const buf = Buffer.alloc(kib * 1024);
  for (let i = 0; i < buf.length; i++) buf[i] = (i * 31 + 7) & 0xff;
  return buf;
}

/** What a runtime's contract asks of it besides the answers. */
interface ContractOptions {
  /**
   * It reports its sandbox's CPU time and peak memory (the package's runtimes do). False for a
   * runtime from outside that does not: its records then say so. Default true.
   */
  resources?: boolean;
}

export function runtimeContract(
  kind: RuntimeKind,
  makeNebula: () => Nebula = () => new Nebula(),
  options: ContractOptions = {},
): void {
  describe(`Runtime contract: ${kind}`, () => {
    let nebula: Nebula;
    beforeAll(async () => {
      nebula = makeNebula();
      await nebula.prepare(undefined, [kind]);
    });
    afterAll(async () => {
      await nebula?.close();
    });

    const cases: Array<[string, unknown, (r: unknown) => void]> = [
      ['fib', 20, (r) => expect(r).toBe(6765)],
      ['fib', 0, (r) => expect(r).toBe(0)],
      ['exponential', 1, (r) => expect(Math.abs((r as number) - Math.E) / Math.E).toBeLessThan(1e-12)],
      ['exponential', 10, (r) => expect(Math.abs((r as number) - Math.exp(10)) / Math.exp(10)).toBeLessThan(1e-12)],
      ['factorial', 20, (r) => expect(r).toBe('2432902008176640000')],
      ['factorial', 0, (r) => expect(r).toBe('1')],
      ['prime', 1, (r) => expect(r).toBe(2)],
      ['prime', 1000, (r) => expect(r).toBe(7919)],
      ['hash', 64, (r) => expect(r).toBe(createHash('sha256').update(hashInput(64)).digest('hex'))],
    ];
    for (const [fn, input, check] of cases) {
      it(`${fn}(${JSON.stringify(input)}) gives the right answer in a cold invocation`, async () => {
        const rec = await nebula.invoke(fn, input, { runtime: kind });
        expect(rec.error).toBeUndefined();
        expect(rec.ok).toBe(true);
        check(rec.result);
        expect(rec).toMatchObject({ function: fn, runtime: kind, mode: 'cold', input });
      });
    }

    it('orders the timestamps on one clock: request <= function start <= function end', async () => {
      const before = Date.now();
      const rec = await nebula.invoke('fib', 15, { runtime: kind });
      const t = rec.timing;
      expect(t.requestAt).toBeGreaterThanOrEqual(before - 50);
      expect(t.functionStartAt).toBeGreaterThanOrEqual(t.requestAt);
      expect(t.functionEndAt).toBeGreaterThanOrEqual(t.functionStartAt);
      expect(t.startupMs).toBeCloseTo(t.functionStartAt - t.requestAt, 6);
      expect(t.execMs).toBeCloseTo(t.functionEndAt - t.functionStartAt, 6);
      expect(t.totalMs).toBeGreaterThanOrEqual(t.startupMs + t.execMs - 1e-6);
      // Phases from the one list, those the runtime's descriptor names, in its order.
      const listed: readonly string[] = runtimeDescriptors().find((d) => d.kind === kind)!.phases;
      const seen = Object.keys(t.phases);
      expect(seen.length).toBeGreaterThan(0);
      expect(seen.every((p) => p in PHASES)).toBe(true);
      expect(seen).toEqual(listed.filter((p) => seen.includes(p)));
      expect(rec.startedAt).toBe(new Date(t.requestAt).toISOString());
    });

    for (const [fn, bad] of [
      ['fib', 'abc'],
      ['fib', -1],
      ['fib', 1.5],
      ['factorial', 21],
      ['prime', 0],
      ['hash', { n: 'x' }],
    ] as const) {
      it(`${fn}(${JSON.stringify(bad)}) fails with FUNCTION_FAILED, exit code 2 and a message on stderr`, async () => {
        const rec = await nebula.invoke(fn as string, bad, { runtime: kind });
        expect(rec.ok).toBe(false);
        expect(rec.result).toBeNull();
        expect(rec.error?.code).toBe('FUNCTION_FAILED');
        expect(rec.error?.exitCode).toBe(2);
        expect(rec.error?.stderr).toContain(fn);
      });
    }

    it('runs prewarmed invocations, each on its own instance, with the same answers', async () => {
      const recs = await Promise.all(
        [1, 2, 3, 4].map((n) => nebula.invoke('fib', 10 + n, { runtime: kind, mode: 'prewarmed' })),
      );
      expect(recs.map((r) => r.result)).toEqual([89, 144, 233, 377]);
      expect(recs.every((r) => r.mode === 'prewarmed' && r.sandbox !== 'reused')).toBe(true);
    });

    if (options.resources === false)
      it('says in every record that it reports no CPU time or memory', async () => {
        for (const mode of ['cold', 'prewarmed', 'warm'] as const) {
          const rec = await nebula.invoke('fib', 25, { runtime: kind, mode });
          expect(rec.ok).toBe(true);
          expect(rec.resources).toMatchObject({ cpuMs: null, maxMemoryBytes: null, cpuSource: null });
          expect(rec.resources.note).toMatch(/reports no CPU time or memory/);
        }
      });
    else
      it("reports its sandbox's CPU time and peak memory from the kernel, in every mode", async () => {
        for (const mode of ['cold', 'prewarmed', 'warm'] as const) {
          const rec = await nebula.invoke('fib', 25, { runtime: kind, mode });
          expect(rec.ok).toBe(true);
          const r = rec.resources;
          expect(['thread-clock', 'cgroup-v1', 'cgroup-v2', 'rusage']).toContain(r.cpuSource);
          expect(['linear-memory', 'cgroup-v1', 'cgroup-v2', 'rusage']).toContain(r.memorySource);
          expect(r.cpuMs).toBeGreaterThan(0);
          expect(r.maxMemoryBytes).toBeGreaterThan(0);
          expect(r.cpuSinceAt).toBeGreaterThanOrEqual(rec.timing.requestAt);
          expect(r.cpuSinceAt).toBeLessThanOrEqual(rec.timing.functionEndAt);
          if (r.userMs !== undefined) expect(r.userMs + r.systemMs!).toBeCloseTo(r.cpuMs!, 6);
        }
      });

    it('answers concurrent invocations correctly', async () => {
      const inputs = [5, 10, 15, 20, 22, 24];
      const recs = await Promise.all(inputs.map((n) => nebula.invoke('fib', n, { runtime: kind })));
      expect(recs.map((r) => r.result)).toEqual([5, 55, 610, 6765, 17711, 46368]);
    });
  });
}
