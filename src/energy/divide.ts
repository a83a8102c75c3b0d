/**
 * Dividing the energy of a span among the invocations that ran in it. In each meter interval
 * (between two samples) the energy above the baseline is divided among the invocations whose CPU
 * time fell in it, by that CPU time, over all the CPU time the machine used in it above its idle
 * use (never less than the invocations' own): what the invocations did not use is unattributed.
 * The baseline energy is divided by wall time among the invocations running; while none runs it
 * is idle. An invocation's CPU time is known as a total over [cpuFrom, to], and taken as spent at
 * an even rate over it.
 *
 * Every interval's energy goes wholly to shares and unattributed, so over any span they add up
 * to the energy above the baseline, by construction.
 */
import type { PowerSample } from '../types.js';

/** One invocation as the division sees it. Times are epoch ms. */
export interface ShareEntry {
  /** Its window: function ready to function end. */
  from: number;
  to: number;
  /** Where its CPU time was counted from: it is spread over [cpuFrom, to] (within the window). */
  cpuFrom: number;
  /** Its sandbox's CPU time, ms; null when it could not be read (it then shares no energy above the baseline). */
  cpuMs: number | null;
}

/** One invocation's part of a span. */
export interface EntryShare {
  /** Of the energy above the baseline, J. */
  shareJ: number;
  /** Of the baseline energy, J. */
  baselineShareJ: number;
  /** The most invocations running at once while it ran (itself included). */
  overlap: number;
}

/** What the division needs. */
export interface DivideInput {
  /** Samples sorted by time, covering the span (one at or before its start, one at or after its end). */
  samples: readonly PowerSample[];
  baselineW: number;
  /** The machine's CPU use when idle, cores; subtracted from its CPU time like the baseline from the power. */
  busyCores: number;
  /** CPU time the machine used in [a, b], ms (NaN: unknown, then nothing is shared). */
  machineCpuMs: (a: number, b: number) => number;
  entries: readonly ShareEntry[];
}

/** A span divided up: totals in J (CPU in ms), and each entry's part inside the span. */
export interface Division {
  shares: Map<ShareEntry, EntryShare>;
  energyJ: number;
  baselineJ: number;
  sharesJ: number;
  unattributedJ: number;
  baselineSharesJ: number;
  idleJ: number;
  invocationCpuMs: number;
  machineCpuMs: number;
}

interface State {
  /** CPU ms per ms while its CPU is counted. */
  rate: number;
  /** The running sums when its CPU (`price`) and its window (`baselineShare`) began. */
  priceAt: number;
  baselineAt: number;
  out: EntryShare;
}

/** Kinds of event, in the order they apply at one instant: ends before starts. */
const CPU_END = 0;
const WINDOW_END = 1;
const WINDOW_START = 2;
const CPU_START = 3;
type Event = { t: number; kind: number; s: State };

/** Where an entry's CPU time is spread, kept inside its window. */
function cpuSpan(e: ShareEntry): [number, number] {
  return [e.cpuFrom >= e.from && e.cpuFrom < e.to ? e.cpuFrom : e.from, e.to];
}

/** The piecewise-linear trace of sorted samples, read at increasing times. */
function traceReader(samples: readonly PowerSample[]): (t: number) => number {
  let k = 0;
  return (t) => {
    while (k + 1 < samples.length && samples[k + 1]!.t <= t) k++;
    const a = samples[k];
    const b = samples[k + 1];
    if (!a) return 0;
    if (!b || b.t === a.t || t <= a.t) return a.powerW;
    return a.powerW + ((b.powerW - a.powerW) * (t - a.t)) / (b.t - a.t);
  };
}

