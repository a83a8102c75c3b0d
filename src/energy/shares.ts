/**
 * The invocations whose energy is shared out: every record that ended (its window and its
 * sandbox's CPU time) is kept for the meter's history, so a record's share counts every
 * invocation that overlapped it, and a span's ledger can be drawn up at any time afterwards.
 */
import { MeterError } from '../errors.js';
import type { EnergyLedger, InvocationRecord } from '../types.js';
import { divide, type Division, type ShareEntry } from './divide.js';
import { coverageProblem } from './integrate.js';
import type { EnergyTracker } from './tracker.js';

/** Records kept at most (the oldest go first). */
const MAX_ENTRIES = 200_000;

/** A record as the division sees it. */
function entryOf(r: InvocationRecord): ShareEntry {
  const t = r.timing;
  const from = t.requestAt + t.prepareMs;
  return { from, to: t.functionEndAt, cpuFrom: r.resources.cpuSinceAt ?? from, cpuMs: r.resources.cpuMs };
}

export class ShareBook {
  /** Entries sorted by their end. */
  private readonly entries: ShareEntry[] = [];
  private readonly byRecord = new WeakMap<InvocationRecord, ShareEntry>();

  constructor(
    private readonly tracker: EnergyTracker,
    private readonly historyMs = 600_000,
  ) {}

  /** Takes in records that ended (each once), so that they count in every share and ledger from now on. */
  note(records: Iterable<InvocationRecord>): void {
    for (const r of records) {
      if (this.byRecord.has(r)) continue;
      const e = entryOf(r);
      this.byRecord.set(r, e);
      let i = this.entries.length;
      while (i > 0 && this.entries[i - 1]!.to > e.to) i--;
      this.entries.splice(i, 0, e);
    }
    const keepFrom = this.tracker.lastSampleT - this.historyMs;
    let drop = 0;
    while (
      drop < this.entries.length &&
      (this.entries.length - drop > MAX_ENTRIES || this.entries[drop]!.to < keepFrom - this.historyMs * 0.1)
    )
      drop++;
    if (drop) this.entries.splice(0, drop);
  }

  /** The entries whose windows reach into [from, to]. */
  private overlapping(from: number, to: number): ShareEntry[] {
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.entries[mid]!.to < from) lo = mid + 1;
      else hi = mid;
    }
    const out: ShareEntry[] = [];
    for (let i = lo; i < this.entries.length; i++) if (this.entries[i]!.from <= to) out.push(this.entries[i]!);
    return out;
  }

  private divide(from: number, to: number): Division {
    const tracker = this.tracker;
    const cpu = tracker.cpu;
    return divide(
      {
        samples: tracker.around(from, to),
        baselineW: tracker.baseline?.powerW ?? 0,
        busyCores: tracker.baseline?.busyCores ?? 0,
        machineCpuMs: (a, b) => cpu.between(a, b),
        entries: this.overlapping(from, to),
      },
      from,
      to,
    );
  }

  /** Why no record can have a share now (the machine's CPU time is not known), or undefined. */
  private cpuProblem(): string | undefined {
    const cpu = this.tracker.cpu;
    if (cpu.error) return cpu.error;
    if (cpu.size < 2) return "the machine's CPU time has not been read yet";
    return undefined;
  }

  /** Works out the shares of settled records (those with an energy figure), in place. */
  share(records: InvocationRecord[]): void {
    const withEnergy = records.filter((r) => r.energy);
    if (!withEnergy.length) return;
    this.note(withEnergy);
    let from = Number.POSITIVE_INFINITY;
    let to = Number.NEGATIVE_INFINITY;
    for (const r of withEnergy) {
      const e = this.byRecord.get(r)!;
      from = Math.min(from, e.from);
      to = Math.max(to, e.to);
    }
    // Whole meter intervals: a record's share does not depend on which others settled with it.
    const around = this.tracker.around(from, to);
    if (around.length) {
      from = Math.min(from, around[0]!.t);
      to = Math.max(to, around[around.length - 1]!.t);
    }
    const div = to > from ? this.divide(from, to) : undefined;
    const problem = this.cpuProblem();
    for (const r of withEnergy) {
      const energy = r.energy!;
      const e = this.byRecord.get(r)!;
      const part = div?.shares.get(e);
      if (part) {
        energy.baselineShareJ = part.baselineShareJ;
        energy.overlap = Math.max(1, part.overlap);
      }
      if (problem) energy.shareNote = `no share: ${problem}`;
      else if (e.cpuMs === null)
        energy.shareNote = `no share: no CPU time for its sandbox (${r.resources.note ?? 'unknown'})`;
      else {
        energy.method = 'cpu-share';
        energy.shareJ = part?.shareJ ?? 0;
      }
    }
  }

  /**
   * The energy of [from, to] divided up.
   * @throws MeterError `METER_UNAVAILABLE` when the meter's samples do not cover the span.
   */
  ledger(from: number, to: number): EnergyLedger {
    const tracker = this.tracker;
    const problem = coverageProblem(tracker.around(from, to), from, to, tracker.maxGapMs);
    if (problem) throw new MeterError('METER_UNAVAILABLE', `No ledger for this span: ${problem.message}.`);
    const div = this.divide(from, to);
    const entries = [...div.shares.keys()].filter((e) => e.to > from && e.from < to);
    const aboveBaselineJ = div.energyJ - div.baselineJ;
    const cpuProblem = this.cpuProblem();
    const ledger: EnergyLedger = {
      from,
      to,
      meter: tracker.meter.name,
      estimate: tracker.meter.estimate,
      energyJ: div.energyJ,
      baselineJ: div.baselineJ,
      aboveBaselineJ,
      sharesJ: div.sharesJ,
      unattributedJ: div.unattributedJ,
      // Nothing measurable above the baseline (a meter at one value all along): a ratio of rounding errors.
      balance:
        Math.abs(aboveBaselineJ) > 1e-9 * Math.abs(div.energyJ)
          ? (div.sharesJ + div.unattributedJ) / aboveBaselineJ
          : Number.NaN,
      baselineSharesJ: div.baselineSharesJ,
      idleJ: div.idleJ,
      invocationCpuMs: div.invocationCpuMs,
      machineCpuMs: div.machineCpuMs,
      invocations: entries.length,
      withoutCpu: entries.filter((e) => e.cpuMs === null).length,
    };
    if (cpuProblem) ledger.note = `no shares: ${cpuProblem}`;
    return ledger;
  }
}
