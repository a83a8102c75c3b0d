import { once } from 'node:events';
import { chmodSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MeterError, RaplMeter, type PowerSample } from '../../src/index.js';
import { meterContract } from './meter.contract.js';
import { tempDir } from '../temp-dir.js';

/** A fake powercap folder: a package and a dram zone whose counters we move by hand. */
function fakePowercap(max = 1_000_000_000) {
  const root = tempDir('powercap');
  const zone = (dir: string, name: string, value: number) => {
    mkdirSync(join(root, dir));
    writeFileSync(join(root, dir, 'name'), `${name}\n`);
    writeFileSync(join(root, dir, 'max_energy_range_uj'), `${max}\n`);
    writeFileSync(join(root, dir, 'energy_uj'), `${value}\n`);
  };
  zone('intel-rapl:0', 'package-0', 5_000);
  zone('intel-rapl:0:0', 'core', 0);
  zone('intel-rapl:0:1', 'dram', 1_000);
  return { root, set: (dir: string, v: number) => writeFileSync(join(root, dir, 'energy_uj'), `${v}\n`) };
}

meterContract('rapl (fake powercap)', async () => ({
  meter: new RaplMeter({ root: fakePowercap().root, intervalMs: 20 }),
}));

describe('RaplMeter', () => {
  it('sums package and dram zones and handles the counter wrapping around', async () => {
    const max = 1_000_000;
    const fake = fakePowercap(max);
    const meter = new RaplMeter({ root: fake.root, intervalMs: 50 });
    const samples: PowerSample[] = [];
    meter.on('sample', (s) => samples.push(s));
    await meter.start();
    // Package 5 000 -> 990 000 (+985 000 uJ), then wraps: 990 000 -> 4 000 is +14 000 uJ; dram +1 000 uJ: 1 J in all.
    fake.set('intel-rapl:0', 990_000);
    await once(meter as never, 'sample');
    fake.set('intel-rapl:0', 4_000);
    fake.set('intel-rapl:0:1', 2_000);
    await once(meter as never, 'sample');
    await meter.stop();
    const wh = samples.at(-1)!.energyWh!;
    expect(wh * 3600).toBeCloseTo(1, 6);
    expect(samples.some((s) => s.powerW > 0)).toBe(true);
  });

  it('gives METER_UNAVAILABLE, saying why, where powercap is missing or unreadable', async () => {
    await expect(new RaplMeter({ root: '/nonexistent/powercap' }).start()).rejects.toMatchObject({
      code: 'METER_UNAVAILABLE',
    });
    const empty = tempDir('powercap-empty');
    await expect(new RaplMeter({ root: empty }).start()).rejects.toThrow(/No readable RAPL zone/);
    if (process.getuid?.() !== 0) {
      const fake = fakePowercap();
      chmodSync(join(fake.root, 'intel-rapl:0', 'energy_uj'), 0o000);
      chmodSync(join(fake.root, 'intel-rapl:0:1', 'energy_uj'), 0o000);
      await expect(new RaplMeter({ root: fake.root }).start()).rejects.toMatchObject({ code: 'METER_UNAVAILABLE' });
    }
  });
});

describe('RaplMeter when its files misbehave mid-run', () => {
  /** Waits for the meter's next event: a sample or an error. */
  async function next(meter: RaplMeter): Promise<{ sample?: PowerSample; error?: MeterError }> {
    return new Promise((resolve) => {
      const onSample = (s: PowerSample) => done({ sample: s });
      const onError = (e: Error) => done({ error: e as MeterError });
      const done = (v: { sample?: PowerSample; error?: MeterError }) => {
        meter.off('sample', onSample);
        meter.off('error', onError);
        resolve(v);
      };
      meter.on('sample', onSample);
      meter.on('error', onError);
    });
  }

  async function started() {
    const fake = fakePowercap(262_143_328_850);
    const meter = new RaplMeter({ root: fake.root, intervalMs: 20 });
    await meter.start();
    await next(meter);
    return { fake, meter };
  }

  it.each([
    ['garbage', 'garbage\n'],
    ['an empty file', ''],
    ['a negative number', '-5\n'],
    ['a number past max_energy_range_uj', '999999999999999\n'],
  ])(
    '%s in energy_uj: an error naming the zone, never a NaN or a spike; the next reading covers the interval',
    async (_what, text) => {
      const { fake, meter } = await started();
      writeFileSync(join(fake.root, 'intel-rapl:0', 'energy_uj'), text);
      const bad = await next(meter);
      expect(bad.sample).toBeUndefined();
      expect(bad.error).toMatchObject({
        code: 'METER_PROTOCOL',
        details: { reason: 'garbage' },
        message: expect.stringContaining('package-0'),
      });
      // +2 J on the package since the last good reading (5 000 uJ), 0 on dram.
      fake.set('intel-rapl:0', 2_005_000);
      let good = await next(meter);
      while (!good.sample) good = await next(meter);
      await meter.stop();
      expect(good.sample.energyWh! * 3600).toBeCloseTo(2, 6);
      expect(Number.isFinite(good.sample.powerW)).toBe(true);
    },
  );

  it('a counter that goes backwards (a reset, not a wrap): an error, no megawatt sample, and readings go on from the new value', async () => {
    const { fake, meter } = await started();
    const samples: PowerSample[] = [];
    meter.on('sample', (s) => samples.push(s));
    fake.set('intel-rapl:0', 10);
    let r = await next(meter);
    while (!r.error) r = await next(meter);
    expect(r.error).toMatchObject({
      code: 'METER_PROTOCOL',
      details: { reason: 'reset' },
      message: expect.stringContaining('went backwards'),
    });
    fake.set('intel-rapl:0', 1_000_010);
    while (!samples.some((s) => s.energyWh! > 0)) await next(meter);
    await meter.stop();
    expect(samples.every((s) => s.powerW < 1000)).toBe(true);
    expect(samples.at(-1)!.energyWh! * 3600).toBeCloseTo(1, 6);
  });

  it('a zone file that vanishes: METER_UNAVAILABLE errors, and the energy of the other zones is not lost meanwhile', async () => {
    const { fake, meter } = await started();
    const dram = join(fake.root, 'intel-rapl:0:1');
    renameSync(dram, `${dram}.gone`);
    fake.set('intel-rapl:0', 1_005_000); // +1 J on the package while dram is unreadable
    let r = await next(meter);
    while (!r.error) r = await next(meter);
    expect(r.error).toMatchObject({
      code: 'METER_UNAVAILABLE',
      details: { reason: 'unreadable' },
      message: expect.stringContaining('dram'),
    });
    renameSync(`${dram}.gone`, dram);
    fake.set('intel-rapl:0:1', 501_000); // +0.5 J on dram
    r = await next(meter);
    while (!r.sample) r = await next(meter);
    await meter.stop();
    expect(r.sample.energyWh! * 3600).toBeCloseTo(1.5, 6);
  });

  it('refuses an interval that is not a positive number of ms (it would poll in a tight loop)', () => {
    for (const intervalMs of [0, -5, Number.NaN, Number.POSITIVE_INFINITY])
      expect(() => new RaplMeter({ intervalMs })).toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENT' }) as Error,
      );
  });
});
