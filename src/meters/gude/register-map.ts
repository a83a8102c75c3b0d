/**
 * The Gude Expert Power Control register map (1104/1105 and the other Gude PDUs share it):
 * input registers (function 0x04), 0-based addresses, every value 32 bits in two registers,
 * high word first. Line sensor `0x400 + index*0x120 + field*2`, outlet (port) sensor
 * `0x3a00 + index*0x120 + field*2`, where `index` is 0 for the device's line/outlet 1: the
 * options of `GudeMeter` number lines and outlets from 1 as the device's front panel does.
 */
import { MeterError } from '../../errors.js';

/** Field numbers of one sensor block. */
export const FIELD = {
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

/** Which sensor to read: an outlet (port) or a supply line, numbered from 1. */
export type GudeTarget = { port: number } | { line: number };

/** The first register of a sensor block. */
export function sensorBase(target: GudeTarget): number {
  const index = 'port' in target ? target.port : target.line;
  if (!Number.isInteger(index) || index < 1 || index > 48)
    throw new MeterError('METER_UNAVAILABLE', `Gude ${'port' in target ? 'outlet' : 'line'} must be a whole number from 1, got ${String(index)}.`);
  return ('port' in target ? 0x3a00 : 0x400) + (index - 1) * 0x120;
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
    throw new MeterError('METER_PROTOCOL', `The Gude reply holds ${bytes.length} bytes; a sensor block is ${BLOCK_REGISTERS * 2}.`);
  const u = (field: number) => bytes.readUInt32BE(field * 4);
  const s = (field: number) => bytes.readInt32BE(field * 4);
  return {
    energyWh: u(FIELD.energyWh),
    activePowerW: u(FIELD.activePowerW),
    voltageV: u(FIELD.voltageV),
    currentA: u(FIELD.currentMilliA) / 1000,
    frequencyHz: u(FIELD.frequencyCentiHz) / 100,
    powerFactor: u(FIELD.powerFactorMilli) / 1000,
    powerAngleDeg: s(FIELD.powerAngleDeciDeg) / 10,
    apparentPowerVA: u(FIELD.apparentPowerVA),
    reactivePowerVAR: u(FIELD.reactivePowerVAR),
    resettableEnergyWh: u(FIELD.resettableEnergyWh),
    secondsSinceReset: u(FIELD.secondsSinceReset),
  };
}

/** Encodes a reading as the device does (integers in its units); used by the simulator. */
export function encodeBlock(r: GudeReading): Buffer {
  const out = Buffer.alloc(BLOCK_REGISTERS * 2);
  const u = (field: number, v: number) => out.writeUInt32BE(Math.max(0, Math.min(0xffffffff, Math.round(v))), field * 4);
  u(FIELD.energyWh, r.energyWh);
  u(FIELD.activePowerW, r.activePowerW);
  u(FIELD.voltageV, r.voltageV);
  u(FIELD.currentMilliA, r.currentA * 1000);
  u(FIELD.frequencyCentiHz, r.frequencyHz * 100);
  u(FIELD.powerFactorMilli, r.powerFactor * 1000);
  out.writeInt32BE(Math.round(r.powerAngleDeg * 10), FIELD.powerAngleDeciDeg * 4);
  u(FIELD.apparentPowerVA, r.apparentPowerVA);
  u(FIELD.reactivePowerVAR, r.reactivePowerVAR);
  u(FIELD.resettableEnergyWh, r.resettableEnergyWh);
  u(FIELD.secondsSinceReset, r.secondsSinceReset);
  return out;
}
