/**
 * What `nebula bench` prints when it ends: absolute medians per cell with their intervals and
 * ranges, the ratios against the baseline runtime, the output check, and every file written.
 */
import { fmtEnergy, type EnergyFigure } from '../experiment/analysis/energy-figures.js';
import { fmtBytes, fmtInput, fmtMs, fmtRatio } from '../experiment/report/format.js';
import { describeMismatch } from '../experiment/analysis/output-check.js';
import { execNote, runtimeLabel } from '../experiment/report/kit.js';
import { describeFailures, failedCells } from '../experiment/report/sections-run.js';
import type { Summary } from '../stats.js';
import type { Comparison, ExperimentResult } from '../experiment/analysis/summary.js';
import { termText } from '../experiment/report/escape.js';
import { textTable } from './table.js';

const withCi = (s: Summary | undefined, fmt: (v: number) => string = fmtMs) =>
  s ? `${fmt(s.median)} [${fmt(s.ci95[0])}, ${fmt(s.ci95[1])}]` : '–';
const range = (s: Summary | undefined) => (s ? `${fmtMs(s.min)} … ${fmtMs(s.max)}` : '–');
const ratio = (c: Comparison | undefined) =>
  c ? `${fmtRatio(c.ratio)} [${fmtRatio(c.ci95[0])}, ${fmtRatio(c.ci95[1])}]` : '–';
const energy = (f: EnergyFigure | undefined) =>
  f ? `${fmtEnergy(f)} ${f.source === 'batch' ? `batch of ${f.n}` : f.shares ? 'median share' : 'median'}` : '–';

/**
 * The summary as lines of text for a terminal; `files` are the paths written, by what they hold.
 * With `notesShown`, the run's notes were printed as they came, where the reader sees this
 * summary, so they are not repeated.
 */
