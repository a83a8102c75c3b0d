/**
 * What `nebula load` prints when it ends: per step the offered and achieved rate, latency from
 * the intended send time with the p99's interval, errors, cold starts, sandboxes in use, CPU and
 * energy per invocation and power; the knee of each series; the notes and the files written.
 */
import { fmtInput, fmtMs, fmtW } from '../experiment/report/format.js';
import { runtimeLabel } from '../experiment/report/kit.js';
import type { LoadResult } from '../experiment/load/run-load.js';
import type { Percentile } from '../experiment/load/summary.js';
import { fmtJ } from '../experiment/report/format.js';
import { textTable } from './table.js';

const rate = (v: number) => (Number.isFinite(v) ? `${v >= 100 ? v.toFixed(0) : v.toPrecision(3)}/s` : '–');
const withCi = (p: Percentile) =>
  Number.isFinite(p.value) ? `${fmtMs(p.value)} [${fmtMs(p.ci95[0])}, ${p.open ? '≥' : ''}${fmtMs(p.ci95[1])}]` : '–';

/** The summary as lines of text; `files` are the paths written, by what they hold. */
export function loadSummary(r: LoadResult, files: Record<string, string>): string {
  const out: string[] = [];
  out.push(
    `Latency from each invocation's intended send time (queue time included), [95% interval]${r.interrupted ? ' (INTERRUPTED: partial results)' : ''}`,
  );
  out.push(
    textTable(
      [
        'function',
        'input',
        'runtime',
        'mode',
        'offered',
        'achieved',
        'p50',
        'p90',
        'p99 [95%]',
        'p99.9',
        'max',
        'errors',
        'cold',
        'in flight',
        'cpu/inv',
        'energy/inv',
        'power',
        'lag p99',
      ],
      r.results.map((s) => [
        s.function,
        fmtInput(s.input),
        runtimeLabel(s.runtime),
        s.mode,
        rate(s.offeredPerS),
        rate(s.achievedPerS),
        fmtMs(s.latencyMs.p50.value),
        fmtMs(s.latencyMs.p90.value),
        withCi(s.latencyMs.p99),
        fmtMs(s.latencyMs.p999.value),
        fmtMs(s.latencyMs.max),
        s.failed
          ? Object.entries(s.errors)
              .map(([code, n]) => `${code} ${n}`)
              .join(', ')
          : '0',
        Number.isFinite(s.coldShare) ? `${(s.coldShare * 100).toFixed(0)}%` : '–',
        `${s.inFlight.mean.toFixed(1)} (max ${Number.isFinite(s.inFlight.peak) ? s.inFlight.peak : '–'})`,
        s.cpuMsPerInvocation === null ? '–' : fmtMs(s.cpuMsPerInvocation),
        s.energyJPerInvocation ? fmtJ(s.energyJPerInvocation.aboveIdle) : '–',
        s.powerW ? fmtW(s.powerW.mean) : '–',
        `${fmtMs(s.lagMs.p99)}${s.generatorBehind ? ' BEHIND' : ''}`,
      ]),
      'llllrrrrrrrlrrrrrr',
    ),
  );
  out.push('');
  out.push(
    `Knee: the highest offered rate with p99 <= ${r.spec.kneeP99Ms} ms and at most ${(r.spec.stopErrorRate * 100).toFixed(1)}% failed`,
  );
  out.push(
    textTable(
      ['function', 'runtime', 'mode', 'knee', 'sweep'],
      r.series.map((s) => [
        s.function,
        runtimeLabel(s.runtime),
        s.mode,
        s.knee === null ? 'none of the rates' : rate(s.knee),
        s.stopped ? `stopped at ${rate(s.stopped.ratePerS)}: ${s.stopped.reason}` : 'every rate run',
      ]),
    ),
  );
  out.push(
    '',
    `Energy per invocation: the mean of each record's share of the power above idle (docs/energy.md#shares)${r.meter?.estimate ? '; the meter only estimates power' : ''}.`,
    `The generator's own lag: p99 at most ${fmtMs(r.generator.lagP99Ms)} over the steps${r.generator.behind ? ' (it FELL BEHIND its schedule in some step; latencies still count from the intended times)' : ''}.`,
  );
  if (r.notes.length) out.push('', 'Notes:', ...r.notes.map((n) => `  - ${n}`));
  out.push('', 'Files:', ...Object.entries(files).map(([what, path]) => `  ${what.padEnd(14)} ${path}`));
  return out.join('\n');
}
