/** `nebula bench`: run an experiment on the built-ins or your own functions, write its reports, print a summary. */
import { isAbsolute, join, relative } from 'node:path';
import { isNebulaError } from '../../errors.js';
import { recordsToCsv } from '../../experiment/report/csv.js';
import { Experiment, type ExperimentPhase } from '../../experiment/run/experiment.js';
import { resolveConfig } from '../../experiment/run/config.js';
import { termText } from '../../experiment/report/escape.js';
import { fmtMs } from '../../experiment/report/format.js';
import { withKeepWarmCaps } from '../../experiment/run/keep-warm.js';
import { writeReports } from '../../experiment/report/render.js';
import { failedCells } from '../../experiment/report/sections-run.js';
import { readRecords, RUN_FILES } from '../../experiment/run-folder.js';
import { cellKey } from '../../experiment/cell.js';
import { meterFromUrl, meterUsage } from '../../meters/registry.js';
import { Nebula } from '../../nebula.js';
import { runtimeDescriptor, runtimeKinds, specFor, type RuntimeKind } from '../../runtimes/registry.js';
import { own } from '../../own-keys.js';
import type { FunctionSpec } from '../../types.js';
import { INVOCATION_MODES } from '../../types.js';
import { CliError, type Command } from '../args.js';
import { benchSummary } from '../bench-summary.js';
import { configSchema } from '../config-schema.js';
import { sourceFlagsHelp } from '../functions-spec.js';
import { benchOptions, parseBench, planBench, type BenchPlan } from '../bench-plan.js';
import { onInterrupt } from '../interrupt.js';
import { writeOutputFile } from '../output-file.js';
import { Progress, stdoutIsStderr, warningLines } from '../progress.js';

/** The help text, with the runtimes and meters registered when it is asked for. */
const usage = () => `Usage: nebula bench [options]

Benchmarks functions on every runtime (${runtimeKinds().join(', ')}): cold start, run time and energy per
invocation. Writes run.json, records.jsonl, summary.json, report.md and report.html into a new folder.

Functions:
  --functions a,b        which to run (default: every built-in, or the ones you add)
${sourceFlagsHelp().join('\n')}
  --binary NAME=PATH     a static Linux binary, deployed to every runtime that takes one (repeatable)
  --config FILE          a nebula.config.json (functions, inputs, runtimes, ...; flags override it)
  --config-schema        print the JSON Schema of that file (docs/nebula.config.schema.json) and exit
  --inputs fib=30,prime=5000   inputs per function; repeat a name for several inputs

Experiment:
  --runtimes LIST        from ${runtimeKinds().join(',')} (default: all; one that cannot run here is skipped with a note)
  --baseline-runtime R   the runtime ratios divide by (default: process if run, else the first)
  --modes LIST           from ${INVOCATION_MODES.join(',')} (default: cold)
  --repetitions N        measured invocations per cell (default 20)
  --warmup N             unrecorded invocations per cell first (default 2)
  --concurrency N        invocations of a cell at once, each recorded; above 1, energy is each one's share (default 1)
  --order interleaved|shuffled   (default interleaved)
  --seed N               seed of the shuffle and the bootstrap (default 1)
  --timeout DURATION     per invocation (default 60s)
  --meter URL            ${meterUsage()} (default estimate)
  --baseline DURATION    idle power measured first, e.g. 30s (default 10s; 0 for none)
  --keep-warm off|on|K,K,...   the keep-warm step, after the runs (with a meter; on by default
                         when --modes has warm): the power and memory of 0, 1, 10, 50 kept
                         sandboxes per runtime, 2 x 5 s of power per count, plus starting them.
                         K stops growing when memory runs short. off skips it; counts size it.
  --no-micro             skip the tinybench micro-benchmarks of an invocation back to back
  --preinit MODE         start-up work done at deploy (Wasm snapshots, Wizer): deployed (as each
                         function says; default), auto, true, false, or both: each function that
                         can be runs without and with (as NAME-preinit), side by side in the report
  --quick                every built-in with small inputs on every runtime, cold and prewarmed (about two minutes)
  A DURATION is a number with its unit: 500ms, 30s, 2m or 1h (a bare number other than 0 is refused).

Output:
  --out DIR              a new or empty folder (default nebula-results/<time>)
  --export-csv FILE      also write every record as one CSV row (a new file; never one of the run's own)
  --force                let --export-csv replace an existing file
  --json                 print the result as JSON on stdout (progress stays on stderr)
  --dry-run              check everything and print the plan; run nothing
  -h, --help`;