export function benchSummary(r: ExperimentResult, files: Record<string, string>, notesShown = false): string {
  const out: string[] = [];
  const hasEnergy = r.cells.some((c) => c.energy);
  const marked = (kind: Parameters<typeof execNote>[0]) => (execNote(kind) ? ' †' : '');
  out.push(
    `Medians per invocation [95% interval of the median]; total min … max${r.interrupted ? ' (INTERRUPTED: partial results)' : ''}`,
  );
  out.push(
    textTable(
      [
        'function',
        'input',
        'runtime',
        'mode',
        'n',
        'startup',
        'exec',
        'total',
        'total min … max',
        'cpu',
        'peak memory',
        ...(hasEnergy ? [r.baseline ? 'energy above idle' : 'energy including idle'] : []),
      ],
      r.cells.map((c) => [
        c.function,
        fmtInput(c.input),
        runtimeLabel(c.runtime),
        c.mode,
        c.failed ? `${c.ok} (+${c.failed} failed)` : String(c.ok),
        withCi(c.metrics.startupMs),
        `${fmtMs(c.metrics.execMs?.median)}${marked(c.runtime)}`,
        withCi(c.metrics.totalMs),
        range(c.metrics.totalMs),
        withCi(c.metrics.cpuMs),
        withCi(c.metrics.maxMemoryBytes, fmtBytes),
        ...(hasEnergy ? [energy(c.energy)] : []),
      ]),
      'llllrrrrrrrl',
    ),
  );
  const notes = [...new Set(r.cells.map((c) => execNote(c.runtime)).filter(Boolean))];
  for (const n of notes) out.push(`† ${n}`);
  const { failed, never } = failedCells(r);
  if (failed.length) {
    out.push(
      '',
      `${never.length ? `FAILED: ${never.length} cell${never.length === 1 ? '' : 's'} never succeeded` : 'Failures'}; error codes and the first message per cell:`,
    );
    for (const line of describeFailures(r)) out.push(`  ${line}`);
  }

  if (r.comparisons.length) {
    const groups = new Map<string, Comparison[]>();
    for (const c of r.comparisons) {
      const k = `${c.function}|${fmtInput(c.input)}|${c.mode}|${c.runtime}`;
      (groups.get(k) ?? groups.set(k, []).get(k)!).push(c);
    }
    // The energy column is there whenever cells have energy, saying why when a ratio is missing.
    const anyEnergy = hasEnergy;
    const cellOf = (c: Comparison, runtime: string) =>
      r.cells.find(
        (x) =>
          x.function === c.function &&
          x.mode === c.mode &&
          x.runtime === runtime &&
          fmtInput(x.input) === fmtInput(c.input),
      );
    const noRatio = (c: Comparison) =>
      cellOf(c, c.baseline)?.energy?.aboveIdle === false
        ? `– (${runtimeLabel(c.baseline)} not distinguishable from idle)`
        : '–';
    out.push(
      '',
      `Ratios: each runtime / ${runtimeLabel(r.config.baseline)} (ratio of medians per invocation, 95% bootstrap interval${anyEnergy ? '; energy: ratio of the energy figures above, as "runtime side / baseline side"' : ''})`,
    );
    out.push(
      textTable(
        ['function', 'input', 'mode', 'runtime', 'startup', 'exec', 'total', ...(anyEnergy ? ['energy'] : [])],
        [...groups.values()].map((cs) => {
          const c0 = cs[0]!;
          const get = (m: string) => cs.find((c) => c.metric === m);
          const e = get('energy');
          return [
            c0.function,
            fmtInput(c0.input),
            c0.mode,
            `${runtimeLabel(c0.runtime)} / ${runtimeLabel(c0.baseline)}`,
            ratio(get('startupMs')),
            `${ratio(get('execMs'))}${execNote(c0.runtime) || execNote(c0.baseline) ? ' †' : ''}`,
            ratio(get('totalMs')),
            ...(anyEnergy
              ? [
                  e
                    ? `${ratio(e)} (${e.sources ? `${e.sources.runtime} / ${e.sources.baseline}` : e.quantity})`
                    : noRatio(c0),
                ]
              : []),
          ];
        }),
        'llllrrrl',
      ),
    );
  }

  const pairs = r.cells.flatMap((w) => {
    const without = w.variantOf
      ? r.cells.find(
          (c) =>
            c.function === w.variantOf &&
            c.runtime === w.runtime &&
            c.mode === w.mode &&
            fmtInput(c.input) === fmtInput(w.input),
        )
      : undefined;
    return without ? [{ without, w }] : [];
  });
  if (pairs.length) {
    out.push('', 'Pre-initialised (NAME-preinit) against not: medians, and the snapshot made at deploy');
    out.push(
      textTable(
        ['function', 'input', 'runtime', 'mode', 'startup', 'total', 'total ratio', 'module', 'snapshot made in'],
        pairs.map(({ without, w }) => {
          const snap = r.snapshots?.find((s) => s.function === w.function && s.runtime === w.runtime)?.snapshot;
          const total = (c: typeof w) => c.metrics.totalMs?.median;
          return [
            without.function,
            fmtInput(w.input),
            runtimeLabel(w.runtime),
            w.mode,
            `${fmtMs(without.metrics.startupMs?.median)} → ${fmtMs(w.metrics.startupMs?.median)}`,
            `${fmtMs(total(without))} → ${fmtMs(total(w))}`,
            fmtRatio((total(w) ?? NaN) / (total(without) ?? NaN)),
            snap ? `${fmtBytes(snap.originalBytes)} → ${fmtBytes(snap.snapshotBytes)}` : '–',
            snap ? fmtMs(snap.snapshotMs) : '–',
          ];
        }),
        'llllrrrrr',
      ),
    );
  }

  out.push('');
  const oc = r.outputCheck;
  if (oc.mismatches.length) {
    out.push(
      `OUTPUTS DIFFER: ${oc.mismatches.length} group${oc.mismatches.length === 1 ? '' : 's'} of records disagree with the rest (record ids in summary.json, outputCheck):`,
    );
    for (const m of oc.mismatches) out.push(`  ${describeMismatch(m)}`);
  } else if (oc.records)
    out.push(`Outputs: every function gave the same output on every runtime and mode (${oc.records} records checked).`);
  if (r.meter?.estimate && hasEnergy)
    out.push(`ENERGY IS AN ESTIMATE from CPU utilisation (${r.meter.name}), not a measurement.`);
  if (!notesShown) for (const n of r.notes) out.push(`note: ${n}`);
  out.push('', 'Files:');
  const width = Math.max(...Object.keys(files).map((k) => k.length));
  for (const [what, path] of Object.entries(files)) out.push(`  ${what.padEnd(width)}  ${path}`);
  // Names, inputs, outputs and notes come from outside: nothing in them may act on the terminal.
  return termText(out.join('\n'), true);
}
