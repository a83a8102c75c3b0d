import { describe, expect, it } from 'vitest';
import { GudeMeter, UsageError, type GudeMeterOptions } from '../../../src/index.js';
import { GudeSimulator, type GudeSimulatorOptions } from '../../../src/meters/gude/index.js';

const expectInvalid = (make: () => unknown, option: RegExp) => {
  let thrown: unknown;
  try {
    make();
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(UsageError);
  expect(thrown).toMatchObject({ code: 'INVALID_ARGUMENT' });
  expect((thrown as Error).message).toMatch(option);
};

describe('GudeMeter and GudeSimulator arguments', () => {
  it.each<[string, Partial<GudeMeterOptions> | undefined, RegExp]>([
    ['no options', undefined, /host/],
    ['no host', {}, /host/],
    ['an empty host', { host: '  ' }, /host/],
    ['port 0', { host: 'h', port: 0 }, /port must be a whole number from 1 to 65535/],
    ['port 70000', { host: 'h', port: 70_000 }, /port/],
    ['a fractional port', { host: 'h', port: 502.5 }, /port/],
    ['outlet 0', { host: 'h', outlet: { port: 0 } }, /outlet must be a whole number from 1 to 64/],
    ['outlet 65', { host: 'h', outlet: { port: 65 } }, /outlet/],
    ['line 49', { host: 'h', outlet: { line: 49 } }, /line must be a whole number from 1 to 48/],
    ['an outlet of the wrong shape', { host: 'h', outlet: { socket: 1 } as never }, /port: n/],
    ['interval 0', { host: 'h', intervalMs: 0 }, /intervalMs/],
    ['a negative interval', { host: 'h', intervalMs: -100 }, /intervalMs/],
    ['a NaN interval', { host: 'h', intervalMs: Number.NaN }, /intervalMs/],
    ['an infinite timeout', { host: 'h', timeoutMs: Number.POSITIVE_INFINITY }, /timeoutMs/],
    ['a negative fixed voltage', { host: 'h', voltage: -230 }, /voltage/],
    ['a NaN fixed voltage', { host: 'h', voltage: Number.NaN }, /voltage/],
    ['an unknown power mode', { host: 'h', power: 'apparent' as never }, /power must be one of 'uipf', 'active'/],
    ['unit id 256', { host: 'h', unitId: 256 }, /unitId/],
  ])('GudeMeter refuses %s with INVALID_ARGUMENT', (_what, options, message) => {
    expectInvalid(() => new GudeMeter(options as GudeMeterOptions), message);
  });

  it.each<[string, GudeSimulatorOptions, RegExp]>([
    ['port -1', { port: -1 }, /port/],
    ['0 outlets', { outlets: 0 }, /outlets must be a whole number from 1 to 64/],
    ['65 outlets', { outlets: 65 }, /outlets/],
    ['0 lines', { lines: 0 }, /lines/],
    ['a NaN trace', { trace: Number.NaN }, /trace/],
    ['a negative trace', { trace: -5 }, /trace/],
    ['an infinite constant trace', { trace: { constantW: Number.POSITIVE_INFINITY } }, /constantW/],
    ['an unknown trace', { trace: 'sine' as never }, /trace/],
    ['voltage 0', { voltageV: 0 }, /voltageV/],
    ['power factor 1.5', { powerFactor: 1.5 }, /powerFactor/],
    ['maxW below idleW', { idleW: 50, maxW: 40 }, /maxW/],
    ['an unknown fault', { fault: 'melted' as never }, /fault must be one of/],
  ])('GudeSimulator refuses %s with INVALID_ARGUMENT', (_what, options, message) => {
    expectInvalid(() => new GudeSimulator(options), message);
  });

  it('refuses an unknown fault set on a running simulator, keeping the old one', () => {
    const sim = new GudeSimulator({ fault: 'frozen' });
    expectInvalid(() => (sim.fault = 'melted' as never), /fault/);
    expect(sim.fault).toBe('frozen');
  });
});
