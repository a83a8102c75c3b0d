import { describe, expect, it } from 'vitest';
import { divide, type DivideInput, type ShareEntry } from '../../src/energy/divide.js';
import { integrateJ } from '../../src/energy/integrate.js';
import { rng } from '../../src/stats.js';
import type { PowerSample } from '../../src/index.js';

/** Samples every `stepMs` over [0, ms] from a power function of time. */
function trace(ms: number, stepMs: number, power: (t: number) => number): PowerSample[] {
  const out: PowerSample[] = [];
  for (let t = -stepMs; t <= ms + stepMs; t += stepMs) out.push({ t, powerW: power(t) });
  return out;
}

/** A machine whose CPU time rises at `rate(t)` cores, integrated finely. */
function machine(rate: (t: number) => number): (a: number, b: number) => number {
  return (a, b) => {
    let sum = 0;
    const n = 200;
    for (let i = 0; i < n; i++) sum += rate(a + ((i + 0.5) * (b - a)) / n);
    return (sum * (b - a)) / n;
  };
}

const entry = (from: number, to: number, cpuMs: number | null, cpuFrom = from): ShareEntry => ({
  from,
  to,
  cpuFrom,
  cpuMs,
});

describe('dividing energy among invocations by CPU time', () => {
  it('gives an invocation that ran alone, and whose CPU time is all the machine used above idle, its isolated window figure', () => {
    const samples = trace(1000, 100, (t) => 20 + 10 * Math.sin(t / 150));
    const alone = entry(230, 870, 400);
    const input: DivideInput = {
      samples,
      baselineW: 12,
      busyCores: 0.1,
      // The machine's CPU above idle is exactly the invocation's, spread over its window.
      machineCpuMs: machine((t) => 0.1 + (t >= 230 && t < 870 ? 400 / 640 : 0)),
      entries: [alone],
    };
    const d = divide(input, 230, 870);
    const isolatedJ = integrateJ(samples, 230, 870) - 12 * 0.64;
    expect(d.shares.get(alone)!.shareJ).toBeCloseTo(isolatedJ, 9);
    expect(d.shares.get(alone)!.baselineShareJ).toBeCloseTo(12 * 0.64, 9);
    expect(d.shares.get(alone)!.overlap).toBe(1);
    expect(d.unattributedJ).toBeCloseTo(0, 9);
  });

  it('adds up over any span: shares plus unattributed are the energy above the baseline, baseline shares plus idle the baseline', () => {
    const rand = rng(7);
    for (let round = 0; round < 50; round++) {
      const samples = trace(2000, 50 + rand() * 100, () => 10 + rand() * 40);
      const entries: ShareEntry[] = [];
      for (let i = 0; i < 1 + Math.floor(rand() * 20); i++) {
        const from = rand() * 1900 - 100;
        const to = from + rand() * 500;
        entries.push(entry(from, to, rand() < 0.1 ? null : rand() * 300, from + rand() * (to - from)));
      }
      const input: DivideInput = {
        samples,
        baselineW: rand() * 15,
        busyCores: rand() * 0.5,
        machineCpuMs: machine(() => rand() * 2),
        entries,
      };
      const from = rand() * 1000;
      const to = from + 1 + rand() * 900;
      const d = divide(input, from, to);
      expect(d.energyJ).toBeCloseTo(integrateJ(samples, from, to), 9);
      expect(d.sharesJ + d.unattributedJ).toBeCloseTo(d.energyJ - d.baselineJ, 9);
      expect(d.baselineSharesJ + d.idleJ).toBeCloseTo(d.baselineJ, 9);
      let shares = 0;
      let baselineShares = 0;
      for (const s of d.shares.values()) {
        shares += s.shareJ;
        baselineShares += s.baselineShareJ;
      }
      expect(shares).toBeCloseTo(d.sharesJ, 9);
      expect(baselineShares).toBeCloseTo(d.baselineSharesJ, 9);
    }
  });

  it('splits the energy above the baseline of overlapping invocations by their CPU time, and the idle power by wall time', () => {
    const samples = trace(1000, 100, () => 30);
    const a = entry(0, 1000, 750);
    const b = entry(0, 1000, 250);
    const d = divide(
      { samples, baselineW: 10, busyCores: 0, machineCpuMs: machine(() => 1), entries: [a, b] },
      0,
      1000,
    );
    expect(d.shares.get(a)!.shareJ).toBeCloseTo(15, 9);
    expect(d.shares.get(b)!.shareJ).toBeCloseTo(5, 9);
    expect(d.shares.get(a)!.baselineShareJ).toBeCloseTo(5, 9);
    expect(d.shares.get(b)!.baselineShareJ).toBeCloseTo(5, 9);
    expect(d.shares.get(a)!.overlap).toBe(2);
  });

  it('leaves to the rest of the machine the energy of the CPU time no invocation used', () => {
    const samples = trace(1000, 100, () => 30);
    const a = entry(0, 1000, 500);
    // The machine used 2 cores above idle, the invocation half a core: it gets a quarter.
    const d = divide({ samples, baselineW: 10, busyCores: 0, machineCpuMs: machine(() => 2), entries: [a] }, 0, 1000);
    expect(d.shares.get(a)!.shareJ).toBeCloseTo(5, 9);
    expect(d.unattributedJ).toBeCloseTo(15, 9);
  });

  it('never gives the rest a negative part: where the invocations claim more CPU than the machine counted, they share all of it', () => {
    const samples = trace(1000, 100, () => 30);
    const a = entry(0, 1000, 900);
    const b = entry(0, 1000, 900);
    const d = divide(
      { samples, baselineW: 10, busyCores: 0, machineCpuMs: machine(() => 1), entries: [a, b] },
      0,
      1000,
    );
    expect(d.unattributedJ).toBeCloseTo(0, 9);
    expect(d.shares.get(a)!.shareJ).toBeCloseTo(10, 9);
  });

  it('gives an invocation without a CPU figure no share (its energy stays unattributed) but its part of the idle power', () => {
    const samples = trace(1000, 100, () => 30);
    const known = entry(0, 1000, 400);
    const unknown = entry(500, 1000, null);
    const d = divide(
      { samples, baselineW: 10, busyCores: 0, machineCpuMs: machine(() => 0.8), entries: [known, unknown] },
      0,
      1000,
    );
    expect(d.shares.get(unknown)!.shareJ).toBe(0);
    expect(d.shares.get(unknown)!.baselineShareJ).toBeCloseTo(2.5, 9);
    expect(d.shares.get(known)!.baselineShareJ).toBeCloseTo(7.5, 9);
    expect(d.shares.get(known)!.shareJ).toBeCloseTo(10, 9);
    expect(d.unattributedJ).toBeCloseTo(10, 9);
  });

  it('shares nothing when the machine CPU time is unknown: all of it is unattributed', () => {
    const samples = trace(1000, 100, () => 30);
    const a = entry(0, 1000, 400);
    const d = divide({ samples, baselineW: 10, busyCores: 0, machineCpuMs: () => Number.NaN, entries: [a] }, 0, 1000);
    expect(d.sharesJ).toBe(0);
    expect(d.unattributedJ).toBeCloseTo(20, 9);
  });

  it('spreads CPU time only over where it was counted, and counts overlap as the most invocations at one moment', () => {
    const samples = trace(1000, 100, () => 30);
    // a's CPU was counted from 500: in [0, 500] it used nothing, so b (alone using CPU there) takes that half.
    const a = entry(0, 1000, 500, 500);
    const b = entry(0, 500, 500);
    const c = entry(600, 700, 0);
    const d = divide(
      { samples, baselineW: 10, busyCores: 0, machineCpuMs: machine(() => 1), entries: [a, b, c] },
      0,
      1000,
    );
    expect(d.shares.get(b)!.shareJ).toBeCloseTo(10, 9);
    expect(d.shares.get(a)!.shareJ).toBeCloseTo(10, 9);
    expect(d.shares.get(a)!.overlap).toBe(2);
    expect(d.shares.get(c)!.overlap).toBe(2);
  });

  it('with a power model of the machine CPU, gives each invocation the model energy of its own CPU time', () => {
    // P = 10 W + 5 W per busy core; samples are interval means at their middles, as the estimate meter's.
    // Sixteen invocations of 5 to 10 meter intervals each, overlapping.
    const rand = rng(3);
    const entries: ShareEntry[] = [];
    for (let i = 0; i < 16; i++) {
      const from = rand() * 1500;
      entries.push(entry(from, from + 500 + rand() * 500, 100 + rand() * 200));
    }
    const rate = (t: number) => {
      let r = 0.05; // the host itself
      for (const e of entries) if (t >= e.from && t < e.to) r += e.cpuMs! / (e.to - e.from);
      return r;
    };
    const cpu = machine(rate);
    const samples: PowerSample[] = [];
    for (let t = -100; t <= 2600; t += 100) samples.push({ t: t + 50, powerW: 10 + (5 * cpu(t, t + 100)) / 100 });
    const d = divide({ samples, baselineW: 10, busyCores: 0.05, machineCpuMs: cpu, entries }, -50, 2550);
    const errors = entries
      .map((e) => Math.abs(d.shares.get(e)!.shareJ - (5 * e.cpuMs!) / 1000) / ((5 * e.cpuMs!) / 1000))
      .sort((a, b) => a - b);
    expect(errors[errors.length >> 1]).toBeLessThan(0.05);
    expect(errors[errors.length - 1]).toBeLessThan(0.15);
    expect(d.sharesJ + d.unattributedJ).toBeCloseTo(d.energyJ - d.baselineJ, 9);
  });
});
