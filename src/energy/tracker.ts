/**
 * Energy attribution: follows one meter (started once, restarted with back-off after a failed
 * start), keeps a bounded history of its samples, and turns a time window into an
 * `InvocationEnergy` (whole, start-up and run parts), a batch of short invocations into a
 * `BatchEnergy`, and an idle period into a `Baseline`.
 */
import { nowMs } from '../clock.js';
import { isNebulaError, MeterError, toNebulaError, type NebulaError } from '../errors.js';
import type { Meter } from '../meters/meter.js';
import type { Baseline, BatchEnergy, EnergyNote, InvocationEnergy, PowerSample } from '../types.js';
import { t95 } from '../stats.js';
import { invocationEnergy, type InvocationWindow } from './attribute.js';
import { coverageProblem, integrateJ } from './integrate.js';
import { CpuHistory, hostCpuMs } from './machine-cpu.js';
import { SampleHistory, type SampleHistoryOptions } from './samples.js';

/** Longest wait for a meter's `start()`, ms: past it the start counts as failed (and is retried later). */
const START_DEADLINE_MS = 30_000;

/** `promise`, or a `METER_UNAVAILABLE` rejection after `ms`. */
function withDeadline(promise: Promise<void>, ms: number, meter: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new MeterError('METER_UNAVAILABLE', `The meter ${meter} did not start within ${ms / 1000} s.`)),
      ms,
    );
    timer.unref?.();
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** Options of {@link EnergyTracker}. */
export interface EnergyTrackerOptions extends SampleHistoryOptions {
  /** After a failed start, try again at most this often, ms. Default 5 000. */
  retryMs?: number;
  /**
   * Reads the CPU time (ms, cumulative) of what the meter measures, beside each sample, for energy
   * shares. Default: this host's (the root cgroup's `cpuacct.usage`, else `/proc/stat`).
   */
  machineCpuMs?: () => number;
}

/** The energy of one window, or why there is none. */
export interface Attribution {
  energy: InvocationEnergy | null;
  /** Why `energy` is null, or why it is coarse (`INTERPOLATED`). */
  note?: EnergyNote;
}

/** Why a window's energy is being decided now for good: the deadline passed, the meter stopped, the process exits. */
export type FinalCause = 'deadline' | 'stopped' | 'exit';

type State = 'idle' | 'starting' | 'running' | 'failed' | 'stopped';

/** Follows one meter and attributes energy to time windows. */
export class EnergyTracker {
  baseline: Baseline | null = null;
  /** Called after each accepted sample with its time (the pending records settle here). */
  onSample: ((t: number) => void) | undefined;
  /** Called when the meter failed to start (the pending records settle as `METER_OFF`). */
  onStartFailed: ((error: NebulaError) => void) | undefined;
  private readonly samples: SampleHistory;
  /** The machine's CPU time, read beside each sample. */
  readonly cpu: CpuHistory;
  private state: State = 'idle';
  private startError: NebulaError | undefined;
  private retryAt = 0;
  private starting: Promise<void> | undefined;
  private readonly waiters = new Set<() => void>();

  constructor(
    readonly meter: Meter,
    readonly options: EnergyTrackerOptions = {},
  ) {
    this.samples = new SampleHistory(options);
    this.cpu = new CpuHistory(options.machineCpuMs ?? hostCpuMs(), options);
    meter.on('sample', (s) => {
      if (!this.samples.add(s)) return;
      this.cpu.take();
      for (const w of this.waiters) w();
      this.onSample?.(s.t);
    });
    meter.on('error', (e) =>
      this.samples.fault({
        t: nowMs(),
        code: isNebulaError(e) ? e.code : 'METER_UNAVAILABLE',
        message: e?.message ?? String(e),
      }),
    );
  }

  /** Samples currently held (oldest first). */
  get history(): readonly PowerSample[] {
    return this.samples.all;
  }

  /** True while the meter's last start failed (until a retry). */
  get failed(): boolean {
    return this.state === 'failed';
  }

  /** True once `stop()` was called. */
  get stopped(): boolean {
    return this.state === 'stopped';
  }

  /** The samples around [from, to] (see `SampleHistory.around`). */
  around(from: number, to: number): PowerSample[] {
    return this.samples.around(from, to);
  }

  /** Time of the newest sample held, epoch ms (-Infinity before the first). */
  get lastSampleT(): number {
    return this.samples.lastT;
  }

  /** True once the meter has started and has not been stopped. */
  get running(): boolean {
    return this.state === 'running';
  }

  /** A longer pause between samples is a gap: 2.5 intervals, but at least 100 ms (timer jitter). */
  get maxGapMs(): number {
    return Math.max(this.meter.intervalMs * 2.5, 100);
  }

