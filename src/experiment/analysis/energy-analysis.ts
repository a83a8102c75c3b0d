/**
 * The energy step of an experiment: each cell's start-up and run parts (from its records),
 * start-up energy per function and runtime (the cold cell's energy figure minus the warm, else
 * prewarmed, cell's), the keep-warm cost per runtime, and the advisor's inputs, all kept in
 * summary.json. Every energy here is a cell's energy figure (`cell.energy`, the one the tables,
 * charts and ratios show) or a difference of two of them, in Wh above idle.
 */
import { summarize } from '../../stats.js';
import { startupEnergy, type AdvisorFigure, type AdvisorInput } from '../../energy/advisor.js';
import type { RuntimeKind } from '../../runtimes/index.js';
import type { InvocationMode, InvocationRecord } from '../../types.js';
import type { KeepWarmResult } from '../run/keep-warm.js';
import { figureSource } from './energy-figures.js';
import type { CellSummary } from './summary.js';

/** One cell's start-up and run parts from its records, Wh above idle (medians, with the median's 95% interval). */
interface CellEnergySplit {
  function: string;
  runtime: RuntimeKind;
  mode: InvocationMode;
  input: unknown;
  /** Records with a settled figure. */
  n: number;
  startupWh: AdvisorFigure | null;
  execWh: AdvisorFigure | null;
  /** Of the `n`, how many start-up / run parts held two or more samples (the rest are interpolated). */
  startupMeasured: number;
  execMeasured: number;
}

/** Start-up energy of one function and runtime: the cold cell's figure minus the reference cell's, Wh above idle. */
interface CellStartup {
  function: string;
  runtime: RuntimeKind;
  input: unknown;
  /** The cell subtracted: `warm` (a reused sandbox) where it ran, else `prewarmed` (which understates it). */
  reference: 'warm' | 'prewarmed';
  startupWh: AdvisorFigure;
}

/** Everything the energy step found (the `energy` field of summary.json). */
export interface EnergyAnalysis {
  meter: string;
  estimate: boolean;
  split: CellEnergySplit[];
  startup: CellStartup[];
  keepWarm: KeepWarmResult[];
  /** Per function, input and runtime: what `nebula advise` and the reports cost options from. */
  inputs: AdvisorInput[];
}

function median(values: number[], source: string): AdvisorFigure | null {
  const s = summarize(values);
  if (s.n === 0) return null;
  return { value: s.median, ci95: s.n >= 6 ? s.ci95 : null, source };
}

const sameWork = (
  a: { function: string; runtime: string; input: unknown },
  b: { function: string; runtime: string; input: unknown },
) => a.function === b.function && a.runtime === b.runtime && JSON.stringify(a.input) === JSON.stringify(b.input);

/** A cell's energy figure (the tables' figure) for the advisor, with its source. */
function cellFigure(cell: CellSummary | undefined): AdvisorFigure | null {
  const f = cell?.energy;
  if (!cell || !f || !Number.isFinite(f.valueWh)) return null;
  return { value: f.valueWh, ci95: f.ci95Wh, source: `${cell.mode} cell: ${figureSource(f)}` };
}

/** The energy step's figures from the records and the cells (with their energy figures) of a run. */
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
      startupWh: median(
        recs.map((r) => r.energy!.startup.isolatedEnergyWh),
        'records (median start-up part)',
      ),
      execWh: median(
        recs.map((r) => r.energy!.exec.isolatedEnergyWh),
        'records (median run part)',
      ),
      startupMeasured: recs.filter((r) => r.energy!.startup.quality === 'measured').length,
      execMeasured: recs.filter((r) => r.energy!.exec.quality === 'measured').length,
    };
  });

  const startup: CellStartup[] = [];
  const inputs: AdvisorInput[] = [];
  const works = cells.filter((c, i) => cells.findIndex((d) => sameWork(c, d)) === i);
  for (const w of works) {
    const mine = cells.filter((c) => sameWork(c, w));
    const of = (mode: InvocationMode) => mine.find((c) => c.mode === mode);
    const cold = cellFigure(of('cold'));
    const warm = cellFigure(of('warm'));
    const reference = warm ? 'warm' : 'prewarmed';
    const ref = warm ?? cellFigure(of('prewarmed'));
    if (cold && ref)
      startup.push({
        function: w.function,
        runtime: w.runtime,
        input: w.input,
        reference,
        startupWh: { ...startupEnergy(cold, ref), source: `${cold.source} - ${ref.source}` },
      });
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
      coldWh: cold,
      warmWh: warm,
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
  return { meter: meter.name, estimate: meter.estimate, split, startup, keepWarm, inputs };
}