/** Divides [from, to] (epoch ms). */
export function divide(input: DivideInput, from: number, to: number): Division {
  const { samples, baselineW, busyCores } = input;
  const div: Division = {
    shares: new Map(),
    energyJ: 0,
    baselineJ: 0,
    sharesJ: 0,
    unattributedJ: 0,
    baselineSharesJ: 0,
    idleJ: 0,
    invocationCpuMs: 0,
    machineCpuMs: 0,
  };
  const clip = (t: number) => Math.min(to, Math.max(from, t));
  const events: Event[] = [];
  for (const entry of input.entries) {
    const [cpuFrom, cpuTo] = cpuSpan(entry);
    const rate = entry.cpuMs !== null && cpuTo > cpuFrom ? entry.cpuMs / (cpuTo - cpuFrom) : 0;
    const s: State = { rate, priceAt: 0, baselineAt: 0, out: { shareJ: 0, baselineShareJ: 0, overlap: 0 } };
    div.shares.set(entry, s.out);
    if (entry.to <= entry.from) s.out.overlap = 1;
    if (entry.to <= entry.from || entry.to <= from || entry.from >= to) continue;
    events.push({ t: clip(entry.from), kind: WINDOW_START, s }, { t: clip(entry.to), kind: WINDOW_END, s });
    if (rate > 0 && cpuTo > from && cpuFrom < to)
      events.push({ t: clip(cpuFrom), kind: CPU_START, s }, { t: clip(cpuTo), kind: CPU_END, s });
  }
  events.sort((a, b) => a.t - b.t || a.kind - b.kind);
  // Meter intervals: the span cut at the samples inside it.
  const bounds = [from];
  for (const s of samples) if (s.t > from && s.t < to) bounds.push(s.t);
  bounds.push(to);

  const power = traceReader(samples);
  const running = new Set<State>();
  let sumRate = 0;
  let cpuRunning = 0;
  /** Energy per CPU-ms so far, summed over time (an entry's share is its rate times the growth while its CPU counts). */
  let price = 0;
  /** Baseline energy per running invocation so far. */
  let baselineShare = 0;
  let next = 0;
  let pPrev = power(from);
  for (let i = 1; i < bounds.length; i++) {
    const a = bounds[i - 1]!;
    const b = bounds[i]!;
    if (!(b > a)) continue;
    const pB = power(b);
    const energy = ((pPrev + pB) / 2) * ((b - a) / 1000);
    const baseline = baselineW * ((b - a) / 1000);
    pPrev = pB;
    // Within the interval: the invocations' CPU time (sumRate over wall time) and the baseline by
    // wall time, cut at every entry's start and end. CPU starts and ends are priced once the
    // interval's price is known.
    const priced: Event[] = [];
    let cpu = 0;
    let t = a;
    const step = (until: number) => {
      const dt = until - t;
      if (dt <= 0) return;
      cpu += sumRate * dt;
      const share = (baselineW * dt) / 1000;
      if (running.size > 0) {
        baselineShare += share / running.size;
        div.baselineSharesJ += share;
      } else div.idleJ += share;
      t = until;
    };
    for (; next < events.length && events[next]!.t <= b; next++) {
      const e = events[next]!;
      step(e.t);
      const { kind, s } = e;
      if (kind === CPU_START) {
        priced.push(e);
        sumRate += s.rate;
        cpuRunning++;
      } else if (kind === CPU_END) {
        priced.push(e);
        if (--cpuRunning === 0) sumRate = 0;
        else sumRate -= s.rate;
      } else if (kind === WINDOW_START) {
        s.baselineAt = baselineShare;
        running.add(s);
        for (const r of running) if (r.out.overlap < running.size) r.out.overlap = running.size;
      } else {
        s.out.baselineShareJ += baselineShare - s.baselineAt;
        running.delete(s);
      }
    }
    step(b);
    const above = energy - baseline;
    const machine = input.machineCpuMs(a, b) - busyCores * (b - a);
    const all = Math.max(machine, cpu);
    // The interval's energy per CPU-ms: the price grows by it per wall ms through the interval, so an
    // entry's share, its rate times the price's growth while its CPU counts, is that times its CPU-ms here.
    const unit = all > 0 ? above / all : 0;
    for (const e of priced) {
      const at = price + unit * (e.t - a);
      if (e.kind === CPU_START) e.s.priceAt = at;
      else e.s.out.shareJ += e.s.rate * (at - e.s.priceAt);
    }
    price += unit * (b - a);
    const shared = unit * cpu;
    div.sharesJ += shared;
    div.unattributedJ += above - shared;
    div.energyJ += energy;
    div.baselineJ += baseline;
    div.invocationCpuMs += cpu;
    if (Number.isFinite(machine)) div.machineCpuMs += machine;
  }
  return div;
}
