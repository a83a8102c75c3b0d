import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RaplMeter, type PowerSample } from '../../src/index.js';
import { meterContract } from './meter.contract.js';

/** A fake powercap folder: a package and a dram zone whose counters we move by hand. */
function fakePowercap(max = 1_000_000_000) {
  const root = mkdtempSync(join(tmpdir(), 'nebula-powercap-'));
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

meterContract('rapl (fake powercap)', async () => ({ meter: new RaplMeter({ root: fakePowercap().root, intervalMs: 20 }) }));

describe('RaplMeter', () => {
  it('sums package and dram zones and handles the counter wrapping around', async () => {
    const max = 1_000_000;
    const fake = fakePowercap(max);
    const meter = new RaplMeter({ root: fake.root, intervalMs: 50 });
    const samples: PowerSample[] = [];
    meter.on('sample', (s) => samples.push(s));
    await meter.start();
    // Package wraps: 5 000 -> 4 000 is +999 000 uJ; dram +1 000 uJ: 1 J in all.
    fake.set('intel-rapl:0', 4_000);
    fake.set('intel-rapl:0:1', 2_000);
    await new Promise((r) => setTimeout(r, 80));
    await meter.stop();
    expect(samples.length).toBeGreaterThan(0);
    const wh = samples.at(-1)!.energyWh!;
    expect(wh * 3600).toBeCloseTo(1, 6);
    expect(samples[0]!.powerW).toBeGreaterThan(0);
  });

  it('gives METER_UNAVAILABLE, saying why, where powercap is missing or unreadable', async () => {
    await expect(new RaplMeter({ root: '/nonexistent/powercap' }).start()).rejects.toMatchObject({ code: 'METER_UNAVAILABLE' });
    const empty = mkdtempSync(join(tmpdir(), 'nebula-powercap-empty-'));
    await expect(new RaplMeter({ root: empty }).start()).rejects.toThrow(/No readable RAPL zone/);
    if (process.getuid?.() !== 0) {
      const fake = fakePowercap();
      chmodSync(join(fake.root, 'intel-rapl:0', 'energy_uj'), 0o000);
      chmodSync(join(fake.root, 'intel-rapl:0:1', 'energy_uj'), 0o000);
      await expect(new RaplMeter({ root: fake.root }).start()).rejects.toMatchObject({ code: 'METER_UNAVAILABLE' });
    }
  });
});
