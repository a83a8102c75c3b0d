/** Report sections on the run as a whole: runtime comparisons, the output check, engine overhead, machine and configuration. */
import { mdText } from './escape.js';
import { fmtInput, fmtMs, fmtRatio, fmtW } from './format.js';
import { describeMismatch } from '../analysis/output-check.js';
import { belowIdle } from '../analysis/energy-figures.js';
import { cellLabel, execNote, htmlTable, mdTable, runtimeLabel, type ReportSection } from './kit.js';
import type { CellSummary, Comparison, ExperimentResult } from '../analysis/summary.js';
import type { RuntimeKind } from '../../runtimes/index.js';

const TIMINGS = ['startupMs', 'execMs', 'totalMs'] as const;

/** Each runtime against the baseline runtime: one row per function, input, mode and runtime. */
export function comparisonsSection(r: ExperimentResult): ReportSection | null {
  if (!r.comparisons.length) return null;
  const base = r.config.baseline;
  const groups = new Map<string, Comparison[]>();
  for (const c of r.comparisons) {
    const k = `${c.function}|${fmtInput(c.input)}|${c.mode}|${c.runtime}`;
    (groups.get(k) ?? groups.set(k, []).get(k)!).push(c);
  }
  // The energy column is there whenever cells have energy, saying why when a ratio is missing.
  const anyEnergy = r.cells.some((c) => c.energy);
  const baseFigure = (c: Comparison) =>
    r.cells.find(
      (x) =>
        x.function === (r.cells.find((t) => t.function === c.function)?.variantOf ?? c.function) &&
        x.mode === c.mode &&
        x.runtime === c.baseline &&
        fmtInput(x.input) === fmtInput(c.input),
    )?.energy;
  const energyHead = r.baseline ? 'energy above idle' : 'energy (idle included)';
  const head = [
    'function',
    'input',
    'mode',
    'runtime / baseline',
    'startup',
    'exec',
    'total',
    ...(anyEnergy ? [energyHead] : []),
  ];
  // In HTML an interval stays on one line (non-breaking space) below its ratio.
  const ci = (c: Comparison, sep: string) =>
    `[${fmtRatio(c.ci95[0])},${sep === '\n' ? '\u00a0' : ' '}${fmtRatio(c.ci95[1])}]`;
  const body = (sep: string) =>
    [...groups.values()].map((cs) => {
      const c0 = cs[0]!;
      const get = (m: string) => cs.find((c) => c.metric === m);
      const cells = [
        c0.function,
        fmtInput(c0.input),
        c0.mode,
        `${runtimeLabel(c0.runtime)} / ${runtimeLabel(c0.baseline)}`,
      ];
      for (const m of TIMINGS) {
        const c = get(m);
        const mark = m === 'execMs' && (execNote(c0.runtime) || execNote(c0.baseline)) ? ' †' : '';
        cells.push(c ? `${fmtRatio(c.ratio)}${mark}${sep}${ci(c, sep)}` : '–');
      }
      if (anyEnergy) {
        const e = get('energy');
        cells.push(
          e
            ? `${fmtRatio(e.ratio)}${sep}${ci(e, sep)}${sep}(${e.sources ? `${e.sources.runtime} / ${e.sources.baseline}` : e.quantity})`
            : baseFigure(c0)?.aboveIdle === false
              ? `–${sep}(${runtimeLabel(c0.baseline)} not distinguishable from idle)`
              : '–',
        );
      }
      return cells;
    });
  const hint =
    `Each ratio divides a runtime's figure by ${runtimeLabel(base)}'s for the same function, input and mode (above 1: slower, or more energy). ` +
    'Timings: ratio of the medians per invocation, 95% percentile-bootstrap interval. ' +
    (anyEnergy
      ? `Energy: ratio of the cells' energy figures (the same quantity as the energy chart; which statistic each side is, in brackets); ` +
        'where a side is a batch, the interval comes from the two 95% intervals (at least 90% joint coverage). '
      : '') +
    (r.cells.some((c) => execNote(c.runtime)) ? '† divides exec times measured differently (see Run time).' : '');
  return {
    id: 'ratios',
    title: `Each runtime / ${runtimeLabel(base)}`,
    hint,
    html: htmlTable(head, body('\n'), 4),
    markdown: mdTable(head, body(' ')),
  };
}

/** A first error message as shown beside its cell: one line, at most 300 characters. */
function firstMessage(c: CellSummary): string {
  const text = (c.firstError?.message ?? '').replace(/\s+/g, ' ').trim();
  return text.length > 300 ? `${text.slice(0, 299)}…` : text;
}

