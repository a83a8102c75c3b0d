import { describe, expect, it } from 'vitest';
import { EstimateMeter, Nebula, type PowerSample } from '../../src/index.js';
import { coreTimes, utilisation } from '../../src/meters/cpu-load.js';
import { meterContract, untilSamples } from './meter.contract.js';

meterContract('estimate', async () => ({ meter: new EstimateMeter({ intervalMs: 20 }) }));

describe('EstimateMeter', () => {
  it('labels itself and every sample as an estimate, within the model bounds', async () => {
    const meter = new EstimateMeter({ intervalMs: 20, idleWPerCore: 3, maxWPerCore: 9, cores: 2 });
    expect(meter.estimate).toBe(true);
    expect(meter.powerAt(0)).toBe(6);
    expect(meter.powerAt(1)).toBe(18);
    expect(meter.powerAt(0.5)).toBe(12);
    const samples: PowerSample[] = [];
    meter.on('sample', (s) => samples.push(s));
    await meter.start();
    await untilSamples(meter, samples, 3);
    await meter.stop();
    expect(samples.length).toBeGreaterThan(2);
    expect(samples.every((s) => s.estimate === true && s.powerW >= 6 && s.powerW <= 18)).toBe(true);
  });

  it('makes records say their energy is an estimate and which meter gave it', async () => {
    const nebula = new Nebula({ meter: new EstimateMeter({ intervalMs: 20 }) });
    const rec = await nebula.invoke('prime', 30000);
    await nebula.close();
    expect(rec.energy).not.toBeNull();
    expect(rec.energy).toMatchObject({ meter: 'estimate', estimate: true });
  });
});

describe('EstimateMeter when the CPU time counters misbehave', () => {
  const now = coreTimes();
  const later = now.map((c) => ({ busy: c.busy + 30, total: c.total + 100 }));

  it('reads the utilisation of this host from counters that move forward', () => {
    expect(utilisation(now, later)).toEqual({ u: 0.3 });
    const u = utilisation(now, coreTimes()).u;
    if (u !== undefined) expect(u).toBeGreaterThanOrEqual(0);
  });

  it('leaves out a core whose counters went backwards, and says so when none moved forward', () => {
    const oneBack = later.map((c, i) => (i === 0 ? { busy: c.busy - 1000, total: c.total - 1000 } : c));
    if (now.length > 1) expect(utilisation(now, oneBack)).toEqual({ u: 0.3 });
    // Idle time going backwards on its own (busy up, total down) is no reading either.
    const idleBack = now.map((c) => ({ busy: c.busy + 50, total: c.total + 10 }));
    expect(utilisation(now, idleBack)).toEqual({ u: undefined, why: 'backwards' });
    expect(utilisation(later, now)).toEqual({ u: undefined, why: 'backwards' });
  });

  it('gives no reading (never the idle power) when no tick passed or a core went on or off line', () => {
    expect(utilisation(now, now)).toEqual({ u: undefined, why: 'still' });
    expect(utilisation(now, [...later, { busy: 0, total: 0 }])).toEqual({ u: undefined, why: 'changed' });
  });

  it('refuses options that would spin or invert the model', () => {
    for (const o of [
      { intervalMs: 0 },
      { intervalMs: -5 },
      { intervalMs: Number.NaN },
      { idleWPerCore: 10, maxWPerCore: 2 },
      { cores: 0 },
      { cores: 1.5 },
      { idleWPerCore: -1 },
    ])
      expect(() => new EstimateMeter(o)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }) as Error);
    expect(new EstimateMeter({ idleWPerCore: 10 }).powerAt(1)).toBeGreaterThanOrEqual(
      new EstimateMeter({ idleWPerCore: 10 }).powerAt(0),
    );
  });
});
