import { describe, expect, it } from 'vitest';
import { BLOCK_REGISTERS, decodeBlock, encodeBlock, sensorBase } from '../../../src/meters/gude/index.js';
import { checkReading } from '../../../src/meters/gude/register-map.js';

describe('Gude register map', () => {
  it('places outlet and line sensor blocks as the device does (1-based options)', () => {
    expect(sensorBase({ port: 1 })).toBe(0x3a00);
    expect(sensorBase({ port: 2 })).toBe(0x3a00 + 0x120);
    expect(sensorBase({ line: 1 })).toBe(0x400);
    expect(sensorBase({ line: 3 })).toBe(0x400 + 2 * 0x120);
    expect(() => sensorBase({ port: 0 })).toThrow(
      expect.objectContaining({
        code: 'INVALID_ARGUMENT',
        message: expect.stringMatching(/outlet must be a whole number/),
      }),
    );
    expect(sensorBase({ port: 64 })).toBe(0x3a00 + 63 * 0x120);
    expect(sensorBase({ line: 48 })).toBe(0x400 + 47 * 0x120);
    expect(BLOCK_REGISTERS).toBe(26);
  });

  it('decodes 32-bit values high word first, scaled fields and a signed power angle', () => {
    const b = Buffer.alloc(52);
    b.writeUInt32BE(70_000, 0); // energy Wh, above 65535: needs both registers
    b.writeUInt32BE(123, 4);
    b.writeUInt32BE(231, 8);
    b.writeUInt32BE(1_234, 12); // mA
    b.writeUInt32BE(4_998, 16); // 0.01 Hz
    b.writeUInt32BE(950, 20); // 0.001
    b.writeInt32BE(-183, 24); // 0.1 degree, signed
    b.writeUInt32BE(90_000, 48); // seconds since reset
    const r = decodeBlock(b);
    expect(r).toMatchObject({
      energyWh: 70_000,
      activePowerW: 123,
      voltageV: 231,
      currentA: 1.234,
      frequencyHz: 49.98,
      powerFactor: 0.95,
      powerAngleDeg: -18.3,
      secondsSinceReset: 90_000,
    });
    expect(decodeBlock(encodeBlock(r))).toEqual(r);
  });

  it('refuses a block of the wrong length with METER_PROTOCOL', () => {
    expect(() => decodeBlock(Buffer.alloc(50))).toThrow(expect.objectContaining({ code: 'METER_PROTOCOL' }));
  });

  it('reads every field as signed, as the device sends it: an all-0xFF block is -1 everywhere', () => {
    const r = decodeBlock(Buffer.alloc(52, 0xff));
    expect(r).toMatchObject({ energyWh: -1, activePowerW: -1, voltageV: -1, currentA: -0.001, powerFactor: -0.001 });
  });

  it('refuses implausible readings with METER_PROTOCOL naming the field; accepts real ones', () => {
    const good = decodeBlock(
      encodeBlock({
        energyWh: 12,
        activePowerW: 60,
        voltageV: 230,
        currentA: 0.27,
        frequencyHz: 50,
        powerFactor: 0.95,
        powerAngleDeg: 18,
        apparentPowerVA: 63,
        reactivePowerVAR: 20,
        resettableEnergyWh: 12,
        secondsSinceReset: 5,
      }),
    );
    expect(() => checkReading(good)).not.toThrow();
    const cases: Array<[Partial<typeof good>, string]> = [
      [{ voltageV: -1 }, 'voltageV'],
      [{ voltageV: 0xffffffff }, 'voltageV'],
      [{ currentA: 4_294_967.295 }, 'currentA'],
      [{ activePowerW: 50_000 }, 'activePowerW'],
      [{ powerFactor: 1.2 }, 'powerFactor'],
      [{ powerFactor: Number.NaN }, 'powerFactor'],
      [{ energyWh: -5 }, 'energyWh'],
    ];
    for (const [change, field] of cases)
      expect(() => checkReading({ ...good, ...change })).toThrow(
        expect.objectContaining({
          code: 'METER_PROTOCOL',
          details: expect.objectContaining({ reason: 'implausible', field }),
        }),
      );
  });
});
