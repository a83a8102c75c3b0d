/**
 * Energy shares end to end, against a machine whose truth is known: a runtime that reports
 * planned windows and CPU times, a machine CPU counter that is their sum plus a host, and a meter
 * whose power is a linear model of that CPU use (samples are interval means, stamped at their
 * middles, as the estimate meter's). An invocation's true energy above idle is then the model's
 * watts per core times its CPU time.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Nebula, nowMs, type Prepared, type RunContext, type RunOutcome, type Runtime } from '../../src/index.js';
import { HandMeter } from './hand-meter.js';

const IDLE_W = 20;
const W_PER_CORE = 8;
/** CPU the host itself uses all along, cores. */
const HOST_CORES = 0.02;

interface Planned {
  /** Offsets from the plan's start, ms: the invocation is made at `start` and its function ends at `end`. */
  start: number;
  end: number;
  /** CPU time, ms; null: the sandbox's CPU could not be read. */
  cpuMs: number | null;
  /** Epoch ms the invocation was made (its window and its CPU time begin there). */
  at?: number;
}

/** A runtime whose runs return at once, reporting the planned window and CPU time (input: the plan's index). */
class PlannedRuntime implements Runtime {
  readonly kind = 'wasm';
  constructor(private readonly plan: Planned[]) {}
  async prepare(): Promise<Prepared> {
    return {
      info: {},
      release: async () => undefined,
      run: async (input: string, ctx: RunContext): Promise<RunOutcome> => {
        const p = this.plan[Number(input)]!;
        p.at = ctx.requestAt;
        return {
          exitCode: 0,
          stdout: '1',
          stderr: '',
          functionStartAt: p.at,
          functionEndAt: p.at + p.end - p.start,
          phases: {},
          compiled: false,
          sandbox: 'fresh',
          resources:
            p.cpuMs === null
              ? {
                  cpuMs: null,
                  maxMemoryBytes: null,
                  cpuSource: null,
                  memorySource: null,
                  note: "the container's cgroup was gone",
                }
              : {
                  cpuMs: p.cpuMs,
                  cpuSinceAt: p.at,
                  maxMemoryBytes: 1 << 20,
                  cpuSource: 'rusage',
                  memorySource: 'rusage',
                },
        };
      },
    };
  }
  async close(): Promise<void> {}
}

/** The machine's CPU time (ms) up to epoch ms `t`: the host's plus the invocations', each at an even rate over its window. */
function machineCpu(plan: Planned[], t: number): number {
  let ms = HOST_CORES * t;
  for (const p of plan) {
    if (p.cpuMs === null || p.at === undefined) continue;
    ms += p.cpuMs * Math.min(1, Math.max(0, (t - p.at) / (p.end - p.start)));
  }
  return ms;
}

let nebula: Nebula | undefined;
afterEach(async () => {
  await nebula?.close();
  nebula = undefined;
});

/**
 * Runs a plan: the meter samples the model every `stepMs` of real time from a baseline before
 * the plan until after it; returns the records, the ledger of the whole plan and the truth.
 */
async function runPlan(plan: Planned[], stepMs = 10) {
  // Sampled every stepMs; its nominal interval is longer, so a test worker held up a while (other
  // test files share the cores) is not a gap in the samples.
  const meter = new HandMeter(stepMs * 20);
  nebula = new Nebula({
    meter,
    runtimes: { wasm: new PlannedRuntime(plan) },
    machineCpuMs: () => machineCpu(plan, nowMs()),
    energyDeadlineMs: 600_000,
  });
  const n = nebula;
  let prev = nowMs();
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      await new Promise((r) => setTimeout(r, stepMs));
      const t = nowMs();
      const cores = (machineCpu(plan, t) - machineCpu(plan, prev)) / (t - prev);
      meter.sample(IDLE_W + W_PER_CORE * cores, (prev + t) / 2);
      prev = t;
    }
  })();
  await n.measureBaseline({ durationMs: 150 });
  const t0 = nowMs() + 20;
  const records = await Promise.all(
    plan.map(async (p, i) => {
      await new Promise((r) => setTimeout(r, Math.max(0, t0 + p.start - nowMs())));
      return n.invoke('fib', i, { runtime: 'wasm' });
    }),
  );
  const first = Math.min(...plan.map((p) => p.at!));
  const last = Math.max(...plan.map((p) => p.at! + p.end - p.start));
  while (nowMs() < last + stepMs * 6) await new Promise((r) => setTimeout(r, stepMs));
  await n.settled();
  sampling = false;
  await sampler;
  const ledger = await n.energyLedger({ from: first - stepMs * 3, to: last + stepMs * 3 });
  return { records, ledger, truthJ: (p: Planned) => (W_PER_CORE * (p.cpuMs ?? 0)) / 1000 };
}

