/**
 * The Gude Expert Power Control register map (1104/1105 and the other Gude PDUs share it):
 * input registers (function 0x04), 0-based addresses, every value 32 bits in two registers,
 * high word first, signed (as Gude's manuals state). Line sensor `0x400 + index*0x120 + field*2`,
 * outlet (port) sensor `0x3a00 + index*0x120 + field*2`, where `index` is 0 for the device's
 * line/outlet 1: the options of `GudeMeter` number lines and outlets from 1 as the device's front
 * panel does.
 */
import { MeterError, UsageError } from '../../errors.js';

/** Field numbers of one sensor block. */
const FIELD = {
  energyWh: 0,
  activePowerW: 1,
  voltageV: 2,
  currentMilliA: 3,
  frequencyCentiHz: 4,
  powerFactorMilli: 5,
  powerAngleDeciDeg: 6,
  apparentPowerVA: 7,
  reactivePowerVAR: 8,
  resettableEnergyWh: 9,
  secondsSinceReset: 12,
} as const;

/** Registers in one contiguous read: fields 0..12, two registers each. */
export const BLOCK_REGISTERS = 26;

/** Registers between one sensor block and the next. */
export const BLOCK_STRIDE = 0x120;

/**
 * How many sensors the address map has room for: line sensors span 0x400-0x39ff (48 blocks),
 * outlet sensors 0x3a00-0x81ff (64 blocks). A device has fewer; it answers a Modbus exception
 * (illegal data address) for a sensor it lacks.
 */
export const MAX_SENSORS = { port: 64, line: 48 } as const;

/** Which sensor to read: an outlet (port) or a supply line, numbered from 1. */
export type GudeTarget = { port: number } | { line: number };

/** `port3` or `line1`, as in meter names and messages. */
export function targetLabel(target: GudeTarget): string {
  return 'port' in target ? `port${target.port}` : `line${target.line}`;
}

/**
 * The first register of a sensor block.
 * @throws UsageError `INVALID_ARGUMENT` for a target that is not `{ port: 1..64 }` or `{ line: 1..48 }`.
 */
export function sensorBase(target: GudeTarget): number {
  const kind =
    target && typeof target === 'object'
      ? 'port' in target
        ? 'port'
        : 'line' in target
          ? 'line'
          : undefined
      : undefined;
  if (!kind)
    throw new UsageError(
      'INVALID_ARGUMENT',
      `A Gude target is { port: n } (an outlet) or { line: n }, got ${JSON.stringify(target)}.`,
    );
  const index = (target as Record<string, unknown>)[kind];
  const max = MAX_SENSORS[kind];
  if (typeof index !== 'number' || !Number.isInteger(index) || index < 1 || index > max)
    throw new UsageError(
      'INVALID_ARGUMENT',
      `Gude ${kind === 'port' ? 'outlet' : 'line'} must be a whole number from 1 to ${max}, got ${String(index)}.`,
    );
  return (kind === 'port' ? 0x3a00 : 0x400) + (index - 1) * BLOCK_STRIDE;
}

/** One decoded sensor block, in SI-ish units. */
export interface GudeReading {
  energyWh: number;
  activePowerW: number;
  voltageV: number;
  currentA: number;
  frequencyHz: number;
  powerFactor: number;
  /** Signed, degrees. */
  powerAngleDeg: number;
  apparentPowerVA: number;
  reactivePowerVAR: number;
  resettableEnergyWh: number;
  secondsSinceReset: number;
}

/** Decodes the 26 registers (52 bytes) of one block. @throws MeterError `METER_PROTOCOL` on a wrong length. */
export function decodeBlock(bytes: Buffer): GudeReading {
  if (bytes.length !== BLOCK_REGISTERS * 2)
    throw new MeterError(
      'METER_PROTOCOL',
      `The Gude reply holds ${bytes.length} bytes; a sensor block is ${BLOCK_REGISTERS * 2}.`,
      {
        details: { reason: 'garbage', bytes: bytes.length },
      },
    );
  const s = (field: number) => bytes.readInt32BE(field * 4);
  return {
    energyWh: s(FIELD.energyWh),
    activePowerW: s(FIELD.activePowerW),
    voltageV: s(FIELD.voltageV),
    currentA: s(FIELD.currentMilliA) / 1000,
    frequencyHz: s(FIELD.frequencyCentiHz) / 100,
    powerFactor: s(FIELD.powerFactorMilli) / 1000,
    powerAngleDeg: s(FIELD.powerAngleDeciDeg) / 10,
    apparentPowerVA: s(FIELD.apparentPowerVA),
    reactivePowerVAR: s(FIELD.reactivePowerVAR),
    resettableEnergyWh: s(FIELD.resettableEnergyWh),
    secondsSinceReset: s(FIELD.secondsSinceReset),
  };
}

/**
 * What a reading can be: bounds well past any PDU line or outlet (mains is at most 240 V + 10%,
 * a PDU's feed a few tens of amperes). A value outside is a broken reply (an all-0xFF block reads
 * -1 everywhere, or 4.3e9 V unsigned), never a load. The fields a power sample is made of are checked.
 */
const PLAUSIBLE = {
  voltageV: [0, 300],
  currentA: [0, 100],
  activePowerW: [0, 30_000],
  powerFactor: [0, 1],
  energyWh: [0, Number.MAX_SAFE_INTEGER],
} as const satisfies Partial<Record<keyof GudeReading, readonly [number, number]>>;

/** @throws MeterError `METER_PROTOCOL` (`details.reason: 'implausible'`) naming the first field out of range. */
export function checkReading(r: GudeReading): void {
  for (const [field, [min, max]] of Object.entries(PLAUSIBLE) as Array<
    [keyof typeof PLAUSIBLE, readonly [number, number]]
  >) {
    const value = r[field];
    if (!(value >= min && value <= max))
      throw new MeterError(
        'METER_PROTOCOL',
        `The Gude reply is not a plausible reading: ${field} = ${value} (expected ${min} to ${max}).`,
        {
          details: { reason: 'implausible', field, value },
        },
      );
  }
}

/** Encodes a reading as the device does (signed integers in its units); used by the simulator. */
export function encodeBlock(r: GudeReading): Buffer {
  const out = Buffer.alloc(BLOCK_REGISTERS * 2);
  const s = (field: number, v: number) =>
    out.writeInt32BE(Math.max(-0x80000000, Math.min(0x7fffffff, Math.round(v) || 0)), field * 4);
  s(FIELD.energyWh, r.energyWh);
  s(FIELD.activePowerW, r.activePowerW);
  s(FIELD.voltageV, r.voltageV);
  s(FIELD.currentMilliA, r.currentA * 1000);
  s(FIELD.frequencyCentiHz, r.frequencyHz * 100);
  s(FIELD.powerFactorMilli, r.powerFactor * 1000);
  s(FIELD.powerAngleDeciDeg, r.powerAngleDeg * 10);
  s(FIELD.apparentPowerVA, r.apparentPowerVA);
  s(FIELD.reactivePowerVAR, r.reactivePowerVAR);
  s(FIELD.resettableEnergyWh, r.resettableEnergyWh);
  s(FIELD.secondsSinceReset, r.secondsSinceReset);
  return out;
}
