import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EnergyTracker, GudeMeter, Nebula, nowMs } from '../../src/index.js';
import { GudeSimulator } from '../../src/meters/gude/index.js';

/** A known trace: 40 W, plus 20 W while `busy` windows are open. */
const busy: Array<[number, number]> = [];
const truth = (t: number) => 40 + (busy.some(([a, b]) => t >= a && t < b) ? 20 : 0);

let sim: GudeSimulator;
let addr: { host: string; port: number };
beforeAll(async () => {
  sim = new GudeSimulator({ trace: truth, voltageV: 230, powerFactor: 1 });
  addr = await sim.start();
});
afterAll(async () => {
  await sim.stop();
});

describe('energy attribution against the simulator', () => {
  it('measures a baseline and subtracts it from an invocation window', async () => {
    const meter = new GudeMeter({ ...addr, intervalMs: 20 });
    const tracker = new EnergyTracker(meter);
    await tracker.start();
    const base = await tracker.measureBaseline(300);
    expect(base.powerW).toBeGreaterThan(39);
    expect(base.powerW).toBeLessThan(41);
    expect(base.samples).toBeGreaterThan(5);

    const from = nowMs();
    busy.push([from, from + 200]);
    await new Promise((r) => setTimeout(r, 200));
    const to = nowMs();
    const a = await tracker.attribute(from, to);
    expect(a.energy).not.toBeNull();
    const e = a.energy!;
    expect(e.quality).toBe('measured');
    expect(e.avgPowerW).toBeGreaterThan(55);
    expect(e.avgPowerW).toBeLessThan(61);
    expect(e.isolatedPowerW).toBeCloseTo(e.avgPowerW - base.powerW, 9);
    expect(e.energyWh).toBeCloseTo(e.energyJ / 3600, 12);
    expect(e.energyJ).toBeCloseTo(e.avgPowerW * ((to - from) / 1000), 6);

    // Shorter than one sampling interval: interpolated, and said so.
    const mid = nowMs() + 30;
    await new Promise((r) => setTimeout(r, 40));
    const short = await tracker.attribute(mid, mid + 5);
    expect(short.energy?.quality).toBe('interpolated');
    expect(short.energy?.samples).toBeLessThanOrEqual(1);
    await tracker.stop();
  });

  it('gives energy null with a reason across a meter gap, never a made-up number', async () => {
    const meter = new GudeMeter({ ...addr, intervalMs: 20 });
    const tracker = new EnergyTracker(meter);
    await tracker.start();
    const a = await tracker.attribute(nowMs() - 60_000, nowMs());
    expect(a.energy).toBeNull();
    expect(a.note?.reason).toBe('NOT_YET_SAMPLED');
    await tracker.stop();
  });

  it('attributes batch energy per invocation with a 95% interval', async () => {
    const meter = new GudeMeter({ ...addr, intervalMs: 10 });
    const tracker = new EnergyTracker(meter);
    await tracker.start();
    await tracker.measureBaseline(200);
    // 100 "invocations" of 2 ms each at +20 W, back to back with 2 ms pauses.
    const from = nowMs();
    for (let i = 0; i < 100; i++) busy.push([from + i * 4, from + i * 4 + 2]);
    await new Promise((r) => setTimeout(r, 400));
    const b = await tracker.batch(from, from + 400, 100);
    const expectedJ = 20 * 0.002; // 40 mJ above idle per invocation
    expect(b.n).toBe(100);
    expect(b.samples).toBeGreaterThan(10);
    expect(b.isolatedEnergyPerInvocationJ).toBeGreaterThan(expectedJ * 0.5);
    expect(b.isolatedEnergyPerInvocationJ).toBeLessThan(expectedJ * 1.5);
    expect(b.ci95Wh[0]).toBeLessThanOrEqual(b.isolatedEnergyPerInvocationWh);
    expect(b.ci95Wh[1]).toBeGreaterThanOrEqual(b.isolatedEnergyPerInvocationWh);
    await tracker.stop();
  });

  it("completes a record's energy through Nebula, with the meter named", async () => {
    const nebula = new Nebula({ meter: new GudeMeter({ ...addr, intervalMs: 20 }) });
    await nebula.measureBaseline({ durationMs: 200 });
    const rec = await nebula.invoke('fib', 25);
    await nebula.close();
    expect(rec.energy?.meter).toBe(`gude:${addr.host}:${addr.port}/port1`);
    expect(rec.energy?.window.from).toBe(rec.timing.requestAt + rec.timing.prepareMs);
    expect(rec.energy?.window.to).toBe(rec.timing.functionEndAt);
    expect(rec.energy?.baselineW).toBeGreaterThan(0);
  });
});