/** `FUNCTION_FAILED 3, TIMEOUT 1`: a cell's failed records by code. */
function failureCodes(c: CellSummary): string {
  return Object.entries(c.errors)
    .map(([code, n]) => `${code} ${n}`)
    .join(', ');
}

/** The cells with failed records, and those of them that never succeeded. */
export function failedCells(r: ExperimentResult): { failed: CellSummary[]; never: CellSummary[] } {
  const failed = r.cells.filter((c) => c.failed > 0);
  return { failed, never: failed.filter((c) => c.ok === 0) };
}

/** One line per cell with failures: `fib(100) Wasm cold: 5 of 5 failed (FUNCTION_FAILED 5); first: ...`. */
export function describeFailures(r: ExperimentResult): string[] {
  return failedCells(r).failed.map(
    (c) =>
      `${cellLabel(c)}: ${c.failed} of ${c.ok + c.failed} failed (${failureCodes(c)})${c.firstError ? `; first: ${firstMessage(c)}` : ''}`,
  );
}

/** Cells whose invocations failed: their error codes and the first message, so a failure never goes unexplained. */
export function failuresSection(r: ExperimentResult): ReportSection | null {
  const { failed, never } = failedCells(r);
  if (!failed.length) return null;
  const head = ['function', 'input', 'runtime', 'mode', 'failed', 'codes', 'first message'];
  const body = failed.map((c) => [
    c.function,
    fmtInput(c.input),
    runtimeLabel(c.runtime),
    c.mode,
    `${c.failed} of ${c.ok + c.failed}`,
    failureCodes(c),
    firstMessage(c),
  ]);
  return {
    id: 'failures',
    title: never.length ? 'Failures: cells that never succeeded' : 'Failures',
    ...(never.length
      ? {
          warn: `${never.length} cell${never.length === 1 ? '' : 's'} never succeeded: ${never.map(cellLabel).join('; ')}. They have no figures.`,
        }
      : {}),
    hint: 'Cells with failed invocations: how many, by error code, and the first error message (records.jsonl has every one).',
    html: htmlTable(head, body),
    markdown: mdTable(head, body),
  };
}

/** Whether every function gave the same output everywhere; the mismatches by record id. */
export function outputCheckSection(r: ExperimentResult): ReportSection | null {
  const oc = r.outputCheck;
  if (!oc || !oc.records) return null;
  if (!oc.mismatches.length) {
    const text = `Every function gave the same output for the same input on every runtime and mode (${oc.records} successful records in ${oc.groups} function-input groups).`;
    return { id: 'outputs', title: 'Output check', html: `<p>${text}</p>`, markdown: text };
  }
  const head = ['function', 'input', 'runtime', 'mode', 'expected', 'got', 'records', 'record ids'];
  const body = oc.mismatches.map((m) => [
    m.function,
    fmtInput(m.input),
    runtimeLabel(m.runtime),
    m.mode,
    JSON.stringify(m.expected),
    JSON.stringify(m.got),
    String(m.recordIds.length),
    m.recordIds.slice(0, 3).join(', ') + (m.recordIds.length > 3 ? ', ...' : ''),
  ]);
  return {
    id: 'outputs',
    title: 'Output check: OUTPUTS DIFFER',
    warn: `${oc.mismatches.length} group${oc.mismatches.length === 1 ? '' : 's'} of records gave another output than the rest for the same input: the runtimes did not compute the same thing, so their figures are not comparable. Every id is in summary.json (outputCheck).`,
    hint: 'Expected: the output most records of that function and input gave. Outputs are compared exactly after JSON parsing (key order ignored).',
    html: htmlTable(head, body),
    markdown: mdTable(head, body),
  };
}

/**
 * The micro-benchmarks, each with what it covers, beside this run's cold start-ups on the same
 * runtimes (an invocation arriving at an idle host), so the figures can be told apart and reconciled.
 */
