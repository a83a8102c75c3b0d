/**
 * The energy step of an experiment, run after the batches when a meter is attached: the
 * keep-warm measurements (when configured) and the analysis kept in summary.json.
 */
import { isNebulaError } from '../../errors.js';
import type { Nebula } from '../../nebula.js';
import { descriptorOf, type RuntimeKind } from '../../runtimes/registry.js';
import type { InvocationRecord } from '../../types.js';
import { analyseEnergy, type EnergyAnalysis } from '../analysis/energy-analysis.js';
import { measureKeepWarm, type KeepWarmResult, type ResolvedKeepWarm } from './keep-warm.js';
import type { CellSummary } from '../analysis/summary.js';

/** What the step needs from the runner. */
export interface EnergyStepContext {
  records: InvocationRecord[];
  cells: CellSummary[];
  runtimes: RuntimeKind[];
  keepWarm: ResolvedKeepWarm | false;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Announces the keep-warm phase: its expected length, ms of measurement windows. */
  phase: (name: string, totalMs: number) => void;
  /** Progress within it, ms of measurement windows done. */
  tick: (doneMs: number, totalMs: number) => void;
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
  if (ctx.keepWarm && keeping.length) {
    const kw = ctx.keepWarm;
    const perRuntime = kw.counts.length * kw.repeats * kw.windowMs;
    const total = perRuntime * keeping.length;
    ctx.phase('keep-warm', total);
    let done = 0;
    let windowStart: number | undefined;
    const now = () => performance.now();
    const timer = setInterval(
      () =>
        ctx.tick(
          Math.min(total, done + (windowStart === undefined ? 0 : Math.min(kw.windowMs, now() - windowStart))),
          total,
        ),
      250,
    );
    const onWindow = (edge: 'start' | 'end') => {
      if (edge === 'start') windowStart = now();
      else {
        done += kw.windowMs;
        windowStart = undefined;
      }
    };
    try {
      for (const [i, runtime] of keeping.entries()) {
        if (ctx.signal?.aborted) break;
        try {
          const r = await measureKeepWarm(nebula, runtime, kw, ctx.timeoutMs, ctx.signal, onWindow);
          kept.push(r);
          for (const n of r.notes) ctx.note(`keep-warm on ${runtime}: ${n}`);
        } catch (e) {
          ctx.note(
            `keep-warm on ${runtime} not measured: ${isNebulaError(e) ? `${e.code}: ` : ''}${(e as Error).message}`,
          );
        }
        done = perRuntime * (i + 1);
        windowStart = undefined;
      }
    } finally {
      clearInterval(timer);
      ctx.tick(total, total);
    }
  }
  return analyseEnergy(ctx.records, ctx.cells, kept, meter);
}
