/** `nebula replay [TRACE]`: a workload trace replayed under keep-alive policies, cold starts and energy side by side. */
import { keepingRuntimes, runReplay } from '../../experiment/replay/run-replay.js';
import { termText } from '../../experiment/report/escape.js';
import { loadRunFiles } from '../../experiment/load/load-json.js';
import { loadCsv, writeLoadReports } from '../../experiment/load/report.js';
import { Nebula } from '../../nebula.js';
import { meterFromUrl, meterUsage } from '../../meters/registry.js';
import { runtimeDescriptors, runtimeKinds } from '../../runtimes/registry.js';
import { type Command } from '../args.js';
import { replayConfigSchema } from '../config-schema.js';
import { onInterrupt } from '../interrupt.js';
import { writeOutputFile } from '../output-file.js';
import { fmtSeconds, Progress, RunLeft, warningLines } from '../progress.js';
import { parseReplay, planReplay, replayOptions } from '../replay-plan.js';
import { replaySummary, traceLabel } from '../replay-summary.js';

/** The help text, with the runtimes and meters registered when it is asked for. */
const usage = () => `Usage: nebula replay [TRACE] [options]

Replays a workload trace under keep-alive policies, the same arrivals under each, and reports per
policy the cold starts, latency, sandboxes kept over time, keep-warm energy, invocation energy and
their total. TRACE is an Azure Functions 2019 invocations file (HashOwner,HashApp,HashFunction,
Trigger,1..1440: counts per minute) or a CSV of time,function (seconds, name). Each trace function
is its own function (its own sandboxes) running the function it is mapped to.

Config:
  --config FILE          a JSON file of the settings below (trace, policies, mapping, ...; flags and a
                         TRACE given here override it)
  --config-schema        print the JSON Schema of that file and exit

Trace:
  --window FROM-TO       a window of the trace, e.g. 09:00-10:30 (time of day) or 0m-90m
  --speed N              trace time / real time (default 60: an hour in a minute)
  --functions a,b        what trace functions run, in turn (default fib)
  --map f1=fib,f2=prime  trace function (f1, f2, ... as listed, or its id) to function (repeatable)
  --inputs fib=20        one input per function (default: the built-ins' small inputs)
  --<runtime> NAME=...   your own function on a runtime, as nebula bench takes it (nebula bench --help lists them)
  --binary NAME=PATH     a static Linux binary, deployed to every runtime that takes one

Policies:
  --policies LIST        none, fixed:DURATION, histogram[:per=app,range=4h,bin=1m,head=5,tail=99,
                         margin=0.1,min=10,cv=2,out=0.5,fallback=4h] (default none,fixed:10m,histogram;
                         per=app|function: one histogram per application, the default when the
                         trace has applications, or per trace function)
  --runtimes LIST        from ${runtimeKinds().join(',')} (default: those whose kept sandboxes a policy can
                         steer, ${keepingRuntimes().join(', ') || 'none registered'}; every runtime with --policies none)
  --keep-warm-watts R=W  power per kept sandbox on runtime R, W (default: measured first with a meter)
  --max-in-flight N      invocations running at once at most (default 256)
  --timeout DURATION     per invocation (default 30s)
  --meter URL            ${meterUsage()} (default estimate)
  --baseline DURATION    idle power measured first (default 5s; 0 for none)

Output:
  --out DIR              a new or empty folder (default nebula-results/replay-<time>)
  --export-csv FILE      also write the CSV of its policies there (a new file; never one of the run's own)
  --force                let --export-csv replace an existing file
  --json                 print the result as JSON on stdout
  --dry-run              check everything and print the plan; run nothing
  -h, --help`;

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseReplay(argv);
  if (values.help) {
    console.log(usage());
    return 0;
  }
  if (values['config-schema']) {
    console.log(JSON.stringify(replayConfigSchema(), null, 2));
    return 0;
  }
  const plan = planReplay(values, positionals);
  const { path, trace, mapping, policies, runtimes, speed, outDir, maxInFlight } = plan;
  const spanMs = trace.arrivals[trace.arrivals.length - 1]!.atMs - trace.arrivals[0]!.atMs;
  if (values['dry-run']) {
    const replays = runtimes.length * policies.length;
    const inAllMs = replays * (spanMs / speed);
    const shown = {
      trace: { path, format: trace.format, functions: trace.functions.length, arrivals: trace.arrivals.length, spanMs },
      mapping: Object.fromEntries(
        Object.entries(mapping).map(([id, m]) => [id, { function: m.spec.name, input: m.input }]),
      ),
      policies,
      runtimes,
      speed,
      replayMsPerPolicy: spanMs / speed,
      replays,
      replayMsInAll: inAllMs,
      meter: plan.meter,
      outDir,
      warnings: plan.warnings,
    };
    console.log(
      values.json
        ? JSON.stringify(shown, null, 2)
        : [
            'Plan (nothing was run):',
            `  trace: ${path} (${trace.format}), ${trace.arrivals.length} invocations of ${trace.functions.length} functions over ${(spanMs / 60_000).toFixed(1)} min`,
            ...trace.functions.map(
              (f, i) =>
                `  ${traceLabel(i)} ${f.slice(0, 24)}: ${mapping[f]!.spec.name}(${JSON.stringify(mapping[f]!.input)})`,
            ),
            `  policies: ${policies.join(', ')} on ${runtimes.join(', ')}; speed ${speed}: about ${fmtSeconds(spanMs / speed / 1000)} a policy, ${replays} replay${replays === 1 ? '' : 's'}: about ${fmtSeconds(inAllMs / 1000)} in all (plus the idle baseline and keep-warm steps with a meter)`,
            `  meter: ${plan.meter}; out: ${outDir}`,
            ...warningLines(plan.warnings, '  '),
          ].join('\n'),
    );
    return 0;
  }
  const progress = new Progress();
  progress.warn(plan.warnings);
  // A policy decides how many sandboxes stay: the runtimes' own caps on kept sandboxes (8
  // containers by default) are raised to what can be in flight, so the cap never evicts one the
  // policy keeps.
  const caps: Record<string, Record<string, number>> = {};
  for (const d of runtimeDescriptors())
    if (d.keepsWarm?.keeper && runtimes.includes(d.kind)) caps[d.kind] = { [d.keepsWarm.option]: maxInFlight };
  const nebula = new Nebula({ meter: meterFromUrl(plan.meter), ...caps });
  const ac = new AbortController();
  let stoppedBy: NodeJS.Signals | undefined;
  const dispose = onInterrupt((signal) => {
    stoppedBy = signal;
    progress.line(`Stopping the replay (${signal}; again to quit at once); everything recorded so far is kept.`);
    ac.abort();
  });
  // The whole run's time left: the rest of the current policy's replay, then what runReplay expects after it.
  const runLeft = new RunLeft();
  try {
    // A meter that cannot be read fails the run before any work (exit 1); --meter none runs without energy.
    if (nebula.meter) await nebula.checkMeter();
    const result = await runReplay(
      nebula,
      {
        trace,
        mapping,
        runtimes,
        policies,
        speed,
        maxInFlight,
        ...(plan.timeoutMs !== undefined ? { timeoutMs: plan.timeoutMs } : {}),
        ...(plan.baselineMs !== undefined ? { baselineMs: plan.baselineMs } : {}),
        keepWarmWattsPerSandbox: plan.keepWarmWattsPerSandbox,
        outDir,
      },
      {
        signal: ac.signal,
        onPolicy: (policy, runtime, index, count, expectedMs, laterMs) => {
          runLeft.step(expectedMs, laterMs);
          const size =
            policy === 'keep-warm'
              ? { total: Math.round(expectedMs), unit: 'ms' as const }
              : { total: trace.arrivals.length, unit: 'invocations' as const };
          progress.phase(`${policy} on ${runtime}`, { ...size, detail: runLeft.detail }, index + 1, count);
        },
        onTick: (done, total) => progress.tick(done, total, '', runLeft.ms),
        onNote: (t) => progress.line(termText(`note: ${t}`, true)),
      },
    );
    const files = { ...loadRunFiles(outDir), ...writeLoadReports(outDir, result) };
    if (plan.exportCsv) {
      writeOutputFile(plan.exportCsv, loadCsv(result), plan.force);
      Object.assign(files, { csv: plan.exportCsv.path });
    }
    if (values.json) console.log(JSON.stringify({ files, result }, null, 2));
    else console.log(`\n${replaySummary(result, files)}`);
    return stoppedBy === 'SIGTERM' ? 143 : result.interrupted ? 130 : 0;
  } finally {
    dispose();
    await nebula.close();
  }
}

export const command: Command = {
  name: 'replay',
  summary: 'replay a workload trace under keep-alive policies: cold starts, latency, keep-warm and invocation energy',
  get usage() {
    return usage();
  },
  get options() {
    return replayOptions();
  },
  run,
};