/** A path as the user would type it: relative when under the current folder. */
function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

/** The cells the plan makes (before any runtime is skipped) and its invocation count. */
function planText(plan: BenchPlan): { text: string; json: unknown } {
  const c = plan.config;
  const perFunction = c.functions.map((f) => ({ function: f, inputs: own(c.inputs, f) ?? [null] }));
  const cells = perFunction.reduce((n, f) => n + f.inputs.length, 0) * c.runtimes.length * c.modes.length;
  const invocations = cells * (c.warmup + c.repetitions * c.concurrency);
  const json = { config: c, meter: plan.meter, functions: plan.specs, cells, invocations, warnings: plan.warnings };
  const text = [
    'Plan (nothing was run):',
    `  functions: ${perFunction.map((f) => `${f.function}(${f.inputs.map((i) => JSON.stringify(i)).join(', ')})`).join(', ')}`,
    ...plan.specs.map(
      (s) =>
        `  your ${s.name}: ${runtimeKinds()
          .filter((k) => k in s)
          .join(', ')}`,
    ),
    `  runtimes: ${c.runtimes.join(', ')}; modes: ${c.modes.join(', ')}; ratios against ${c.baseline}`,
    ...(c.preinit === 'deployed'
      ? []
      : [
          `  pre-initialisation: ${c.preinit === 'both' ? 'each function without and with (NAME-preinit), where a runtime can' : String(c.preinit)}`,
        ]),
    `  up to ${cells} cells x (${c.warmup} warm-up + ${c.repetitions}${c.concurrency > 1 ? ` x ${c.concurrency} at once` : ''} measured) = ${invocations} invocations, ${c.order} order, seed ${c.seed}`,
    `  meter: ${plan.meter}${plan.meter === 'none' ? '' : `, idle baseline ${c.baselineMs} ms first`}`,
    `  keep-warm: ${keepWarmText(plan)}`,
    ...warningLines(plan.warnings, '  '),
    `  out: ${shown(c.outDir)}`,
  ].join('\n');
  return { text, json };
}

/** What the keep-warm step will do, in one line of the plan. */
function keepWarmText(plan: BenchPlan): string {
  const kw = plan.config.keepWarm;
  if (!kw)
    return `off${plan.config.modes.includes('warm') ? ' (--keep-warm off)' : ' (on with --modes ...,warm or --keep-warm on)'}`;
  if (plan.meter === 'none') return 'off (it needs a meter; --meter none)';
  const kinds = plan.config.runtimes.filter((k) => runtimeDescriptor(k)?.keepsWarm);
  if (!kinds.length) return 'off (no runtime run keeps sandboxes)';
  const windows = (kinds.length * kw.counts.length * kw.repeats * kw.windowMs) / 1000;
  return `K = ${kw.counts.join(', ')} kept sandboxes on ${kinds.join(', ')}, ${kw.repeats} x ${kw.windowMs / 1000} s of power per K: ${windows} s of windows plus starting up to ${Math.max(...kw.counts)} sandboxes per runtime; K stops growing when memory runs short (--keep-warm off skips it)`;
}

