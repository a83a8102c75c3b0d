/**
 * Replay of the shipped synthetic trace under keep-alive policies, on a runtime whose kept
 * sandboxes are counted exactly: its runs return at once, and its keeper holds, makes and removes
 * sandboxes as the policy says. The cold starts the records report must equal those computed from
 * the arrivals alone.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  defineRuntime,
  Nebula,
  nowMs,
  registerRuntime,
  type FunctionSpec,
  type Prepared,
  type RunContext,
  type RunOutcome,
  type Runtime,
  type RuntimeKind,
} from '../../../src/index.js';
import { parseTrace } from '../../../src/experiment/replay/trace.js';
import { KEPT_FILE, runReplay } from '../../../src/experiment/replay/run-replay.js';
import { readLoadOrReplay } from '../../../src/experiment/load/folder.js';
import { writeLoadReports } from '../../../src/experiment/load/report.js';
import type { ReplayResult } from '../../../src/experiment/replay/run-replay.js';
import type { SandboxKeeper } from '../../../src/runtimes/runtime.js';
import { coldFromArrivals, gapsNear, MIN, shippedTrace } from './shipped-trace.js';

/** Sandboxes as a pool per function: a warm run takes an idle one (or makes one, a cold start) and gives it back. */
class KeepingRuntime implements Runtime {
  readonly kind = 'kept';
  constructor(readonly options: { max?: number } = {}) {}
  async prepare(): Promise<Prepared> {
    let idle = 0;
    let ahead = 0;
    let held = false;
    const keeper: SandboxKeeper = {
      hold: () => void (held = true),
      prewarm: async () => {
        idle++;
        ahead++;
      },
      drop: async () => void (idle = ahead = 0),
      idle: () => idle,
    };
    return {
      info: {},
      keeper,
      release: async () => undefined,
      run: async (_input: string, ctx: RunContext): Promise<RunOutcome> => {
        const at = Math.max(nowMs(), ctx.requestAt);
        let sandbox: RunOutcome['sandbox'] = 'fresh';
        if (ctx.mode === 'warm' && idle > 0) {
          idle--;
          sandbox = ahead > 0 ? 'prewarmed' : 'reused';
          ahead = Math.max(0, ahead - 1);
        }
        if (ctx.mode === 'warm' && held) idle++;
        return {
          exitCode: 0,
          stdout: '1',
          stderr: '',
          functionStartAt: at,
          functionEndAt: at,
          phases: {},
          compiled: false,
          sandbox,
        };
      },
    };
  }
  async close(): Promise<void> {}
}

// Registered as a runtime of its own, whose descriptor says its sandboxes can be steered.
registerRuntime(
  defineRuntime({
    kind: 'kept',
    label: 'Kept',
    color: '#336699',
    summary: 'runs return at once; its keeper counts sandboxes exactly',
    source: {
      schema: { type: 'string' },
      validate: (source: unknown) => String(source),
      describe: () => ({}),
    },
    modes: { cold: 'a new sandbox', prewarmed: 'a sandbox made ahead', warm: 'a kept sandbox' },
    keepsWarm: { option: 'max', default: 1, keeper: true },
    phases: ['run'],
    create: (options?: { max?: number }) => new KeepingRuntime(options),
  }),
);
const KEPT = 'kept' as RuntimeKind;

const trace = shippedTrace(180);

