/**
 * An invocation's energy from the samples around its window: the whole window
 * [ready, end], split at the function's start into the start-up part and the run part.
 * Both parts are integrals of the same piecewise-linear trace, so they add up to the whole.
 */
import type { EnergyNote, EnergyPart, InvocationEnergy, PowerSample } from '../types.js';
import { integrateJ, powerAt } from './integrate.js';

/** The figure of [from, to] (epoch ms) from samples covering it; `baselineW` is subtracted for the isolated figures. */
export function energyPart(samples: PowerSample[], from: number, to: number, baselineW: number): EnergyPart {
  const joules = integrateJ(samples, from, to);
  const seconds = (to - from) / 1000;
  const avgPowerW = seconds > 0 ? joules / seconds : powerAt(samples, from);
  let inside = 0;
  for (const s of samples) if (s.t >= from && s.t <= to) inside++;
  return {
    window: { from, to },
    samples: inside,
    avgPowerW,
    energyJ: joules,
    energyWh: joules / 3600,
    isolatedPowerW: avgPowerW - baselineW,
    isolatedEnergyWh: (joules - baselineW * seconds) / 3600,
    quality: inside >= 2 ? 'measured' : 'interpolated',
  };
}

/** Where an invocation's window starts, splits and ends (epoch ms). */
export interface InvocationWindow {
  /** Function ready: `requestAt + prepareMs`. */
  from: number;
  /** Function start (the end of the start-up part). */
  startAt: number;
  /** Function end. */
  to: number;
}

/** The record's energy, its two parts, and a note when any of the three is interpolated. */
export function invocationEnergy(
  samples: PowerSample[],
  w: InvocationWindow,
  meter: { name: string; estimate: boolean; intervalMs: number },
  baselineW: number,
): { energy: InvocationEnergy; note?: EnergyNote } {
  const startAt = Math.min(Math.max(w.startAt, w.from), w.to);
  const whole = energyPart(samples, w.from, w.to, baselineW);
  const startup = energyPart(samples, w.from, startAt, baselineW);
  const exec = energyPart(samples, startAt, w.to, baselineW);
  const energy: InvocationEnergy = { meter: meter.name, estimate: meter.estimate, ...whole, baselineW, startup, exec };
  const coarse = [
    ['window', whole],
    ['start-up part', startup],
    ['run part', exec],
  ].filter(([, p]) => (p as EnergyPart).quality === 'interpolated') as Array<[string, EnergyPart]>;
  if (!coarse.length) return { energy };
  const list = coarse.map(([name, p]) => `the ${name} (${fmt(p.window.to - p.window.from)})`).join(', ');
  return {
    energy,
    note: {
      reason: 'INTERPOLATED',
      message: `${list} ${coarse.length > 1 ? 'hold' : 'holds'} fewer than two samples of the meter (one every ${meter.intervalMs} ms): read off the line between the samples around it; batches measure short functions (docs/energy.md).`,
    },
  };
}

const fmt = (ms: number) => (ms >= 1 ? `${ms.toFixed(1)} ms` : `${(ms * 1000).toFixed(0)} us`);
