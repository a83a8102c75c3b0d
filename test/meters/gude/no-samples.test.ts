/** Every wait on a meter ends, also when the meter stops yielding samples (issue: the deadline timer could fire early and was not re-armed). */
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { EnergyTracker, GudeMeter, Nebula, nowMs } from '../../../src/index.js';
import { GudeSimulator } from '../../../src/meters/gude/index.js';

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s();
});

async function faultySetup(fault: 'exception' | 'frozen' | 'all-ff') {
  const sim = new GudeSimulator({ trace: 50 });
  const addr = await sim.start();
  stops.push(() => sim.stop());
  const meter = new GudeMeter({ ...addr, intervalMs: 20, timeoutMs: 100 });
  return { sim, meter, fault };
}

describe('waits on a Gude meter that yields no samples', () => {
  it.each(['exception', 'all-ff', 'frozen'] as const)(
    'every one of many staggered attribute() waits ends with no energy and a reason (%s)',
    async (fault) => {
      const { sim, meter } = await faultySetup(fault);
      const tracker = new EnergyTracker(meter);
      stops.push(() => tracker.stop());
      await tracker.start();
      sim.fault = fault;
      await once(meter as never, 'error');
      const from = nowMs();
      // Many waits with distinct deadlines: an early timer that is not re-armed leaves one pending for ever.
      const waits = Array.from({ length: 100 }, (_, i) => tracker.attribute(from, from + i * 1.7));
      const results = await Promise.all(waits);
      for (const r of results) {
        expect(r.energy).toBeNull();
        expect(r.note?.message).toMatch(/no energy figure/);
        expect(['METER_OUTAGE', 'METER_PROTOCOL']).toContain(r.note?.reason);
      }
    },
  );

  it('invoke() returns its record, measureBaseline() and attributeBatch() reject, once the meter yields nothing', async () => {
    const { sim, meter } = await faultySetup('exception');
    const nebula = new Nebula({ meter });
    stops.push(() => nebula.close());
    const first = await nebula.invoke('fib', 10, { waitForEnergy: true });
    expect(first.energy).not.toBeNull();
    sim.fault = 'exception';
    await once(meter as never, 'error');
    const rec = await nebula.invoke('fib', 10, { waitForEnergy: true });
    expect(rec).toMatchObject({ ok: true, result: 55, energy: null, energyStatus: 'unavailable' });
    expect(rec.energyNote?.message).toMatch(/no energy figure/);
    await expect(nebula.measureBaseline({ durationMs: 50 })).rejects.toMatchObject({ code: 'METER_UNAVAILABLE' });
    const from = nowMs();
    await expect(nebula.attributeBatch(from, from + 10, 5)).rejects.toMatchObject({ code: 'METER_UNAVAILABLE' });
  });
});