let nebula: Nebula | undefined;
let dir: string | undefined;
afterEach(async () => {
  await nebula?.close();
  nebula = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('trace replay under keep-alive policies', () => {
  it('the fixed policy has exactly the cold starts the arrivals imply; none makes every invocation cold', async () => {
    expect(gapsNear(trace, 10 * MIN)).toEqual([]);

    nebula = new Nebula({ meter: null, builtins: false });
    dir = mkdtempSync(join(tmpdir(), 'nebula-replay-'));
    const probe = { name: 'probe', kept: 'probe' } as FunctionSpec;
    const phases: Array<{ index: number; count: number; expectedMs: number; laterMs: number }> = [];
    const result = await runReplay(
      nebula,
      {
        trace,
        mapping: Object.fromEntries(trace.functions.map((f) => [f, { spec: probe, input: 10 }])),
        runtimes: [KEPT],
        policies: ['none', 'fixed:10m'],
        speed: 1800,
        maxInFlight: 1,
        baselineMs: 0,
        outDir: join(dir, 'run'),
      },
      { onPolicy: (_p, _r, index, count, expectedMs, laterMs) => phases.push({ index, count, expectedMs, laterMs }) },
    );
    // The whole run's time left after the first policy: the second one's replay and the settling
    // around it (1 s each, assumed until a settling between two policies has been measured).
    const spanMs = trace.arrivals.at(-1)!.atMs - trace.arrivals[0]!.atMs;
    expect(phases.map((p) => [p.index, p.count, p.expectedMs])).toEqual([
      [0, 2, spanMs / 1800],
      [1, 2, spanMs / 1800],
    ]);
    expect(phases[0]!.laterMs).toBe(1000 + spanMs / 1800 + 1000);
    const [none, fixed] = result.results;
    expect(none!.invocations).toBe(trace.arrivals.length);
    expect(none!.coldStarts).toBe(trace.arrivals.length);
    const expected = coldFromArrivals(trace, 10 * MIN);
    expect(Object.fromEntries(Object.entries(fixed!.perFunction).map(([f, c]) => [f, c.coldStarts]))).toEqual(expected);
    expect(fixed!.coldStarts).toBe(Object.values(expected).reduce((a, b) => a + b, 0));
    expect(fixed!.coldStarts).toBeLessThan(trace.arrivals.length / 2);
    expect(fixed!.keptPeak).toBeGreaterThan(0);
  });

  it('counts the kept sandboxes at trace times from the first arrival, so the series lines up with the arrivals', async () => {
    // a at 0 s is kept 10 minutes, until about 600 s; b at 1210 s ends the replay.
    const known = parseTrace('time,function\n0,a\n1210,b\n', 'known.csv');
    nebula = new Nebula({ meter: null, builtins: false });
    dir = mkdtempSync(join(tmpdir(), 'nebula-replay-'));
    const probe = { name: 'probe', kept: 'probe' } as FunctionSpec;
    const result = await runReplay(nebula, {
      trace: known,
      mapping: { a: { spec: probe, input: 1 }, b: { spec: probe, input: 1 } },
      runtimes: [KEPT],
      policies: ['fixed:10m'],
      speed: 120,
      baselineMs: 0,
      outDir: join(dir, 'run'),
    });
    const { kept, keptSandboxS } = result.results[0]!;
    // Every 15 s of trace time from the first arrival up to the last, none missed or shifted.
    expect(kept.map((k) => k.atMs)).toEqual(Array.from({ length: 80 }, (_, i) => (i + 1) * 15_000));
    const at = (s: number) => kept.find((k) => k.atMs === s * 1000)!.kept;
    // Away from the drop at about 600 s by 30 s of trace time (250 ms here) for the timers' lateness
    // on a busy machine.
    for (let s = 15; s <= 570; s += 15) expect(at(s), `${s} s`).toBe(1);
    for (let s = 630; s <= 1200; s += 15) expect(at(s), `${s} s`).toBe(0);
    // The keep-warm time is a's 10 minutes, give or take the count at 600 s.
    expect(keptSandboxS).toBeGreaterThanOrEqual(585);
    expect(keptSandboxS).toBeLessThanOrEqual(600);
  });

  it("deploys only the replayed runtime's artifact: an image absent from the engine does not fail a replay elsewhere", async () => {
    const known = parseTrace('time,function\n0,a\n1,a\n', 'known.csv');
    nebula = new Nebula({ meter: null, builtins: false });
    dir = mkdtempSync(join(tmpdir(), 'nebula-replay-'));
    const probe = {
      name: 'probe',
      kept: 'probe',
      docker: { image: 'nebula-faas/absent-from-engine:0' },
    } as FunctionSpec;
    const result = await runReplay(nebula, {
      trace: known,
      mapping: { a: { spec: probe, input: 1 } },
      runtimes: [KEPT],
      policies: ['fixed:10m'],
      speed: 60,
      baselineMs: 0,
      outDir: join(dir, 'run'),
    });
    expect(result.results[0]).toMatchObject({ invocations: 2, coldStarts: 1, errors: {} });
  });

  it('an interrupted replay keeps its series of kept sandboxes on disk: its folder reports it up to the stop', async () => {
    nebula = new Nebula({ meter: null, builtins: false });
    dir = mkdtempSync(join(tmpdir(), 'nebula-replay-'));
    const out = join(dir, 'run');
    const probe = { name: 'probe', kept: 'probe' } as FunctionSpec;
    const ac = new AbortController();
    let done = 0;
    const result = await runReplay(
      nebula,
      {
        trace,
        mapping: Object.fromEntries(trace.functions.map((f) => [f, { spec: probe, input: 10 }])),
        runtimes: [KEPT],
        policies: ['fixed:10m', 'none'],
        speed: 1800,
        maxInFlight: 1,
        baselineMs: 0,
        outDir: out,
      },
      // Stopped a third of the way through the first policy.
      { signal: ac.signal, onTick: () => void (++done === Math.floor(trace.arrivals.length / 3) && ac.abort()) },
    );
    expect(result.interrupted).toBe(true);
    expect(result.results.map((p) => p.policy)).toEqual(['fixed:10m']);
    const live = result.results[0]!;
    expect(live.invocations).toBeLessThan(trace.arrivals.length);
    expect(live.keptPeak).toBeGreaterThan(0);
    expect(existsSync(join(out, KEPT_FILE))).toBe(true);

    // As a kill -9 leaves it: no summary.json. The series is read back from its file, as it was counted.
    rmSync(join(out, 'summary.json'));
    const back = readLoadOrReplay(out) as ReplayResult;
    expect(back.interrupted).toBe(true);
    expect(back.notes.join(' ')).toMatch(/the sandboxes kept over time from kept\.jsonl, up to the stop/);
    const [policy] = back.results;
    expect(policy!.kept).toEqual(live.kept);
    expect([policy!.keptPeak, policy!.keptSandboxS, policy!.coldStarts]).toEqual([
      live.keptPeak,
      live.keptSandboxS,
      live.coldStarts,
    ]);
    writeLoadReports(out, back);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).not.toContain('No sandbox was kept.');
  });
});
