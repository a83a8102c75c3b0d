/**
 * The energy step of an experiment, run after the batches when a meter is attached: the
 * keep-warm measurements (when configured) and the analysis kept in summary.json.
 */
import { isNebulaError } from '../errors.js';
import type { Nebula } from '../nebula.js';
import type { RuntimeKind } from '../runtimes/index.js';
import type { InvocationRecord } from '../types.js';
import { analyseEnergy, type EnergyAnalysis } from './energy-analysis.js';
import { measureKeepWarm, type KeepWarmResult, type ResolvedKeepWarm } from './keep-warm.js';
import type { CellSummary } from './summary.js';

/** What the step needs from the runner. */
export interface EnergyStepContext {
  records: InvocationRecord[];
  cells: CellSummary[];
  runtimes: RuntimeKind[];
  keepWarm: ResolvedKeepWarm | false;
  timeoutMs: number;
  signal?: AbortSignal;
  phase: (name: string) => void;
  note: (text: string) => void;
}

/** Runs the keep-warm measurements and returns the energy analysis; a runtime that fails is noted, not fatal. */
export async function runEnergyStep(nebula: Nebula, ctx: EnergyStepContext): Promise<EnergyAnalysis | undefined> {
  const meter = nebula.meter;
  if (!meter) return undefined;
  const kept: KeepWarmResult[] = [];
  if (ctx.keepWarm) {
    ctx.phase('keep-warm');
    for (const runtime of ctx.runtimes) {
      if (ctx.signal?.aborted) break;
      try {
        const r = await measureKeepWarm(nebula, runtime, ctx.keepWarm, ctx.timeoutMs, ctx.signal);
        kept.push(r);
        for (const n of r.notes) ctx.note(`keep-warm on ${runtime}: ${n}`);
      } catch (e) {
        ctx.note(`keep-warm on ${runtime} not measured: ${isNebulaError(e) ? `${e.code}: ` : ''}${(e as Error).message}`);
      }
    }
  }
  return analyseEnergy(ctx.records, ctx.cells, kept, meter);
}
