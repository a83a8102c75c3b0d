/**
 * Coordinated omission: a function that stalls once for 200 ms under a steady rate, with room for
 * one invocation at a time. The arrivals during the stall wait in the queue; counted from their
 * intended send times, every one of them is late, so the stall raises the p99 by many invocations,
 * not by the one sample a closed loop would record.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Nebula, nowMs, type Prepared, type RunContext, type RunOutcome, type Runtime } from '../../../src/index.js';
import { readLoadRun, runLoad, type LoadRecord } from '../../../src/experiment/index.js';

const STALL_MS = 200;

/** Runs return at once, except run number `stallAt`, which takes STALL_MS. */
class StallingRuntime implements Runtime {
  readonly kind = 'wasm';
  runs = 0;
  constructor(private readonly stallAt: number) {}
  async prepare(): Promise<Prepared> {
    return {
      info: {},
      release: async () => undefined,
      run: async (_input: string, ctx: RunContext): Promise<RunOutcome> => {
        const start = Math.max(nowMs(), ctx.requestAt);
        if (++this.runs === this.stallAt) await new Promise((r) => setTimeout(r, STALL_MS));
        return {
          exitCode: 0,
          stdout: '1',
          stderr: '',
          functionStartAt: start,
          functionEndAt: nowMs(),
          phases: {},
          compiled: false,
          sandbox: 'reused',
        };
      },
    };
  }
  async close(): Promise<void> {}
}

let nebula: Nebula | undefined;
let dir: string | undefined;
afterEach(async () => {
  await nebula?.close();
  nebula = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('latency counts from the intended send time', () => {
  it('a stall of one invocation is seen by every invocation queued behind it', async () => {
    const runtime = new StallingRuntime(50);
    nebula = new Nebula({ meter: null, runtimes: { wasm: runtime } });
    dir = mkdtempSync(join(tmpdir(), 'nebula-load-'));
    const out = join(dir, 'run');
    const result = await runLoad(nebula, {
      functions: ['fib'],
      runtimes: ['wasm'],
      modes: ['warm'],
      rates: [100],
      durationMs: 2000,
      maxInFlight: 1,
      warmup: 0,
      baselineMs: 0,
      outDir: out,
    });
    const step = result.results[0]!;
    expect(step.scheduled).toBe(200);
    expect(step.ok).toBe(200);
    const { records } = readRecordsOf(out);
    expect(records).toHaveLength(200);
    // The function itself was slow once...
    expect(records.filter((r) => r.timing.execMs >= STALL_MS / 2)).toHaveLength(1);
    // ...but at 10 ms between arrivals, about ten arrived in the first half of the stall and
    // waited at least half of it in the queue: each of them is a late invocation.
    const late = records.filter((r) => r.load.latencyMs >= STALL_MS / 2);
    expect(late.length).toBeGreaterThanOrEqual(10);
    expect(late.filter((r) => r.load.queueMs > 0).length).toBeGreaterThanOrEqual(late.length - 1);
    // With 200 samples the p99 lies above the 198th smallest: more than two late samples put it there.
    expect(step.latencyMs.p99.value).toBeGreaterThanOrEqual(STALL_MS / 2);

    // A run killed before its summary is reportable from run.json and its records alone.
    rmSync(join(out, 'summary.json'));
    const again = readLoadRun(out);
    expect(again.interrupted).toBe(true);
    expect(again.results).toHaveLength(1);
    expect(again.results[0]!.ok).toBe(200);
    expect(again.results[0]!.latencyMs.p99.value).toBe(step.latencyMs.p99.value);
    expect(again.series[0]!.knee).toBe(result.series[0]!.knee);
  });
});

/** The records a run wrote, after checking its folder reads back as a finished run. */
function readRecordsOf(out: string): { records: LoadRecord[] } {
  expect(readLoadRun(out).interrupted).toBe(false);
  const lines = readFileSync(join(out, 'records.jsonl'), 'utf8').trim().split('\n');
  return { records: lines.map((l) => JSON.parse(l) as LoadRecord) };
}
