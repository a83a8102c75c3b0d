/** `nebula load`: open-loop load at constant or Poisson arrivals, a rate or a sweep of rates, per function x runtime x mode. */
import { runLoad } from '../../experiment/load/run-load.js';
import { termText } from '../../experiment/report/escape.js';
import { loadCsv, writeLoadReports } from '../../experiment/load/report.js';
import { loadJson, loadRunFiles } from '../../experiment/load/load-json.js';
import { Nebula } from '../../nebula.js';
import { meterFromUrl, meterUsage } from '../../meters/registry.js';
import { runtimeKinds } from '../../runtimes/registry.js';
import { INVOCATION_MODES } from '../../types.js';
import { CliError, type Command } from '../args.js';
import { onInterrupt } from '../interrupt.js';
import { writeOutputFile } from '../output-file.js';
import { loadConfigSchema } from '../config-schema.js';
import { loadOptions, parseLoad, planLoad } from '../load-plan.js';
import { loadSummary } from '../load-summary.js';
import { Progress, RunLeft, warningLines } from '../progress.js';
import { deployOwn } from './bench.js';

/** The help text, with the runtimes and meters registered when it is asked for. */
const usage = () => `Usage: nebula load [options]

Sends invocations at their own pace (open loop: constant or Poisson arrivals), whatever the
engine is doing, and measures each one's latency from its intended send time, queue time
included. Per rate: achieved rate, latency percentiles with intervals, errors, cold starts,
invocations in flight, sandboxes made and used, CPU and energy per invocation, power; the knee of
each runtime. Writes run.json, records.jsonl and summary.json into a new folder.

Config:
  --config FILE          a JSON file of the settings below (functions, rates, bounds, ...; flags override it)
  --config-schema        print the JSON Schema of that file and exit

Functions:
  --functions a,b        which to load (default fib, or the ones you add)
  --<runtime> NAME=...   your own function on a runtime, as nebula bench takes it (nebula bench --help lists them)
  --binary NAME=PATH     a static Linux binary, deployed to every runtime that takes one (repeatable)
  --inputs fib=20        one input per function (default: the built-ins' small inputs)

Load:
  --runtimes LIST        from ${runtimeKinds().join(',')} (default: all; one that cannot run here is skipped with a note)
  --modes LIST           from ${INVOCATION_MODES.join(',')} (default warm)
  --rate R               arrivals per second, e.g. 200/s (default 100/s)
  --rates LIST           a sweep, e.g. 50,100,200,400/s: each rate is a step, in ascending order
  --arrivals KIND        constant | poisson (default constant)
  --duration DURATION    of each step (default 30s)
  --stop-p99 DURATION    a runtime's sweep stops after a step whose p99 is over this (default 1s)
  --stop-errors SHARE    ... or whose failed share is over this, e.g. 5% (default 5%)
  --knee-p99 DURATION    the knee is the highest rate with p99 at most this (default 10ms)
  --max-in-flight N      invocations running at once at most; the rest queue, and their wait counts (default 64)
  --warmup N             unrecorded invocations of each series first (default 2)
  --timeout DURATION     per invocation, and the longest wait in the queue (default 10s)
  --seed N               seed of Poisson arrivals (default 1)
  --meter URL            ${meterUsage()} (default estimate)
  --baseline DURATION    idle power measured first (default 10s; 0 for none)

Output:
  --out DIR              a new or empty folder (default nebula-results/load-<time>)
  --export-csv FILE      also write the CSV of its steps there (a new file; never one of the run's own)
  --force                let --export-csv replace an existing file
  --json                 print the result as JSON on stdout (progress stays on stderr)
  --dry-run              check everything and print the plan; run nothing
  -h, --help`;

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseLoad(argv);
  if (values.help) {
    console.log(usage());
    return 0;
  }
  if (positionals.length)
    throw new CliError(`nebula load takes no positional arguments (got "${positionals[0]}"); see --help.`);
  if (values['config-schema']) {
    console.log(JSON.stringify(loadConfigSchema(), null, 2));
    return 0;
  }
  const plan = planLoad(values);
  const json = values.json === true;
  const s = plan.spec;
  if (values['dry-run']) {
    const series = s.functions.length * s.runtimes.length * s.modes.length;
    const text = [
      'Plan (nothing was run):',
      `  functions: ${s.functions.map((f) => `${f}(${JSON.stringify(s.inputs[f])})`).join(', ')}`,
      `  runtimes: ${s.runtimes.join(', ')}; modes: ${s.modes.join(', ')}`,
      `  rates: ${s.rates.map((r) => `${r}/s`).join(', ')}, ${s.arrivals} arrivals, ${s.durationMs} ms a step: up to ${series * s.rates.length} steps`,
      `  stop a sweep at p99 > ${s.stopP99Ms} ms or > ${(s.stopErrorRate * 100).toFixed(1)}% failed; knee at p99 <= ${s.kneeP99Ms} ms`,
      `  meter: ${plan.meter}; out: ${s.outDir}`,
      ...warningLines(plan.warnings, '  '),
    ].join('\n');
    console.log(
      json
        ? JSON.stringify({ spec: s, meter: plan.meter, functions: plan.specs, warnings: plan.warnings }, null, 2)
        : text,
    );
    return 0;
  }
  const progress = new Progress();
  progress.warn(plan.warnings);
  const nebula = new Nebula({ meter: meterFromUrl(plan.meter) });
  const ac = new AbortController();
  let stoppedBy: NodeJS.Signals | undefined;
  const dispose = onInterrupt((signal) => {
    stoppedBy = signal;
    progress.line(`Stopping the current step (${signal}; again to quit at once); everything recorded so far is kept.`);
    ac.abort();
  });
  try {
    // A meter that cannot be read fails the run before any work (exit 1); --meter none runs without energy.
    if (nebula.meter) await nebula.checkMeter();
    await deployOwn(nebula, plan.specs, s.skipUnavailable, (t) => progress.line(termText(`note: ${t}`, true)));
    let label = '';
    const runLeft = new RunLeft();
    const result = await runLoad(nebula, s, {
      signal: ac.signal,
      onPhase: (phase, total, unit) => {
        if (phase !== 'load') progress.phase(phase, { total, unit }, 1, 1);
      },
      onStep: (step, index, planned, later) => {
        label = `${step.function} ${step.runtime} ${step.mode} ${step.ratePerS}/s`;
        runLeft.step(step.durationMs, later);
        progress.phase(
          `step`,
          {
            total: Math.ceil((step.ratePerS * step.durationMs) / 1000),
            unit: 'invocations',
            detail: runLeft.detail,
          },
          index + 1,
          planned,
        );
      },
      onTick: (done, total) => progress.tick(done, total, label, runLeft.ms),
      onNote: (t) => progress.line(termText(`note: ${t}`, true)),
    });
    const files: Record<string, string> = { ...loadRunFiles(s.outDir), ...writeLoadReports(s.outDir, result) };
    if (plan.exportCsv) {
      writeOutputFile(plan.exportCsv, loadCsv(result), plan.force);
      files.csv = plan.exportCsv.path;
    }
    if (json) console.log(JSON.stringify(loadJson(result, files), null, 2));
    else console.log(`\n${loadSummary(result, files)}`);
    return stoppedBy === 'SIGTERM' ? 143 : result.interrupted ? 130 : 0;
  } finally {
    dispose();
    await nebula.close();
  }
}

export const command: Command = {
  name: 'load',
  summary: 'open-loop load: latency from the intended send time, the knee, energy per invocation under load',
  get usage() {
    return usage();
  },
  get options() {
    return loadOptions();
  },
  run,
};