  /**
   * Starts the meter once; later calls return the same promise. A failed start is retried by the
   * next call (or {@link kick}) after `retryMs`.
   * @throws MeterError `METER_UNAVAILABLE` when the meter cannot start, or after `stop()`.
   */
  start(): Promise<void> {
    if (this.state === 'running') return Promise.resolve();
    if (this.state === 'stopped')
      return Promise.reject(
        new MeterError('METER_UNAVAILABLE', 'The meter was stopped (the Nebula instance is closed).'),
      );
    if (this.starting) return this.starting;
    this.state = 'starting';
    this.samples.restarted();
    const p = Promise.resolve()
      .then(() => withDeadline(this.meter.start(), START_DEADLINE_MS, this.meter.name))
      .then(
        () => {
          if (this.state === 'starting') this.state = 'running';
          this.starting = undefined;
        },
        (e: unknown) => {
          const error = toNebulaError(e, 'METER_UNAVAILABLE');
          this.starting = undefined;
          if (this.state === 'starting') {
            this.state = 'failed';
            this.startError = error;
            this.retryAt = nowMs() + (this.options.retryMs ?? 5000);
            this.onStartFailed?.(error);
          }
          throw error;
        },
      );
    this.starting = p;
    return p;
  }

  /** Starts the meter in the background when it is not running (after a failure, at most every `retryMs`). Never throws. */
  kick(): void {
    if (this.state === 'idle' || (this.state === 'failed' && nowMs() >= this.retryAt))
      this.start().catch(() => undefined);
  }

  /** Starts the meter and, before its first sample, waits for one (at most `waitMs`). @throws MeterError `METER_UNAVAILABLE` */
  async ready(waitMs = this.meter.intervalMs * 2 + 1000): Promise<void> {
    await this.start();
    if (this.samples.firstT !== Number.POSITIVE_INFINITY) return;
    const now = nowMs();
    await this.until(now, now + waitMs);
  }

  /**
   * Starts the meter and waits for its first sample (at most `waitMs`): whether it can be read at all.
   * @throws MeterError `METER_UNAVAILABLE` when it cannot start or gives no sample in time (with its
   * last read error), `METER_PROTOCOL` when what it read was not a valid reading.
   */
  async check(waitMs = this.meter.intervalMs * 2 + 1000): Promise<void> {
    const from = nowMs();
    await this.ready(waitMs);
    if (this.samples.firstT !== Number.POSITIVE_INFINITY) return;
    const fault = this.samples.faultIn(from, nowMs());
    throw new MeterError(
      fault?.code === 'METER_PROTOCOL' ? 'METER_PROTOCOL' : 'METER_UNAVAILABLE',
      `The meter ${this.meter.name} started but gave no reading within ${waitMs} ms${fault ? `: ${fault.message}` : ''}.`,
    );
  }

  /** Stops the meter; it is not restarted. */
  async stop(): Promise<void> {
    this.state = 'stopped';
    for (const w of this.waiters) w();
    await this.meter.stop();
  }

