/**
 * An invocation's energy from the samples around its window: the whole window
 * [ready, end], split at the function's start into the start-up part and the run part.
 * Both parts are integrals of the same piecewise-linear trace, so they add up to the whole.
 */
import type { EnergyNote, EnergyPart, InvocationEnergy, PowerSample } from '../types.js';
import { integrateJ, powerAt } from './integrate.js';

/** The figure of [from, to] (epoch ms) from samples covering it; `baselineW` is subtracted for the isolated figures. */
function energyPart(samples: PowerSample[], from: number, to: number, baselineW: number): EnergyPart {
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

/** The record's energy over [from, to] (epoch ms), split at `startAt`, and a note when any of the three figures is interpolated. */
export function invocationEnergy(
  samples: PowerSample[],
  from: number,
  startAt: number,
  to: number,
  meter: { name: string; estimate: boolean; intervalMs: number },
  baselineW: number,
): { energy: InvocationEnergy; note?: EnergyNote } {
  const split = Math.min(Math.max(startAt, from), to);
  const whole = energyPart(samples, from, to, baselineW);
  const startup = energyPart(samples, from, split, baselineW);
  const exec = energyPart(samples, split, to, baselineW);
  // Until shares are worked out (shares.ts), the record is taken to have run alone with no CPU figure.
  const energy: InvocationEnergy = {
    meter: meter.name,
    estimate: meter.estimate,
    ...whole,
    baselineW,
    startup,
    exec,
    method: 'window',
    shareJ: null,
    baselineShareJ: (baselineW * (to - from)) / 1000,
    overlap: 1,
  };
  const mask =
    (whole.quality === 'interpolated' ? 1 : 0) |
    (startup.quality === 'interpolated' ? 2 : 0) |
    (exec.quality === 'interpolated' ? 4 : 0);
  return mask ? { energy, note: interpolatedNote(mask, meter.intervalMs) } : { energy };
}

/** The notes are few (which parts, which interval): made once and shared, frozen, by every record that needs one. */
const notes = new Map<string, EnergyNote>();

function interpolatedNote(mask: number, intervalMs: number): EnergyNote {
  const key = `${mask}/${intervalMs}`;
  let note = notes.get(key);
  if (!note) {
    const parts = [mask & 1 && 'the window', mask & 2 && 'its start-up part', mask & 4 && 'its run part'].filter(
      Boolean,
    ) as string[];
    const list = parts.length > 1 ? `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]!}` : parts[0]!;
    note = Object.freeze({
      reason: 'INTERPOLATED' as const,
      message: `${list} ${parts.length > 1 ? 'hold' : 'holds'} fewer than two samples of the meter (one every ${intervalMs} ms): read off the line between the samples around it; batches measure short functions (docs/energy.md).`,
    });
    notes.set(key, note);
  }
  return note;
}
