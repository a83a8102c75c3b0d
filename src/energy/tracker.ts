/**
 * Energy attribution: keeps a bounded window of meter samples and turns an invocation's time
 * window into an `InvocationEnergy` (time-weighted over the piecewise-linear trace), a batch of
 * short invocations into a `BatchEnergy`, and an idle period into a `Baseline`.
 */
import { nowMs } from '../clock.js';
import { MeterError } from '../errors.js';
import type { Meter } from '../meters/meter.js';
import type { Baseline, BatchEnergy, InvocationEnergy, PowerSample } from '../types.js';
import { t95 } from '../stats.js';
import { coverageProblem, integrateJ } from './integrate.js';

/** Longest wait for a meter's `start()`, ms: past it the tracker gives up (the meter may still start). */
export const START_DEADLINE_MS = 30_000;

/** `promise`, or a `METER_UNAVAILABLE` rejection after `ms`. */
function withDeadline(promise: Promise<void>, ms: number, meter: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new MeterError('METER_UNAVAILABLE', `The meter ${meter} did not start within ${ms / 1000} s.`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** Options of {@link EnergyTracker}. */
export interface EnergyTrackerOptions {
  /** Sample history kept, ms. Default 10 minutes. */
  historyMs?: number;
  /** Samples kept at most. Default 200 000. */
  maxSamples?: number;
}

/** The energy of one window, or why there is none. */
export interface Attribution {
  energy: InvocationEnergy | null;
  note?: string;
}

/** Follows one meter and attributes energy to time windows. */
export class EnergyTracker {
  baseline: Baseline | null = null;
  private samples: PowerSample[] = [];
  private errors: number[] = [];
  private started: Promise<void> | undefined;
  private waiters = new Set<(stopping?: boolean) => void>();

  constructor(
    readonly meter: Meter,
    readonly options: EnergyTrackerOptions = {},
  ) {
    meter.on('sample', (s) => this.add(s));
    meter.on('error', () => {
      this.errors.push(nowMs());
      if (this.errors.length > 1000) this.errors.splice(0, 500);
    });
  }

  /**
   * Starts the meter once; later calls return the same promise. Resolves after the first sample
   * (so the first window has a sample before it), or at the wait's deadline without one.
   * @throws MeterError `METER_UNAVAILABLE` when the meter's start takes longer than {@link START_DEADLINE_MS}.
   */
  start(): Promise<void> {
    this.started ??= withDeadline(this.meter.start(), START_DEADLINE_MS, this.meter.name).then(() => this.until(nowMs()));
    this.started.catch(() => (this.started = undefined));
    return this.started;
  }

  async stop(): Promise<void> {
    this.started = undefined;
    for (const w of this.waiters) w(true);
    await this.meter.stop();
  }

  /** A longer pause between samples is a gap: 2.5 intervals, but at least 100 ms (timer jitter). */
  private get maxGapMs(): number {
    return Math.max(this.meter.intervalMs * 2.5, 100);
  }

  /** Samples currently held (oldest first). */
  get history(): readonly PowerSample[] {
    return this.samples;
  }

  private add(s: PowerSample): void {
    if (!Number.isFinite(s.t) || !Number.isFinite(s.powerW)) return;
    const last = this.samples[this.samples.length - 1];
    if (last && s.t <= last.t) return;
    this.samples.push(s);
    // Trimmed in steps (at 110% of the bounds), so adding stays O(1) amortised.
    const historyMs = this.options.historyMs ?? 600_000;
    const max = this.options.maxSamples ?? 200_000;
    const keepFrom = s.t - historyMs;
    if (this.samples.length > max * 1.1 || this.samples[0]!.t < keepFrom - historyMs * 0.1) {
      let drop = 0;
      while (drop < this.samples.length - 2 && (this.samples[drop]!.t < keepFrom || this.samples.length - drop > max)) drop++;
      this.samples.splice(0, drop);
    }
    for (const w of this.waiters) w();
  }

  /**
   * Waits until a sample at or after `t` arrives, at most until `t` + 1.5 intervals + 1 s (the
   * meter's own request timeout), or until `signal` aborts or the tracker stops.
   */
  private until(t: number, signal?: AbortSignal): Promise<void> {
    const last = () => this.samples[this.samples.length - 1]?.t ?? -Infinity;
    if (last() >= t) return Promise.resolve();
    const deadline = t + this.meter.intervalMs * 1.5 + 1000;
    return new Promise<void>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const check = (stopping = false) => {
        if (!stopping && last() < t && nowMs() < deadline && !signal?.aborted) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = () => check();
      // Timers run on the event loop's coarser clock and can fire before nowMs() reaches the
      // deadline: each firing that is early arms the timer again.
      const arm = () => {
        timer = setTimeout(() => {
          check();
          if (this.waiters.has(check)) arm();
        }, Math.max(1, Math.ceil(deadline - nowMs())));
      };
      this.waiters.add(check);
      signal?.addEventListener('abort', onAbort, { once: true });
      arm();
      check();
    });
  }

  /** The samples within three intervals of [from, to]; found by binary search, as this runs per invocation. */
  private window(from: number, to: number): PowerSample[] {
    const pad = this.meter.intervalMs * 3;
    return this.samples.slice(this.firstAfter(from - pad, false), this.firstAfter(to + pad, true));
  }

  /** Index of the first sample with t >= `t` (or t > `t` when `strict`). */
  private firstAfter(t: number, strict: boolean): number {
    let lo = 0;
    let hi = this.samples.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const st = this.samples[mid]!.t;
      if (st < t || (strict && st === t)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Energy of [from, to] (epoch ms); with `wait`, first waits for the meter to cover `to`. */
  async attribute(from: number, to: number, options: { wait?: boolean; signal?: AbortSignal } = {}): Promise<Attribution> {
    if (options.wait !== false) await this.until(to, options.signal);
    const samples = this.window(from, to);
    const problem = coverageProblem(samples, from, to, this.maxGapMs);
    if (problem) return { energy: null, note: `no energy figure: ${problem}` };
    if (this.errors.some((e) => e >= from - this.meter.intervalMs && e <= to + this.meter.intervalMs))
      return { energy: null, note: 'no energy figure: the meter reported an error during the window' };
    const joules = integrateJ(samples, from, to);
    const seconds = Math.max((to - from) / 1000, 1e-9);
    const avgPowerW = to > from ? joules / seconds : samples[0]!.powerW;
    const baselineW = this.baseline?.powerW ?? 0;
    const inside = samples.filter((s) => s.t >= from && s.t <= to).length;
    const isolatedJ = joules - baselineW * ((to - from) / 1000);
    return {
      energy: {
        meter: this.meter.name,
        estimate: this.meter.estimate,
        window: { from, to },
        samples: inside,
        avgPowerW,
        energyJ: joules,
        energyWh: joules / 3600,
        baselineW,
        isolatedPowerW: avgPowerW - baselineW,
        isolatedEnergyWh: isolatedJ / 3600,
        quality: inside >= 2 ? 'measured' : 'interpolated',
      },
    };
  }

  /**
   * Energy per invocation of `n` invocations run back to back in [from, to]:
   * `(integral of P - baseline x T) / n`. The 95% interval comes from k = 10 equal sub-windows,
   * each giving its own per-invocation estimate (invocations assumed evenly spread), and a
   * Student t interval over those k estimates.
   * @throws MeterError `METER_UNAVAILABLE` when the meter does not cover the window.
   */
  async batch(from: number, to: number, n: number): Promise<BatchEnergy> {
    await this.until(to);
    const samples = this.window(from, to);
    const problem = coverageProblem(samples, from, to, this.maxGapMs);
    if (problem) throw new MeterError('METER_UNAVAILABLE', `Batch energy: ${problem}.`);
    const baselineW = this.baseline?.powerW ?? 0;
    const joules = integrateJ(samples, from, to);
    const isolatedJ = joules - (baselineW * (to - from)) / 1000;
    const k = 10;
    const step = (to - from) / k;
    const parts: number[] = [];
    for (let j = 0; j < k; j++) {
      const a = from + j * step;
      const e = integrateJ(samples, a, a + step) - (baselineW * step) / 1000;
      parts.push((e * k) / n);
    }
    const mean = isolatedJ / n;
    const sd = Math.sqrt(parts.reduce((acc, x) => acc + (x - mean) ** 2, 0) / (k - 1));
    const half = (t95(k - 1) * sd) / Math.sqrt(k);
    return {
      meter: this.meter.name,
      estimate: this.meter.estimate,
      n,
      window: { from, to },
      samples: samples.filter((s) => s.t >= from && s.t <= to).length,
      avgPowerW: joules / ((to - from) / 1000),
      baselineW,
      energyPerInvocationJ: joules / n,
      energyPerInvocationWh: joules / n / 3600,
      isolatedEnergyPerInvocationJ: mean,
      isolatedEnergyPerInvocationWh: mean / 3600,
      ci95Wh: [(mean - half) / 3600, (mean + half) / 3600],
    };
  }

  /** Measures idle power for `durationMs` (time-weighted mean and the samples' spread) and keeps it. */
  async measureBaseline(durationMs: number): Promise<Baseline> {
    await this.until(nowMs());
    const from = this.samples[this.samples.length - 1]?.t ?? nowMs();
    await new Promise((r) => setTimeout(r, durationMs));
    const to = nowMs();
    await this.until(to);
    const samples = this.window(from, to);
    const problem = coverageProblem(samples, from, to, this.maxGapMs);
    if (problem) throw new MeterError('METER_UNAVAILABLE', `Cannot measure the baseline: ${problem}.`);
    const powerW = integrateJ(samples, from, to) / ((to - from) / 1000);
    const inside = samples.filter((s) => s.t >= from && s.t <= to);
    const mean = inside.reduce((a, s) => a + s.powerW, 0) / Math.max(1, inside.length);
    const stdW = Math.sqrt(inside.reduce((a, s) => a + (s.powerW - mean) ** 2, 0) / Math.max(1, inside.length - 1));
    this.baseline = { powerW, stdW, samples: inside.length, durationMs: to - from, meter: this.meter.name };
    return this.baseline;
  }
}
