/**
 * The energy step of an experiment: start-up and run energy per cell (from the records' parts),
 * start-up energy from batches (cold minus warm or prewarmed), the keep-warm cost per runtime,
 * and the advisor's inputs built from them, all kept in summary.json.
 */
import { differenceCi95, summarize } from '../../stats.js';
import type { AdvisorInput, AdvisorFigure } from '../../energy/advisor.js';
import type { RuntimeKind } from '../../runtimes/index.js';
import type { InvocationMode, InvocationRecord } from '../../types.js';
import type { KeepWarmResult } from '../run/keep-warm.js';
import type { CellSummary } from './summary.js';

/** One cell's start-up and run energy from its records' parts, J above idle (medians, with the median's 95% interval). */
interface CellEnergySplit {
  function: string;
  runtime: RuntimeKind;
  mode: InvocationMode;
  input: unknown;
  /** Records with a settled figure. */
  n: number;
  startupJ: AdvisorFigure | null;
  execJ: AdvisorFigure | null;
  /** Of the `n`, how many start-up / run parts held two or more samples (the rest are interpolated). */
  startupMeasured: number;
  execMeasured: number;
}

/** Start-up energy per invocation from two batches: (cold - reference) per invocation, J above idle. */
interface BatchStartup {
  function: string;
  runtime: RuntimeKind;
  input: unknown;
  reference: 'warm' | 'prewarmed';
  startupJ: AdvisorFigure;
}

/** Everything the energy step found (the `energy` field of summary.json). */
export interface EnergyAnalysis {
  meter: string;
  estimate: boolean;
  split: CellEnergySplit[];
  batchStartup: BatchStartup[];
  keepWarm: KeepWarmResult[];
  /** Per function, input and runtime: what `nebula advise` and the reports cost options from. */
  inputs: AdvisorInput[];
}

const J_PER_WH = 3600;

function median(values: number[], source: string): AdvisorFigure | null {
  const s = summarize(values);
  if (s.n === 0) return null;
  return { value: s.median, ci95: s.n >= 6 ? s.ci95 : null, source };
}

const sameWork = (
  a: { function: string; runtime: string; input: unknown },
  b: { function: string; runtime: string; input: unknown },
) => a.function === b.function && a.runtime === b.runtime && JSON.stringify(a.input) === JSON.stringify(b.input);

/** The energy step's figures from the records and the cells (with their batches) of a run. */
export function analyseEnergy(
  records: InvocationRecord[],
  cells: CellSummary[],
  keepWarm: KeepWarmResult[],
  meter: { name: string; estimate: boolean },
): EnergyAnalysis {
  const split: CellEnergySplit[] = cells.map((c) => {
    const recs = records.filter((r) => r.ok && r.energy && r.mode === c.mode && sameWork(r, c));
    return {
      function: c.function,
      runtime: c.runtime,
      mode: c.mode,
      input: c.input,
      n: recs.length,
      startupJ: median(
        recs.map((r) => r.energy!.startup.isolatedEnergyWh * J_PER_WH),
        'records (median start-up part)',
      ),
      execJ: median(
        recs.map((r) => r.energy!.exec.isolatedEnergyWh * J_PER_WH),
        'records (median run part)',
      ),
      startupMeasured: recs.filter((r) => r.energy!.startup.quality === 'measured').length,
      execMeasured: recs.filter((r) => r.energy!.exec.quality === 'measured').length,
    };
  });

  const batchStartup: BatchStartup[] = [];
  for (const cold of cells.filter((c) => c.mode === 'cold' && c.batch)) {
    const ref = (['warm', 'prewarmed'] as const)
      .map((m) => cells.find((c) => c.mode === m && c.batch && sameWork(c, cold)))
      .find(Boolean);
    if (!ref) continue;
    const a = cold.batch!;
    const b = ref.batch!;
    const d = differenceCi95(
      a.isolatedEnergyPerInvocationJ,
      [a.ci95Wh[0] * J_PER_WH, a.ci95Wh[1] * J_PER_WH],
      b.isolatedEnergyPerInvocationJ,
      [b.ci95Wh[0] * J_PER_WH, b.ci95Wh[1] * J_PER_WH],
    );
    batchStartup.push({
      function: cold.function,
      runtime: cold.runtime,
      input: cold.input,
      reference: ref.mode as 'warm' | 'prewarmed',
      startupJ: { value: d.value, ci95: d.ci95, source: `batches (cold - ${ref.mode}, ${a.n} and ${b.n} invocations)` },
    });
  }

  const inputs: AdvisorInput[] = [];
  const works = cells.filter((c, i) => cells.findIndex((d) => sameWork(c, d)) === i);
  for (const w of works) {
    const mine = cells.filter((c) => sameWork(c, w));
    const fromBatch = batchStartup.find((b) => sameWork(b, w));
    const refCell = fromBatch ? mine.find((c) => c.mode === fromBatch.reference) : undefined;
    const coldSplit = split.find((s) => s.mode === 'cold' && sameWork(s, w));
    const all = records.filter((r) => r.ok && r.energy && sameWork(r, w));
    const kept = keepWarm.find((k) => k.runtime === w.runtime);
    const latencyMs: AdvisorInput['latencyMs'] = {};
    for (const c of mine)
      latencyMs[c.mode] = records
        .filter((r) => r.ok && r.mode === c.mode && sameWork(r, c))
        .map((r) => r.timing.totalMs);
    inputs.push({
      function: w.function,
      runtime: w.runtime,
      input: w.input,
      startupJ: fromBatch?.startupJ ?? coldSplit?.startupJ ?? null,
      execJ:
        refCell?.batch !== undefined
          ? {
              value: refCell.batch.isolatedEnergyPerInvocationJ,
              ci95: [refCell.batch.ci95Wh[0] * J_PER_WH, refCell.batch.ci95Wh[1] * J_PER_WH],
              source: `batch of ${refCell.mode} invocations (${refCell.batch.n})`,
            }
          : median(
              all.map((r) => r.energy!.exec.isolatedEnergyWh * J_PER_WH),
              'records (median run part)',
            ),
      keepWarmW:
        kept && Number.isFinite(kept.wattsPerSandbox)
          ? {
              value: kept.wattsPerSandbox,
              ci95: Number.isFinite(kept.wattsCi95[0]) ? kept.wattsCi95 : null,
              source: `keep-warm fit (${kept.function}, K = ${kept.points
                .map((p) => p.k)
                .filter((k, i, a) => a.indexOf(k) === i)
                .join(', ')})`,
            }
          : null,
      latencyMs,
      estimate: meter.estimate,
    });
  }
  return { meter: meter.name, estimate: meter.estimate, split, batchStartup, keepWarm, inputs };
}
