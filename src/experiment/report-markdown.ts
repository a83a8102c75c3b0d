/** report.md: tables a person reads in a terminal or a pull request. */
import type { CellSummary, ExperimentResult } from './summary.js';
import { fmtInput, fmtMs, fmtRatio, fmtW, fmtWh } from './format.js';
import { energyMarkdown } from './report-energy.js';

const row = (cells: string[]) => `| ${cells.join(' | ')} |`;
const rule = (n: number) => row(Array.from({ length: n }, () => '---'));
/** The columns that name a cell. */
const cellCols = (c: CellSummary) => [c.function, fmtInput(c.input), c.runtime, c.mode];

export function renderMarkdown(r: ExperimentResult): string {
  const out: string[] = [];
  out.push(`# nebula-faas experiment${r.interrupted ? ' (interrupted: partial results)' : ''}`, '');
  out.push(`${r.startedAt} to ${r.finishedAt}. ${r.config.repetitions} repetitions per cell, ${r.config.order} order (seed ${r.config.seed}), ${r.config.warmup} warm-up invocations per cell not counted.`, '');
  if (r.meter)
    out.push(
      `Energy from **${r.meter.name}**${r.meter.estimate ? ' (an ESTIMATE from CPU utilisation, not a measurement)' : ''}, every ${r.meter.intervalMs} ms.` +
        (r.baseline ? ` Idle baseline ${fmtW(r.baseline.powerW)} ± ${fmtW(r.baseline.stdW)} (${r.baseline.samples} samples).` : ''),
      '',
    );
  else out.push('No meter: no energy figures.', '');
  for (const n of r.notes) out.push(`> Note: ${n}`, '');

  out.push('## Timing (medians, distribution-free 95% interval of the median in brackets)', '');
  out.push(row(['function', 'input', 'runtime', 'mode', 'n', 'startup', 'exec', 'total', 'p95 total', 'failed']));
  out.push(rule(10));
  for (const c of r.cells) {
    const m = c.metrics;
    out.push(
      row([
        ...cellCols(c),
        String(c.ok),
        `${fmtMs(m.startupMs?.median)} [${fmtMs(m.startupMs?.ci95[0])}, ${fmtMs(m.startupMs?.ci95[1])}]`,
        `${fmtMs(m.execMs?.median)} [${fmtMs(m.execMs?.ci95[0])}, ${fmtMs(m.execMs?.ci95[1])}]`,
        fmtMs(m.totalMs?.median),
        fmtMs(m.totalMs?.p95),
        c.failed ? `${c.failed} (${Object.entries(c.errors).map(([k, v]) => `${k} ${v}`).join(', ')})` : '0',
      ]),
    );
  }
  out.push('');

  if (r.comparisons.length) {
    out.push(`## Each runtime against ${r.config.baseline ?? 'the baseline'} (ratio of medians, 95% bootstrap interval)`, '');
    out.push(row(['function', 'input', 'mode', 'metric', 'runtime / baseline', 'ratio', '95% interval']));
    out.push(rule(7));
    for (const c of r.comparisons)
      out.push(row([c.function, fmtInput(c.input), c.mode, c.metric, `${c.runtime} / ${c.baseline}`, fmtRatio(c.ratio), `${fmtRatio(c.ci95[0])} – ${fmtRatio(c.ci95[1])}`]));
    out.push('');
  }

  if (r.meter) {
    out.push(`## Energy per invocation${r.meter.estimate ? ' (estimated)' : ''}`, '');
    out.push(row(['function', 'input', 'runtime', 'mode', 'avg power', 'above idle', 'energy', 'energy above idle', 'batch (above idle, 95% CI)']));
    out.push(rule(9));
    for (const c of r.cells) {
      const m = c.metrics;
      const b = c.batch;
      out.push(
        row([
          ...cellCols(c),
          fmtW(m.avgPowerW?.median),
          fmtW(m.isolatedPowerW?.median),
          fmtWh(m.energyWh?.median),
          fmtWh(m.isolatedEnergyWh?.median),
          b ? `${fmtWh(b.isolatedEnergyPerInvocationWh)} [${fmtWh(b.ci95Wh[0])}, ${fmtWh(b.ci95Wh[1])}] over ${b.n} runs` : '–',
        ]),
      );
    }
    out.push('');
  }

  out.push(energyMarkdown(r));
  if (r.micro.length) {
    out.push('## Engine overhead (tinybench)', '');
    out.push(row(['task', 'samples', 'median', 'mean', 'p99', '± (rme)']));
    out.push(rule(6));
    for (const t of r.micro) out.push(row([t.task, String(t.samples), fmtMs(t.medianMs), fmtMs(t.meanMs), fmtMs(t.p99Ms), `${t.rmePercent.toFixed(1)}%`]));
    out.push('');
  }

  out.push('## Machine and configuration', '');
  for (const [k, v] of Object.entries(r.machine)) out.push(`- ${k}: ${v}`);
  out.push(`- functions: ${[...new Set(r.cells.map((c) => c.function))].join(', ')}; runtimes: ${r.config.runtimes.join(', ')}; modes: ${r.config.modes.join(', ')}`);
  out.push(`- timeout ${r.config.timeoutMs} ms; baseline ${r.config.baselineMs} ms`, '');
  out.push('startup: invoke() until the function starts; exec: function start to end; total: invoke() until the result. See docs/timing.md.', '');
  return out.join('\n');
}
