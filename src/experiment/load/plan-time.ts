/**
 * The time a run's plan still needs, for progress with an ETA of the whole run: each step still
 * planned (a load step, a replay under one policy) takes its duration plus the settling between
 * steps (energy settling, clean-up, the next series' warm-up), measured as the run goes.
 */

/** Settling assumed between steps until one has been measured, ms. */
const FIRST_SETTLE_MS = 1000;

export class PlanTime<Step extends { durationMs: number }> {
  private readonly settles: number[] = [];
  private last: { at: number; durationMs: number } | undefined;

  constructor(private readonly steps: readonly Step[]) {}

  /** The mean settling measured between steps so far (ms), or a first guess before any. */
  get settleMs(): number {
    return this.settles.length ? this.settles.reduce((a, b) => a + b, 0) / this.settles.length : FIRST_SETTLE_MS;
  }

  /**
   * Step `index` starts at `at` (epoch ms). Returns the time expected after its arrivals end, ms:
   * its own settling, then each later step not `dropped` (a sweep stopped early drops the rest of
   * its series), its duration and its settling.
   */
  started(index: number, at: number, dropped: (step: Step) => boolean = () => false): number {
    if (this.last) this.settles.push(Math.max(0, at - this.last.at - this.last.durationMs));
    this.last = { at, durationMs: this.steps[index]?.durationMs ?? 0 };
    const settle = this.settleMs;
    let laterMs = settle;
    for (const step of this.steps.slice(index + 1)) if (!dropped(step)) laterMs += step.durationMs + settle;
    return laterMs;
  }

  /** The whole plan's time from its start, with the settling assumed so far, ms. */
  get totalMs(): number {
    return this.steps.reduce((a, s) => a + s.durationMs + this.settleMs, 0);
  }
}