const relErr = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

describe('energy shares: each invocation its part of the power above idle, adding up', () => {
  it('with invocations overlapping, gives each the model energy of its CPU time, and the books balance', async () => {
    const plan: Planned[] = [
      { start: 0, end: 300, cpuMs: 240 },
      { start: 50, end: 350, cpuMs: 120 },
      { start: 100, end: 400, cpuMs: 280 },
      { start: 120, end: 380, cpuMs: 60 },
      { start: 200, end: 500, cpuMs: 200 },
      { start: 260, end: 560, cpuMs: 150 },
    ];
    const { records, ledger, truthJ } = await runPlan(plan);
    for (const [i, r] of records.entries()) {
      expect(r.energyStatus).toBe('settled');
      expect(r.energy!.method).toBe('cpu-share');
      expect(relErr(r.energy!.shareJ!, truthJ(plan[i]!))).toBeLessThan(0.15);
      // The window figure holds the others' power too: more than the share wherever they overlapped.
      expect(r.energy!.overlap).toBeGreaterThan(1);
    }
    const windows = records.reduce((a, r) => a + r.energy!.isolatedEnergyWh * 3600, 0);
    const shares = records.reduce((a, r) => a + r.energy!.shareJ!, 0);
    expect(windows / ledger.aboveBaselineJ).toBeGreaterThan(1.5);
    // Conservation: the ledger adds up, and the records' own shares are the ledger's.
    expect(Math.abs(ledger.sharesJ + ledger.unattributedJ - ledger.aboveBaselineJ)).toBeLessThan(
      0.01 * ledger.aboveBaselineJ,
    );
    expect(relErr(shares, ledger.sharesJ)).toBeLessThan(0.01);
    expect(ledger.balance).toBeCloseTo(1, 6);
    expect(ledger.invocations).toBe(6);
    expect(ledger.withoutCpu).toBe(0);
    // The baseline energy went to the invocations by wall time while they ran, and to nobody else.
    const baselineShares = records.reduce((a, r) => a + r.energy!.baselineShareJ, 0);
    expect(relErr(baselineShares, ledger.baselineSharesJ)).toBeLessThan(0.01);
    expect(ledger.baselineSharesJ + ledger.idleJ).toBeCloseTo(ledger.baselineJ, 9);
  });

  it('with one invocation at a time, gives each a share equal to its isolated window figure, and to its truth', async () => {
    const plan: Planned[] = [
      { start: 0, end: 800, cpuMs: 720 },
      { start: 900, end: 1700, cpuMs: 400 },
    ];
    const { records, truthJ } = await runPlan(plan);
    for (const [i, r] of records.entries()) {
      expect(r.energy!.overlap).toBe(1);
      // Alone, with the host's CPU at its idle level, the window's energy above idle is its own, but
      // for the two meter intervals its window cuts (of about 60 here), which the share takes whole.
      expect(relErr(r.energy!.shareJ!, r.energy!.isolatedEnergyWh * 3600)).toBeLessThan(0.01);
      expect(relErr(r.energy!.shareJ!, truthJ(plan[i]!))).toBeLessThan(0.01);
    }
  });

  it('gives an invocation whose CPU time could not be read its window figure and a reason, never losing the record', async () => {
    const plan: Planned[] = [
      { start: 0, end: 300, cpuMs: 200 },
      { start: 100, end: 400, cpuMs: null },
    ];
    const { records, ledger } = await runPlan(plan);
    const unread = records[1]!;
    expect(unread.energyStatus).toBe('settled');
    expect(unread.resources).toMatchObject({ cpuMs: null, note: "the container's cgroup was gone" });
    expect(unread.energy).toMatchObject({ method: 'window', shareJ: null, overlap: 2 });
    expect(unread.energy!.shareNote).toMatch(/no CPU time for its sandbox \(the container's cgroup was gone\)/);
    expect(unread.energy!.isolatedEnergyWh).toBeGreaterThan(0);
    expect(records[0]!.energy!.method).toBe('cpu-share');
    expect(ledger.withoutCpu).toBe(1);
    expect(ledger.balance).toBeCloseTo(1, 6);
  });

  it('refuses a ledger of a bad span, or without a meter, with a clear error', async () => {
    nebula = new Nebula({ meter: new HandMeter(10) });
    await expect(nebula.energyLedger({ from: 10, to: 5 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(nebula.energyLedger(undefined as never)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    const off = new Nebula({ meter: null });
    await expect(off.energyLedger({ from: 1, to: 2 })).rejects.toMatchObject({ code: 'METER_UNAVAILABLE' });
    await off.close();
  });
});