export function microSection(r: ExperimentResult): ReportSection | null {
  if (!r.micro.length) return null;
  const head = ['figure', 'what it covers', 'samples', 'median', 'p99'];
  const body = r.micro.map((t) => [t.task, t.covers ?? '', String(t.samples), fmtMs(t.medianMs), fmtMs(t.p99Ms)]);
  const timed = new Set(r.micro.map((t) => t.runtime));
  for (const c of r.cells.filter((x) => timed.has(x.runtime) && x.mode === 'cold' && x.metrics.startupMs)) {
    const s = c.metrics.startupMs!;
    body.push([
      `run phase: ${c.function}(${fmtInput(c.input)}) ${runtimeLabel(c.runtime)} cold startupMs`,
      'the cold start the tables show: from invoke() to the function starting, for an invocation arriving at an idle host between other invocations, so what sleeps is woken and the caches are cold',
      String(s.n),
      fmtMs(s.median),
      fmtMs(s.p99),
    ]);
  }
  return {
    id: 'micro',
    title: 'Invocation cost, back to back (tinybench)',
    hint: 'Three ways of timing an invocation, next to each other: the same work with no engine around it, a whole invoke() back to back, and the cold start of the run phase. Back to back, a whole invoke() can take less than the bare work (what it hands over to is awake, what it reuses is ready: each row says what it covers), while the cold start of the run phase is larger: each of its invocations arrives at an idle host. See docs/experiments.md.',
    html: htmlTable(head, body, 2),
    markdown: mdTable(head, body),
  };
}

export function machineSection(r: ExperimentResult): ReportSection | null {
  const rows = Object.entries(r.machine).map(([k, v]) => [k, String(v)]);
  rows.push([
    'meter',
    r.meter
      ? `${r.meter.name}${r.meter.estimate ? ' (ESTIMATE)' : ''}${Number.isFinite(r.meter.intervalMs) ? `, every ${r.meter.intervalMs} ms` : ''}`
      : 'none',
  ]);
  if (r.baseline)
    rows.push([
      'idle baseline',
      `${fmtW(r.baseline.powerW)} (sd ${fmtW(r.baseline.stdW)}, ${r.baseline.samples} samples)`,
    ]);
  if (r.load)
    rows.push([
      'load average (1 min)',
      `${r.load.start.toFixed(2)} at the start${r.load.end === null ? '' : `, ${r.load.end.toFixed(2)} at the end`} (runnable processes of every program${r.machine.cores ? `, on ${r.machine.cores} cores` : ''})`,
    ]);
  rows.push(['functions', [...new Set(r.cells.map((c) => c.function))].join(', ')]);
  for (const f of r.functions ?? [])
    for (const [kind, a] of Object.entries(f.artifacts))
      rows.push([
        `${f.name} on ${runtimeLabel(kind as RuntimeKind)}`,
        [
          a.path,
          a.image,
          a.imageId && `image id ${a.imageId}`,
          a.digest,
          a.sizeBytes !== undefined && `${a.sizeBytes} bytes`,
        ]
          .filter(Boolean)
          .join(', '),
      ]);
  rows.push([
    'runtimes',
    r.config.runtimes.map(runtimeLabel).join(', ') + `; ratios against ${runtimeLabel(r.config.baseline)}`,
  ]);
  rows.push(['modes', r.config.modes.join(', ')]);
  rows.push([
    'repetitions',
    `${r.config.repetitions} per cell, ${r.config.order} order (seed ${r.config.seed}), ${r.config.warmup} warm-up invocations per cell not counted`,
  ]);
  rows.push(['timeout', `${r.config.timeoutMs} ms per invocation`]);
  return {
    id: 'machine',
    title: 'Machine and configuration',
    html: htmlTable(['', ''], rows),
    markdown: rows.map(([k, v]) => `- ${mdText(k ?? '')}: ${mdText(v ?? '')}`).join('\n'),
  };
}

/** The lines shown above everything: an interrupted run, differing outputs, the run's notes. */
export function banners(r: ExperimentResult): Array<{ level: 'error' | 'warn'; text: string }> {
  const out: Array<{ level: 'error' | 'warn'; text: string }> = [];
  if (r.interrupted)
    out.push({ level: 'warn', text: 'Interrupted: these are the results recorded before the run was stopped.' });
  for (const m of r.outputCheck?.mismatches ?? [])
    out.push({ level: 'error', text: `Outputs differ: ${describeMismatch(m)}.` });
  const below = r.cells.filter((c) => belowIdle(c.energy)).length;
  if (below && r.baseline)
    out.push({
      level: 'warn',
      text: `The idle baseline (${fmtW(r.baseline.powerW)}) is above the power drawn during the runs of ${below} cell${below === 1 ? '' : 's'}: their energy above idle is below zero, so the baseline does not describe this machine's idle state (something else was running while it was measured, or the load changed). Measure it again with the machine idle, or run with --baseline 0.`,
    });
  for (const n of r.notes) out.push({ level: 'warn', text: n });
  return out;
}
