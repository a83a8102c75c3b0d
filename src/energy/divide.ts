/**
 * Dividing the energy of a span among the invocations that ran in it. In each meter interval
 * (between two samples) the energy above the baseline is divided among the invocations whose CPU
 * time fell in it, by that CPU time, over all the CPU time the machine used in it above its idle
 * use (never less than the invocations' own): what the invocations did not use is unattributed.
 * The baseline energy is divided by wall time among the invocations running; while none runs it
 * is idle.
 *
 * An invocation's CPU time is known as a total over [cpuFrom, to]. Where it fell within that span
 * is estimated: spread evenly at first, then fitted to the machine (iterative proportional
 * fitting): where the invocations running in an interval would have used more CPU time than the
 * machine counted there, theirs is scaled down to fit and each one's total is made up again in its
 * other intervals, until they fit. A pace that followed the machine's load (other programs taking
 * turns on the cores, a counter that lags a scheduler tick) is so recovered; an even pace stays as
 * it was.
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
  /** Where its CPU time was counted from: it fell within [cpuFrom, to] (within the window). */
  cpuFrom: number;
  /** Its sandbox's CPU time, ms; null when it could not be read (it then shares no energy above the baseline). */
  cpuMs: number | null;
}

/** One invocation's part of a span. */
interface EntryShare {
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

/** Rounds of fitting at most; each moves CPU time only where intervals are over the machine's count. */
const FIT_ROUNDS = 50;
/** Fitted once no interval is over by more than this share of the invocations' CPU time in the span. */
const FIT_TOLERANCE = 1e-4;

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

/** Index of the interval (between `bounds[i]` and `bounds[i + 1]`) holding `t`. */
function intervalOf(bounds: readonly number[], t: number): number {
  let lo = 0;
  let hi = bounds.length - 2;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (bounds[mid]! <= t) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Divides [from, to] (epoch ms). */
export function divide(input: DivideInput, from: number, to: number): Division {
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
  for (const entry of input.entries) div.shares.set(entry, { shareJ: 0, baselineShareJ: 0, overlap: 0 });
  if (!(to > from)) {
    for (const s of div.shares.values()) s.overlap = 1;
    return div;
  }
  divideBaseline(input, from, to, div);
  divideAbove(input, from, to, div);
  return div;
}

/** The baseline energy by wall time among the invocations running, and each one's overlap. */
function divideBaseline(input: DivideInput, from: number, to: number, div: Division): void {
  type Event = { t: number; start: boolean; out: EntryShare };
  const events: Event[] = [];
  const clip = (t: number) => Math.min(to, Math.max(from, t));
  for (const entry of input.entries) {
    const out = div.shares.get(entry)!;
    if (entry.to <= entry.from) out.overlap = 1;
    if (entry.to <= entry.from || entry.to <= from || entry.from >= to) continue;
    events.push({ t: clip(entry.from), start: true, out }, { t: clip(entry.to), start: false, out });
  }
  // Ends before starts at one instant: back-to-back invocations did not run at once.
  events.sort((a, b) => a.t - b.t || Number(a.start) - Number(b.start));
  const running = new Map<EntryShare, number>();
  let perRunning = 0;
  let t = from;
  const step = (until: number) => {
    const joules = (input.baselineW * (until - t)) / 1000;
    if (running.size > 0) {
      perRunning += joules / running.size;
      div.baselineSharesJ += joules;
    } else div.idleJ += joules;
    t = until;
  };
  for (const e of events) {
    step(e.t);
    if (e.start) {
      running.set(e.out, perRunning);
      for (const r of running.keys()) if (r.overlap < running.size) r.overlap = running.size;
    } else {
      e.out.baselineShareJ += perRunning - running.get(e.out)!;
      running.delete(e.out);
    }
  }
  step(to);
  for (const [out, at] of running) out.baselineShareJ += perRunning - at;
}

/** The energy above the baseline, interval by interval, by the invocations' fitted CPU time. */
function divideAbove(input: DivideInput, from: number, to: number, div: Division): void {
  const bounds = [from];
  for (const s of input.samples) if (s.t > from && s.t < to) bounds.push(s.t);
  bounds.push(to);
  const n = bounds.length - 1;
  const above = new Float64Array(n);
  const machine = new Float64Array(n);
  const power = traceReader(input.samples);
  let pPrev = power(from);
  for (let k = 0; k < n; k++) {
    const a = bounds[k]!;
    const b = bounds[k + 1]!;
    const pB = power(b);
    const energy = ((pPrev + pB) / 2) * ((b - a) / 1000);
    const baseline = (input.baselineW * (b - a)) / 1000;
    pPrev = pB;
    above[k] = energy - baseline;
    machine[k] = input.machineCpuMs(a, b) - input.busyCores * (b - a);
    div.energyJ += energy;
    div.baselineJ += baseline;
    if (Number.isFinite(machine[k])) div.machineCpuMs += machine[k]!;
  }

  // Each entry's CPU time in each interval of its span: spread evenly first.
  interface Row {
    out: EntryShare;
    first: number;
    cpu: Float64Array;
    /** The even spread it started from. */
    even: Float64Array;
    /** Its CPU time inside the span, ms. */
    total: number;
  }
  const rows: Row[] = [];
  for (const entry of input.entries) {
    if (entry.cpuMs === null || !(entry.cpuMs > 0) || !(entry.to > entry.from)) continue;
    const cpuFrom = entry.cpuFrom >= entry.from && entry.cpuFrom < entry.to ? entry.cpuFrom : entry.from;
    const a = Math.max(from, cpuFrom);
    const b = Math.min(to, entry.to);
    if (!(b > a)) continue;
    const rate = entry.cpuMs / (entry.to - cpuFrom);
    const first = intervalOf(bounds, a);
    const last = intervalOf(bounds, b - (b - a) * 1e-12);
    const cpu = new Float64Array(last - first + 1);
    for (let k = first; k <= last; k++) cpu[k - first] = rate * (Math.min(b, bounds[k + 1]!) - Math.max(a, bounds[k]!));
    rows.push({ out: div.shares.get(entry)!, first, cpu, even: cpu.slice(), total: rate * (b - a) });
  }
  const used = new Float64Array(n);
  const sumColumns = () => {
    used.fill(0);
    for (const r of rows) for (let i = 0; i < r.cpu.length; i++) used[r.first + i]! += r.cpu[i]!;
  };
  // Fitting: intervals over the machine's count are scaled down to it, then each row made up to its total.
  const room = (k: number) => (Number.isFinite(machine[k]) ? Math.max(0, machine[k]!) : Number.POSITIVE_INFINITY);
  const totalCpu = rows.reduce((a, r) => a + r.total, 0);
  sumColumns();
  for (let round = 0; round < FIT_ROUNDS; round++) {
    let over = 0;
    for (let k = 0; k < n; k++) over += Math.max(0, used[k]! - room(k));
    if (!(over > totalCpu * FIT_TOLERANCE)) break;
    for (const r of rows) {
      let sum = 0;
      for (let i = 0; i < r.cpu.length; i++) {
        const k = r.first + i;
        if (used[k]! > room(k)) r.cpu[i] = (r.cpu[i]! * room(k)) / used[k]!;
        sum += r.cpu[i]!;
      }
      // A row with no room left anywhere keeps its even spread (then clipped below).
      if (sum > 0) for (let i = 0; i < r.cpu.length; i++) r.cpu[i] = (r.cpu[i]! * r.total) / sum;
      else r.cpu.set(r.even);
    }
    sumColumns();
  }

  // Each interval's price per CPU-ms: its energy above the baseline over all the CPU time there.
  const unit = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const all = Math.max(machine[k]!, used[k]!);
    unit[k] = all > 0 ? above[k]! / all : 0;
    const shared = unit[k]! * used[k]!;
    div.sharesJ += shared;
    div.unattributedJ += above[k]! - shared;
    div.invocationCpuMs += used[k]!;
  }
  for (const r of rows) for (let i = 0; i < r.cpu.length; i++) r.out.shareJ += unit[r.first + i]! * r.cpu[i]!;
}
