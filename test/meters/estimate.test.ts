import { describe, expect, it } from 'vitest';
import { EstimateMeter, Nebula, type PowerSample } from '../../src/index.js';
import { meterContract } from './meter.contract.js';

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
    await new Promise((r) => setTimeout(r, 150));
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