/** Deploys the user's functions; an artifact for a runtime that cannot run here is dropped with a note when allowed. */
export async function deployOwn(
  nebula: Nebula,
  specs: FunctionSpec[],
  skip: boolean,
  note: (t: string) => void,
): Promise<void> {
  for (const spec of specs) {
    try {
      await nebula.deploy(spec);
    } catch (e) {
      if (!skip || !isNebulaError(e) || e.code !== 'RUNTIME_UNAVAILABLE') throw e;
      const kinds = runtimeKinds().filter((k) => k in spec);
      const working: RuntimeKind[] = [];
      for (const k of kinds) {
        const only = specFor(spec, [k]);
        try {
          await nebula.deploy(only);
          working.push(k);
        } catch (err) {
          if (!isNebulaError(err) || err.code !== 'RUNTIME_UNAVAILABLE') throw err;
          note(`${spec.name} on ${k} skipped: ${err.message}`);
        }
      }
      if (!working.length) throw e;
      await nebula.deploy(specFor(spec, working));
    }
  }
}

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseBench(argv);
  if (values.help) {
    console.log(usage());
    return 0;
  }
  if (positionals.length)
    throw new CliError(`nebula bench takes no positional arguments (got "${positionals[0]}"); see --help.`);
  if (values['config-schema']) {
    console.log(JSON.stringify(configSchema(), null, 2));
    return 0;
  }
  const plan = planBench(values);
  const json = values.json === true;
  if (values['dry-run']) {
    const p = planText(plan);
    console.log(json ? JSON.stringify(p.json, null, 2) : p.text);
    return 0;
  }
  const meter = meterFromUrl(plan.meter);
  const progress = new Progress();
  progress.warn(plan.warnings);
  const nebula = new Nebula(withKeepWarmCaps({ meter }, resolveConfig(plan.config).keepWarm));
  const ac = new AbortController();
  let stoppedBy: NodeJS.Signals | undefined;
  const dispose = onInterrupt((signal) => {
    stoppedBy = signal;
    progress.line(
      `Stopping after the current invocation (${signal}; again to quit at once); everything recorded so far is kept.`,
    );
    ac.abort();
  });
  try {
    // A meter that cannot be read fails the run before any work (exit 1); --meter none runs without energy.
    if (nebula.meter) await nebula.checkMeter();
    const exp = new Experiment(nebula, plan.config);
    for (const w of plan.warnings) exp.note(w);
    await deployOwn(nebula, plan.specs, plan.config.skipUnavailable, (t) => {
      exp.note(t);
      progress.line(termText(`note: ${t}`, true));
    });
    let phase: ExperimentPhase = 'prepare';
    let label = '';
    exp.on('phase', (p, size, step) => {
      phase = p;
      label = '';
      progress.phase(p, size, step.index, step.count);
    });
    exp.on(
      'progress',
      (_d, _t, rec) =>
        (label = `${rec.function} ${rec.runtime} ${rec.mode} ${rec.ok ? fmtMs(rec.timing.totalMs) : rec.error?.code}`),
    );
    exp.on('tick', (p, done, total) => progress.tick(done, total, p === phase ? label : ''));
    exp.on('note', (t) => progress.line(termText(`note: ${t}`, true)));
    const result = await exp.run(ac.signal);
    const dir = plan.config.outDir;
    const reports = writeReports(dir, result);
    const files: Record<string, string> = {
      'run.json': join(dir, RUN_FILES.run),
      'records.jsonl': join(dir, RUN_FILES.records),
      'summary.json': join(dir, RUN_FILES.summary),
      'report.md': reports.markdown,
      'report.html': reports.html,
    };
    if (plan.exportCsv) {
      const mismatched = new Set(result.outputCheck.mismatches.flatMap((m) => m.recordIds));
      const cells = new Set(result.cells.map(cellKey));
      const records = readRecords(files['records.jsonl']!).records.filter((r) => cells.has(cellKey(r)));
      writeOutputFile({ flag: '--export-csv', path: plan.exportCsv }, recordsToCsv(records, mismatched), plan.force);
      files.csv = plan.exportCsv;
    }
    if (json) console.log(JSON.stringify({ files, result }, null, 2));
    else console.log(`\n${benchSummary(result, files, stdoutIsStderr())}`);
    // A cell that never succeeded measured nothing: the run did not do what it was asked.
    return stoppedBy === 'SIGTERM' ? 143 : result.interrupted ? 130 : failedCells(result).never.length ? 1 : 0;
  } finally {
    dispose();
    await nebula.close();
  }
}

export const command: Command = {
  name: 'bench',
  summary: 'benchmark functions on every runtime (try: nebula bench --quick)',
  get usage() {
    return usage();
  },
  get options() {
    return benchOptions();
  },
  run,
};