  /** Waits until a sample at or after `t` arrives, or `deadlineAt` (epoch ms) passes, or the signal aborts. */
  until(t: number, deadlineAt: number, signal?: AbortSignal): Promise<void> {
    if (this.samples.lastT >= t) return Promise.resolve();
    return new Promise<void>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      let done = false;
      const check = () => {
        if (done) return;
        if (
          this.samples.lastT >= t ||
          nowMs() >= deadlineAt ||
          signal?.aborted ||
          this.state === 'stopped' ||
          this.state === 'failed'
        ) {
          done = true;
          clearTimeout(timer);
          this.waiters.delete(check);
          signal?.removeEventListener('abort', check);
          resolve();
        }
      };
      // Node timers can fire a fraction of a millisecond early: an early firing arms the timer again.
      const arm = () => {
        timer = setTimeout(
          () => {
            check();
            if (!done) arm();
          },
          Math.max(1, Math.ceil(deadlineAt - nowMs()) + 1),
        );
      };
      this.waiters.add(check);
      signal?.addEventListener('abort', check);
      check();
      if (!done) arm();
    });
  }

  /**
   * The energy of an invocation's window from the samples held now. Returns `undefined` while a
   * later sample may still cover the window; with `final` set, decides (a figure or a reason).
   */
  resolve(w: InvocationWindow, final?: FinalCause): Attribution | undefined {
    return this.resolveWindow(w.from, w.startAt, w.to, final);
  }

  /** {@link resolve} with the window's times as numbers (no object per record on the settle path). */
  resolveWindow(from: number, startAt: number, to: number, final?: FinalCause): Attribution | undefined {
    if (this.state === 'failed' && this.samples.lastT < to)
      return off(`the meter did not start: ${this.startError?.message ?? 'unknown error'}`);
    const samples = this.samples.around(from, to);
    const problem = coverageProblem(samples, from, to, this.maxGapMs);
    if (problem?.kind === 'start') {
      if (this.samples.firstT === Number.POSITIVE_INFINITY)
        return final ? this.finalGap(from, final, 'the meter gave no sample') : undefined;
      if (from < this.samples.firstT)
        return unavailable(
          'NOT_YET_SAMPLED',
          `the window began ${(this.samples.firstT - from).toFixed(0)} ms before the meter's first sample`,
        );
      return unavailable(
        'OUT_OF_HISTORY',
        `the window is older than the ${this.samples.all.length} samples kept (option historyMs)`,
      );
    }
    if (problem?.kind === 'end') return final ? this.finalGap(from, final, problem.message) : undefined;
    const pad = this.meter.intervalMs;
    const fault = this.samples.faultIn(from - pad, to + pad);
    if (problem)
      return unavailable(
        fault?.code === 'METER_PROTOCOL' ? 'METER_PROTOCOL' : 'METER_OUTAGE',
        `${problem.message}${fault ? ` (${fault.message})` : ''}`,
      );
    if (fault)
      return unavailable(
        fault.code === 'METER_PROTOCOL' ? 'METER_PROTOCOL' : 'METER_OUTAGE',
        `the meter reported an error during the window: ${fault.message}`,
      );
    return invocationEnergy(samples, from, startAt, to, this.meter, this.baseline?.powerW ?? 0);
  }

  private finalGap(from: number, cause: FinalCause, what: string): Attribution {
    if (cause === 'stopped') return off(`the meter was stopped (close()) before it covered the window: ${what}`);
    if (cause === 'exit') return off(`the process exited before the meter covered the window: ${what}`);
    if (this.state === 'starting') return off(`the meter had not finished starting by the settle deadline: ${what}`);
    const fault = this.samples.faultIn(from - this.meter.intervalMs, nowMs());
    if (fault)
      return unavailable(
        fault.code === 'METER_PROTOCOL' ? 'METER_PROTOCOL' : 'METER_OUTAGE',
        `${what}; the meter reported: ${fault.message}`,
      );
    return unavailable('METER_OUTAGE', `${what} before the settle deadline (the meter stopped sampling)`);
  }

  /**
   * Energy of [from, to] (epoch ms), split at `startAt` (default `from`); with `wait` (default
   * true), first waits for the meter to cover `to`, at most 2 intervals plus a second.
   */
  async attribute(
    from: number,
    to: number,
    options: { wait?: boolean; signal?: AbortSignal; startAt?: number } = {},
  ): Promise<Attribution> {
    if (options.wait !== false)
      await this.until(to, Math.max(to, nowMs()) + this.meter.intervalMs * 2 + 1000, options.signal);
    return this.resolve({ from, startAt: options.startAt ?? from, to }, 'deadline')!;
  }

  /**
   * Energy per invocation of `n` invocations run back to back in [from, to]:
   * `(integral of P - baseline x T) / n`. The 95% interval comes from k = 10 equal sub-windows,
   * each giving its own per-invocation estimate (invocations assumed evenly spread), and a
   * Student t interval over those k estimates.
   * @throws MeterError `METER_UNAVAILABLE` when the meter does not cover the window.
   */
  async batch(from: number, to: number, n: number): Promise<BatchEnergy> {
    await this.until(to, Math.max(to, nowMs()) + this.meter.intervalMs * 2 + 1000);
    const samples = this.samples.around(from, to);
    const problem = coverageProblem(samples, from, to, this.maxGapMs);
    if (problem) throw new MeterError('METER_UNAVAILABLE', `Batch energy: ${problem.message}.`);
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

  /**
   * Mean power over the next `durationMs` (time-weighted) and the samples' spread, W.
   * @throws MeterError `METER_UNAVAILABLE` when the meter does not cover the period.
   */
  async measurePower(durationMs: number): Promise<Baseline> {
    const waitMs = this.meter.intervalMs * 2 + 1000;
    await this.until(nowMs(), nowMs() + waitMs);
    const from = Number.isFinite(this.samples.lastT) ? this.samples.lastT : nowMs();
    await new Promise((r) => setTimeout(r, durationMs));
    const to = nowMs();
    await this.until(to, to + waitMs);
    const samples = this.samples.around(from, to);
    const problem = coverageProblem(samples, from, to, this.maxGapMs);
    if (problem) throw new MeterError('METER_UNAVAILABLE', `Cannot measure power: ${problem.message}.`);
    const powerW = integrateJ(samples, from, to) / ((to - from) / 1000);
    const inside = samples.filter((s) => s.t >= from && s.t <= to);
    const mean = inside.reduce((a, s) => a + s.powerW, 0) / Math.max(1, inside.length);
    const stdW = Math.sqrt(inside.reduce((a, s) => a + (s.powerW - mean) ** 2, 0) / Math.max(1, inside.length - 1));
    const power: Baseline = { powerW, stdW, samples: inside.length, durationMs: to - from, meter: this.meter.name };
    const busyCores = this.cpu.between(from, to) / (to - from);
    if (Number.isFinite(busyCores) && busyCores >= 0) power.busyCores = busyCores;
    return power;
  }

  /** Measures idle power for `durationMs` and keeps it as the baseline. @throws MeterError `METER_UNAVAILABLE` */
  async measureBaseline(durationMs: number): Promise<Baseline> {
    this.baseline = await this.measurePower(durationMs);
    return this.baseline;
  }
}

function unavailable(reason: EnergyNote['reason'], message: string): Attribution {
  return { energy: null, note: { reason, message: `no energy figure: ${message}` } };
}

const off = (message: string) => unavailable('METER_OFF', message);
