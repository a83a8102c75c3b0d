/** `nebula advise <dir> --rate 2/s [--p99 50ms]`: the runtime and mode using the least energy per invocation. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { advise, parseRate, type AdvisorOption } from '../../energy/advisor.js';
import { UsageError } from '../../errors.js';
import { fmtAboveIdle, fmtInput, fmtMs, fmtWh } from '../../experiment/report/format.js';
import { fmtBreakEven, fmtFigure, fmtS } from '../../experiment/report/sections-energy-analysis.js';
import type { ExperimentResult } from '../../experiment/analysis/summary.js';
import { readLoadOrReplay } from '../../experiment/load/folder.js';
import { fmtJ } from '../../experiment/report/format.js';
import type { ReplayResult } from '../../experiment/replay/run-replay.js';
import { termText } from '../../experiment/report/escape.js';
import { CliError, parse, parseDuration, type Command } from '../args.js';

/** A line of the answer: names, inputs and notes come from the run's files. */
const say = (text: string) => console.log(termText(text, true));

const usage = `Usage: nebula advise <dir> --rate 2/s [--p99 50ms] [--function NAME] [--json]

Given a replay's folder (nebula replay), ranks its keep-alive policies: least total energy (keep-warm
plus invocations) first among those meeting --p99, then fewest cold starts; --rate is not needed.

From the energy figures of a recorded experiment (nebula bench with a meter), says which runtime
and mode spends the least energy per invocation at an arrival rate, and the keep-alive to use.
It reads the cells' energy figures, the same ones the report's energy table shows: cold is
costed from a run with --modes cold; prewarmed and warm also need the keep-warm step and a warm
cell (--modes cold,warm, or cold,prewarmed,warm). The model assumes Poisson arrivals and one
sandbox per function (docs/energy.md).

Options:
  --rate R          arrivals, e.g. 2/s, 30/min, 10/h (required)
  --p99 DURATION    a latency target for the p99 of total time, with its unit, e.g. 50ms or 2s
  --function NAME   only this function
  --json            the whole answer as JSON`;

const options = {
  rate: { type: 'string' },
  p99: { type: 'string' },
  function: { type: 'string' },
  json: { type: 'boolean' },
} as const;

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, 'advise', options);
  if (values.help) {
    console.log(usage);
    return 0;
  }
  if (positionals.length !== 1) throw new CliError('nebula advise takes one experiment folder. (see --help).');
  const replay = readLoadOrReplay(positionals[0]!);
  if (replay?.format === 'nebula-load/1')
    throw new CliError(
      `${positionals[0]!} holds a nebula load run; nebula advise reads an experiment (nebula bench) or a replay (nebula replay). The load run's knee per series is in its report (nebula report ${positionals[0]!}).`,
    );
  if (replay?.format === 'nebula-replay/1')
    return adviseReplay(replay, values.p99 ? parseDuration(values.p99, '--p99') : undefined, values.json === true);
  if (!values.rate) throw new CliError('nebula advise needs --rate, e.g. --rate 2/s. (see --help).');
  const rate = parseRate(values.rate);
  if (!(rate > 0) || !Number.isFinite(rate))
    throw new CliError(`--rate takes arrivals such as 2/s, 30/min or 10/h, got "${values.rate}".`);
  const p99 = values.p99 ? parseDuration(values.p99, '--p99', true) : undefined;
  const dir = positionals[0]!;
  let result: ExperimentResult;
  try {
    result = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as ExperimentResult;
  } catch (e) {
    throw new UsageError(
      'INVALID_CONFIG',
      `${dir} holds no readable summary.json of an experiment: ${(e as Error).message}`,
      { cause: e },
    );
  }
  if (!result.energy)
    throw new UsageError(
      'ENERGY_NOT_MEASURED',
      `${dir} has no energy figures: it ran without a meter${result.meter ? ` (or its meter ${result.meter.name} gave none)` : ''}. Run the experiment with a meter (nebula bench --meter estimate|rapl|gude://...).`,
    );
  const inputs = result.energy.inputs.filter((i) => !values.function || i.function === values.function);
  if (!inputs.length) throw new CliError(`${dir} has no figures for function "${values.function as string}".`);
  const a = advise(inputs, rate, p99);
  if (values.json) {
    console.log(JSON.stringify(a, null, 2));
    return 0;
  }

  const est = result.energy.estimate ? ' (ESTIMATES from the CPU-utilisation model, not measurements)' : '';
  const idle = result.baseline ? 'above idle' : 'including idle (no baseline was measured)';
  say(
    `At ${rate.toPrecision(3)} invocations/s${p99 !== undefined ? `, p99 at most ${fmtMs(p99)}` : ''}; energy per invocation ${idle}, from ${result.energy.meter}${est}:\n`,
  );
  const share = (x: number) => `${(x * 100).toFixed(x < 0.1 && x > 0 ? 1 : 0)}%`;
  const parts = (o: AdvisorOption) =>
    o.mode === 'cold'
      ? "the cold cell's figure"
      : [
          o.parts.coldWh > 0 || o.coldShare > 0 ? `${share(o.coldShare)} cold ${fmtWh(o.parts.coldWh)}` : '',
          o.coldShare < 1 ? `${share(1 - o.coldShare)} warm ${fmtWh(o.parts.warmWh)}` : '',
          `kept warm ${fmtWh(o.parts.keepWarmWh)}`,
        ]
          .filter(Boolean)
          .join(' + ');
  const line = (o: AdvisorOption) =>
    `${o.function}(${fmtInput(o.input)}) ${o.runtime} ${o.mode}${o.mode === 'warm' ? ` keep-alive ${fmtS(o.keepAliveS)}` : ''}: ${fmtAboveIdle(o.energyPerInvocationWh, o.ci95Wh, fmtWh)} per invocation ` +
    `(${parts(o)}), p99 ${fmtMs(o.p99Ms ?? undefined)}` +
    (o.meetsP99 === false ? ' MISSES the target' : '');
  for (const b of a.best) say(`best: ${line(b)}`);
  if (!a.best.length)
    say(
      p99 !== undefined
        ? 'No option meets the p99 target with these figures.'
        : 'No option could be costed with these figures.',
    );
  say('\nAll options, least energy first:');
  for (const o of a.options) say(`  ${line(o)}`);
  if (a.breakEven.length) {
    say('\nBreak-even keep-alive (keep warm when invocations come more often than this):');
    for (const b of a.breakEven) say(`  ${b.function}(${fmtInput(b.input)}) ${b.runtime}: ${fmtBreakEven(b)}`);
  }
  say("\nFigures used (the cells' energy figures, as in the report's energy table):");
  for (const i of inputs) {
    const start = a.startup.find(
      (s) => s.function === i.function && s.runtime === i.runtime && fmtInput(s.input) === fmtInput(i.input),
    );
    say(
      `  ${i.function}(${fmtInput(i.input)}) ${i.runtime}: cold ${fmtFigure(i.coldWh)}${i.coldWh ? ` (${i.coldWh.source})` : ''}; ` +
        `warm ${fmtFigure(i.warmWh)}${i.warmWh ? ` (${i.warmWh.source})` : ''}; start-up (cold - warm) ${fmtFigure(start?.startupWh ?? null)}; ` +
        `kept warm ${fmtFigure(i.keepWarmW, (w) => `${(w * 1000).toPrecision(3)} mW`)}`,
    );
  }
  for (const n of a.notes) say(`note: ${n}`);
  return 0;
}

