/**
 * The energy step of an experiment, run after the batches when a meter is attached: the
 * keep-warm measurements (when configured) and the analysis kept in summary.json.
 */
import { isNebulaError } from '../../errors.js';
import type { Nebula } from '../../nebula.js';
import { descriptorOf, type RuntimeKind } from '../../runtimes/registry.js';
import type { InvocationRecord } from '../../types.js';
import { quantile } from '../../stats.js';
import { analyseEnergy, type EnergyAnalysis } from '../analysis/energy-analysis.js';
import {
  keepWarmSteps,
  measureKeepWarm,
  type KeepWarmProgress,
  type KeepWarmResult,
  type KeepWarmStep,
  type ResolvedKeepWarm,
} from './keep-warm.js';
import type { CellSummary } from '../analysis/summary.js';

/** What the step needs from the runner. */
export interface EnergyStepContext {
  records: InvocationRecord[];
  cells: CellSummary[];
  runtimes: RuntimeKind[];
  keepWarm: ResolvedKeepWarm | false;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Announces the keep-warm phase: its expected length, ms, and what it does. */
  phase: (name: string, totalMs: number, detail: string) => void;
  /** Progress within it: ms since it began, of `totalMs` expected (re-estimated as it goes). */
  tick: (doneMs: number, totalMs: number) => void;
  /** The keep-warm phase was planned but has nothing to do: why. */
  skipped: (why: string) => void;
  note: (text: string) => void;
}

/** Runs the keep-warm measurements and returns the energy analysis; a runtime that fails is noted, not fatal. */
export async function runEnergyStep(nebula: Nebula, ctx: EnergyStepContext): Promise<EnergyAnalysis | undefined> {
  const meter = nebula.meter;
  if (!meter) return undefined;
  const kept: KeepWarmResult[] = [];
  const keeping = ctx.runtimes.filter((r) => descriptorOf(r).keepsWarm);
  if (ctx.keepWarm)
    for (const r of ctx.runtimes)
      if (!keeping.includes(r))
        ctx.note(
          `keep-warm on ${r} not measured: its warm mode keeps no sandbox (every run is a fresh ${descriptorOf(r).label.toLowerCase()}).`,
        );
  if (ctx.keepWarm && !keeping.length) ctx.skipped('no runtime that keeps sandboxes ran');
  if (ctx.keepWarm && keeping.length) {
    const kw = ctx.keepWarm;
    const plan = new StepPlan(
      keeping.map((r) => ({
        runtime: r,
        steps: keepWarmSteps(kw, meter.intervalMs),
        startMs: startMsOf(ctx.records, r),
      })),
    );
    ctx.phase(
      'keep-warm',
      plan.remainingMs(),
      `K = ${kw.counts.join(', ')} kept sandboxes on ${keeping.join(', ')}, ${kw.repeats} x ${kw.windowMs / 1000} s of power per K, K growing only while memory allows; the ETA follows the measured start-up of the sandboxes`,
    );
    const began = performance.now();
    const tick = () => {
      const done = performance.now() - began;
      ctx.tick(done, done + plan.remainingMs());
    };
    const timer = setInterval(tick, 250);
    try {
      for (const [i, runtime] of keeping.entries()) {
        if (ctx.signal?.aborted) break;
        try {
          const r = await measureKeepWarm(nebula, runtime, kw, {
            timeoutMs: ctx.timeoutMs,
            ...(ctx.signal ? { signal: ctx.signal } : {}),
            progress: plan.progress(i),
            startMs: plan.startMs(i),
          });
          kept.push(r);
          for (const n of r.notes) ctx.note(`keep-warm on ${runtime}: ${n}`);
        } catch (e) {
          ctx.note(
            `keep-warm on ${runtime} not measured: ${isNebulaError(e) ? `${e.code}: ` : ''}${(e as Error).message}`,
          );
        }
        plan.finish(i);
      }
    } finally {
      clearInterval(timer);
      const done = performance.now() - began;
      ctx.tick(done, done);
    }
  }
  return analyseEnergy(ctx.records, ctx.cells, kept, meter);
}

/** Expected ms to start one kept sandbox of a runtime: the median cold `totalMs` of its records (300 ms without any). */
function startMsOf(records: InvocationRecord[], runtime: RuntimeKind): number {
  const ms = records
    .filter((r) => r.ok && r.runtime === runtime && r.mode === 'cold')
    .map((r) => r.timing.totalMs)
    .sort((a, b) => a - b);
  return ms.length ? quantile(ms, 0.5) : 300;
}

/**
 * The keep-warm step's remaining time, re-estimated as it goes: waits and windows take what they
 * say; starting sandboxes is first estimated from the run's cold start-ups, then from what the
 * starts of this runtime actually took.
 */
class StepPlan {
  private readonly left: KeepWarmStep[][];
  private readonly perSandboxMs: number[];
  private current: { runtime: number; step: KeepWarmStep; at: number } | undefined;

  constructor(private readonly runtimes: Array<{ runtime: RuntimeKind; steps: KeepWarmStep[]; startMs: number }>) {
    this.left = runtimes.map((r) => [...r.steps]);
    this.perSandboxMs = runtimes.map((r) => r.startMs);
  }

  startMs(i: number): number {
    return this.runtimes[i]!.startMs;
  }

  private expected(i: number, step: KeepWarmStep): number {
    return step.kind === 'wait' ? step.ms : step.added * this.perSandboxMs[i]!;
  }

  remainingMs(): number {
    let ms = 0;
    this.left.forEach((steps, i) => steps.forEach((s) => (ms += this.expected(i, s))));
    const c = this.current;
    if (c) ms += Math.max(0, this.expected(c.runtime, c.step) - (performance.now() - c.at));
    return ms;
  }

  progress(i: number): KeepWarmProgress {
    return {
      begin: (step) => {
        this.left[i]!.shift();
        this.current = { runtime: i, step, at: performance.now() };
      },
      end: () => {
        const c = this.current;
        if (c?.step.kind === 'start' && c.step.added > 0)
          this.perSandboxMs[i] = (performance.now() - c.at) / c.step.added;
        this.current = undefined;
      },
      stopped: () => this.finish(i),
    };
  }

  finish(i: number): void {
    this.left[i] = [];
    if (this.current?.runtime === i) this.current = undefined;
  }
}
