import { afterEach, describe, expect, it } from 'vitest';
import { GudeMeter, type PowerSample } from '../../../src/index.js';
import { GudeSimulator } from '../../../src/meters/gude/index.js';
import { meterContract } from '../meter.contract.js';

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const s of stops.splice(0)) await s();
});

async function collect(meter: GudeMeter, ms: number): Promise<{ samples: PowerSample[]; errors: Error[] }> {
  const samples: PowerSample[] = [];
  const errors: Error[] = [];
  meter.on('sample', (s) => samples.push(s));
  meter.on('error', (e) => errors.push(e));
  await meter.start();
  stops.push(() => meter.stop());
  await new Promise((r) => setTimeout(r, ms));
  return { samples, errors };
}

async function simulator(opts: ConstructorParameters<typeof GudeSimulator>[0]) {
  const sim = new GudeSimulator(opts);
  const addr = await sim.start();
  stops.push(() => sim.stop());
  return { sim, ...addr };
}

meterContract('gude', async () => {
  const sim = new GudeSimulator({ trace: 75 });
  const { host, port } = await sim.start();
  return { meter: new GudeMeter({ host, port, intervalMs: 20 }), done: () => sim.stop() };
});

describe('GudeMeter against the simulator over a real socket', () => {
  it('reads an outlet and a line, computing U x I x PF, with the device fields alongside', async () => {
    const { host, port } = await simulator({ trace: 100, voltageV: 230, powerFactor: 0.9 });
    const outlet = await collect(new GudeMeter({ host, port, outlet: { port: 3 }, intervalMs: 20 }), 200);
    const line = await collect(new GudeMeter({ host, port, outlet: { line: 1 }, intervalMs: 20 }), 200);
    for (const { samples } of [outlet, line]) {
      expect(samples.length).toBeGreaterThan(3);
      const s = samples.at(-1)!;
      expect(s.voltageV).toBe(230);
      expect(s.powerFactor).toBe(0.9);
      expect(s.activePowerW).toBe(100);
      expect(s.currentA).toBeCloseTo(100 / 0.9 / 230, 3);
      expect(Math.abs(s.powerW - 100) / 100).toBeLessThan(0.01);
    }
  });

  it('uses the active-power field with power: "active", and a fixed voltage when given', async () => {
    const { host, port } = await simulator({ trace: 57.6, voltageV: 230, powerFactor: 1 });
    const active = await collect(new GudeMeter({ host, port, power: 'active', intervalMs: 20 }), 150);
    expect(active.samples.at(-1)!.powerW).toBe(58); // the device's 1 W resolution
    const fixed = await collect(new GudeMeter({ host, port, voltage: 240, intervalMs: 20 }), 150);
    const s = fixed.samples.at(-1)!;
    expect(s.voltageV).toBe(240);
    expect(s.powerW).toBeCloseTo(240 * s.currentA! * s.powerFactor!, 9);
  });

  it('keeps going when the server disappears and comes back', async () => {
    const sim = new GudeSimulator({ trace: 42 });
    const { host, port } = await sim.start();
    // collect() returns the live arrays: they keep filling after it resolves.
    const { samples, errors } = await collect(new GudeMeter({ host, port, intervalMs: 20, timeoutMs: 200 }), 150);
    await sim.stop();
    const before = samples.length;
    await new Promise((r) => setTimeout(r, 400));
    const during = samples.length - before;
    const again = new GudeSimulator({ trace: 42, port });
    await again.start();
    stops.push(() => again.stop());
    await new Promise((r) => setTimeout(r, 2500));
    expect(before).toBeGreaterThan(2);
    expect(during).toBe(0);
    expect(errors.length).toBeGreaterThan(0);
    expect(samples.length - before).toBeGreaterThan(5);
  });

  it('keeps polling when a sample or error listener throws, and nothing escapes to the host', async () => {
    const { sim, host, port } = await simulator({ trace: 30 });
    const meter = new GudeMeter({ host, port, intervalMs: 20, timeoutMs: 100 });
    let samples = 0;
    let errors = 0;
    meter.on('sample', () => {
      samples++;
      throw new Error('a listener bug');
    });
    meter.on('error', () => {
      errors++;
      throw new Error('another listener bug');
    });
    await meter.start().catch(() => undefined); // the first sample's listener throws out of start()
    stops.push(() => meter.stop());
    while (samples < 4) await new Promise((r) => setTimeout(r, 20));
    sim.fault = 'exception';
    while (errors < 3) await new Promise((r) => setTimeout(r, 20));
    sim.fault = 'none';
    const after = samples;
    while (samples < after + 2) await new Promise((r) => setTimeout(r, 20));
    expect(samples).toBeGreaterThanOrEqual(after + 2);
  });

  it('refuses to start when nothing listens, with METER_UNAVAILABLE', async () => {
    const meter = new GudeMeter({ host: '127.0.0.1', port: 1, timeoutMs: 300 });
    await expect(meter.start()).rejects.toMatchObject({ code: 'METER_UNAVAILABLE' });
  });
});