/**
 * A replay's policies ranked for the workload it replayed: least total energy (keep-warm plus
 * invocations) first among those meeting the p99 target, then fewest cold starts.
 */
function adviseReplay(r: ReplayResult, p99: number | undefined, json: boolean): number {
  const ranked = r.results
    .map((p) => ({ ...p, meetsP99: p99 === undefined ? null : p.latencyMs.p99 <= p99 }))
    .sort(
      (a, b) =>
        Number(b.meetsP99 !== false) - Number(a.meetsP99 !== false) ||
        (a.totalJ ?? Number.POSITIVE_INFINITY) - (b.totalJ ?? Number.POSITIVE_INFINITY) ||
        a.coldStarts - b.coldStarts,
    );
  const best = ranked.filter((p) => p.meetsP99 !== false).slice(0, 1);
  if (json) {
    console.log(JSON.stringify({ best, options: ranked }, null, 2));
    return 0;
  }
  console.log(
    `For the replayed trace (${r.trace.arrivals} invocations over ${(r.trace.spanMs / 60_000).toFixed(1)} min)${p99 !== undefined ? `, p99 at most ${fmtMs(p99)}` : ''}: least total energy first${ranked.some((p) => p.totalJ === null) ? ' (policies without a total, no meter or keep-warm power, last)' : ''}.\n`,
  );
  const line = (p: (typeof ranked)[number]) =>
    `${p.policy} on ${p.runtime}: ${p.coldStarts} cold starts (${(p.coldShare * 100).toFixed(1)}%), p99 ${fmtMs(p.latencyMs.p99)}, keep-warm ${fmtJ(p.keepWarmJ)} + invocations ${fmtJ(p.invocationJ)} = ${fmtJ(p.totalJ)}${p.meetsP99 === false ? ' MISSES the target' : ''}`;
  if (best[0]) console.log(`best: ${line(best[0])}`);
  else console.log('No policy meets the p99 target.');
  console.log('\nAll policies:');
  for (const p of ranked) console.log(`  ${line(p)}`);
  return 0;
}

export const command: Command = {
  name: 'advise',
  summary: 'the runtime and mode using the least energy per invocation at an arrival rate',
  usage,
  options,
  positionals: ['folder'],
  run,
};
