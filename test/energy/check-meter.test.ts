import { describe, expect, it } from 'vitest';
import { Nebula } from '../../src/index.js';
import { HandMeter } from './hand-meter.js';

describe('checking that a meter can be read', () => {
  it('resolves once the meter gives a reading', async () => {
    const meter = new HandMeter(20);
    const nebula = new Nebula({ meter, builtins: false });
    const check = nebula.checkMeter();
    setTimeout(() => meter.sample(10), 30);
    await expect(check).resolves.toBeUndefined();
    await nebula.close();
  });

  it('fails with METER_UNAVAILABLE when the meter cannot start, naming why', async () => {
    const nebula = new Nebula({ meter: new HandMeter(20, 'no device on /dev/hand0'), builtins: false });
    await expect(nebula.checkMeter()).rejects.toMatchObject({
      code: 'METER_UNAVAILABLE',
      message: 'no device on /dev/hand0',
    });
    await nebula.close();
  });

  it('fails when the meter starts but gives no reading in time, with its last read error', async () => {
    const meter = new HandMeter(20);
    const nebula = new Nebula({ meter, builtins: false });
    setTimeout(() => meter.emit('error', new Error('register 0x3a00 read timed out')), 20);
    await expect(nebula.checkMeter()).rejects.toMatchObject({
      code: 'METER_UNAVAILABLE',
      message: expect.stringMatching(
        /^The meter hand started but gave no reading within 1040 ms: register 0x3a00 read timed out\.$/,
      ) as unknown,
    });
    await nebula.close();
  });

  it('fails with METER_UNAVAILABLE without a meter', async () => {
    const nebula = new Nebula({ meter: null, builtins: false });
    await expect(nebula.checkMeter()).rejects.toMatchObject({ code: 'METER_UNAVAILABLE' });
    await nebula.close();
  });
});
