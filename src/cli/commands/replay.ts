/** `nebula replay TRACE`: a workload trace replayed under keep-alive policies, cold starts and energy side by side. */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BUILTIN_NAMES } from '../../builtins.js';
import { UsageError } from '../../errors.js';
import { parsePolicy } from '../../experiment/replay/policies.js';
import { keepingRuntimes, runReplay } from '../../experiment/replay/run-replay.js';
import { termText } from '../../experiment/report/escape.js';
import { parseTrace, type TraceWindow } from '../../experiment/replay/trace.js';
import { RUN_FILES, checkOutDir } from '../../experiment/run-folder.js';
import { QUICK_INPUTS } from '../../experiment/run/config.js';
import { writeLoadReports } from '../../experiment/load/report.js';
import { Nebula } from '../../nebula.js';
import { meterFromUrl, meterUsage } from '../../meters/registry.js';
import { builtinFunctions, runtimeDescriptors, runtimeKinds, type RuntimeKind } from '../../runtimes/registry.js';
import type { FunctionSpec } from '../../types.js';
import { CliError, parse, parseDuration, parseList, parseWhole, type Command, type Parsed } from '../args.js';
import { inputsFromFlags, withRuntimeFlags } from '../bench-plan.js';
import { functionsFromFlags } from '../functions-spec.js';
import { onInterrupt } from '../interrupt.js';
import { Progress } from '../progress.js';
import { replaySummary, traceLabel } from '../replay-summary.js';

/** The help text, with the runtimes and meters registered when it is asked for. */
const usage = () => `Usage: nebula replay TRACE [options]

Replays a workload trace under keep-alive policies, the same arrivals under each, and reports per
policy the cold starts, latency, sandboxes kept over time, keep-warm energy, invocation energy and
their total. TRACE is an Azure Functions 2019 invocations file (HashOwner,HashApp,HashFunction,
Trigger,1..1440: counts per minute) or a CSV of time,function (seconds, name). Each trace function
is its own function (its own sandboxes) running the function it is mapped to.

Trace:
  --window FROM-TO       a window of the trace, e.g. 09:00-10:30 (time of day) or 0m-90m
  --speed N              trace time / real time (default 60: an hour in a minute)
  --functions a,b        what trace functions run, in turn (default fib)
  --map f1=fib,f2=prime  trace function (f1, f2, ... as listed, or its id) to function (repeatable)
  --inputs fib=20        one input per function (default: the built-ins' small inputs)
  --<runtime> NAME=...   your own function on a runtime, as nebula bench takes it (nebula bench --help lists them)
  --binary NAME=PATH     a static Linux binary, deployed to every runtime that takes one

Policies:
  --policies LIST        none, fixed:DURATION, histogram[:range=4h,bin=1m,head=5,tail=99,margin=0.1,
                         min=10,cv=2,out=0.5,fallback=4h] (default none,fixed:10m,histogram)
  --runtimes LIST        from ${runtimeKinds().join(',')} (default: those whose kept sandboxes a policy can
                         steer, ${keepingRuntimes().join(', ') || 'none registered'}; every runtime with --policies none)
  --keep-warm-watts R=W  power per kept sandbox on runtime R, W (default: measured first with a meter)
  --max-in-flight N      invocations running at once at most (default 256)
  --timeout DURATION     per invocation (default 30s)
  --meter URL            ${meterUsage()} (default estimate)
  --baseline DURATION    idle power measured first (default 5s; 0 for none)

Output:
  --out DIR              a new or empty folder (default nebula-results/replay-<time>)
  --json                 print the result as JSON on stdout
  --dry-run              check everything and print the plan; run nothing
  -h, --help`;

/** The flags of `nebula replay` besides the runtimes' own. */
const REPLAY_FLAGS = {
  window: { type: 'string' },
  speed: { type: 'string' },
  functions: { type: 'string' },
  map: { type: 'string', multiple: true },
  inputs: { type: 'string', multiple: true },
  binary: { type: 'string', multiple: true },
  policies: { type: 'string' },
  runtimes: { type: 'string' },
  'keep-warm-watts': { type: 'string', multiple: true },
  'max-in-flight': { type: 'string' },
  timeout: { type: 'string' },
  meter: { type: 'string' },
  baseline: { type: 'string' },
  out: { type: 'string' },
  json: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
} as const;

/** `09:00-10:30` (time of day) or `0m-90m` (durations) to a window in ms. */
function parseWindow(text: string): TraceWindow {
  const [from, to, extra] = text.split('-');
  if (from === undefined || to === undefined || extra !== undefined)
    throw new CliError(`--window takes FROM-TO, e.g. 09:00-10:30 or 0m-90m, got "${text}".`);
  const at = (t: string) => {
    const clock = /^(\d{1,2}):(\d{2})$/.exec(t.trim());
    if (clock) {
      const [h, m] = [Number(clock[1]), Number(clock[2])];
      if (h > 24 || m > 59 || h * 60 + m > 1440) throw new CliError(`--window: "${t}" is not a time of day.`);
      return (h * 60 + m) * 60_000;
    }
    return parseDuration(t, '--window');
  };
  const w = { fromMs: at(from), toMs: at(to) };
  if (!(w.toMs > w.fromMs)) throw new CliError(`--window must end after it starts, got "${text}".`);
  return w;
}

/** Parses `nebula replay`'s arguments: its own flags and each registered runtime's `--<kind>`. */
function parseReplay(argv: string[]): { values: Parsed<typeof REPLAY_FLAGS>['values']; positionals: string[] } {
  const { values, positionals } = parse(argv, 'replay', withRuntimeFlags(REPLAY_FLAGS, 'replay'));
  return { values, positionals };
}

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseReplay(argv);
  if (values.help) {
    console.log(usage());
    return 0;
  }
  if (positionals.length !== 1) throw new CliError('nebula replay takes one trace file. (see --help)');
  const path = positionals[0]!;
  let text: string;
  try {
    if (statSync(path).size > 512 << 20)
      throw new CliError(`${path} is over 512 MiB; cut it to the functions and day you replay.`);
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new UsageError('INVALID_CONFIG', `Cannot read the trace ${path}: ${(e as Error).message}`, { cause: e });
  }
  const trace = parseTrace(text, path, values.window ? parseWindow(values.window) : undefined);
  const speed = values.speed ? Number(values.speed) : 60;
  if (!(speed > 0) || !Number.isFinite(speed))
    throw new CliError(`--speed takes a number above 0, got "${values.speed}".`);
  const policies = values.policies ? parseList(values.policies, '--policies') : ['none', 'fixed:10m', 'histogram'];
  for (const p of policies) parsePolicy(p);
  const runtimes = values.runtimes
    ? parseList<RuntimeKind>(values.runtimes, '--runtimes', runtimeKinds())
    : policies.every((p) => p === 'none')
      ? runtimeKinds()
      : keepingRuntimes();
  if (!runtimes.length)
    throw new CliError("No registered runtime keeps sandboxes under a policy's control; replay with --policies none.");

  // What each trace function runs.
  const own = functionsFromFlags(values as Partial<Record<string, string[]>>);
  const specs = new Map<string, FunctionSpec>([...builtinFunctions(), ...own].map((s) => [s.name, s]));
  const functions = values.functions
    ? parseList(values.functions, '--functions')
    : own.length
      ? own.map((s) => s.name)
      : ['fib'];
  const known = (f: string) => {
    if (!specs.has(f))
      throw new UsageError(
        'FUNCTION_NOT_FOUND',
        `No function named "${f}": the built-ins are ${BUILTIN_NAMES.join(', ')}; add your own with --binary or a runtime's own flag (see --help).`,
      );
    return f;
  };
  functions.forEach(known);
  const target: Record<string, string> = Object.fromEntries(
    trace.functions.map((f, i) => [f, functions[i % functions.length]!]),
  );
  for (const pair of (values.map ?? []).flatMap((m) => m.split(','))) {
    const [key, fn] = pair.split('=');
    if (!key || !fn) throw new CliError(`--map takes TRACE_FUNCTION=FUNCTION pairs such as f1=fib, got "${pair}".`);
    const index = /^f(\d+)$/.exec(key) ? Number(key.slice(1)) - 1 : trace.functions.indexOf(key);
    const id = trace.functions[index];
    if (id === undefined)
      throw new CliError(
        `--map: the trace has no function "${key}" (its functions are f1 to f${trace.functions.length}, or their ids).`,
      );
    target[id] = known(fn);
  }
  const inputs = inputsFromFlags(values.inputs);
  for (const name of Object.keys(inputs))
    if (!Object.values(target).includes(name))
      throw new CliError(`--inputs names "${name}", which no trace function runs.`);
  const mapping = Object.fromEntries(
    Object.entries(target).map(([id, fn]) => [
      id,
      { spec: specs.get(fn)!, input: inputs[fn]?.[0] ?? QUICK_INPUTS[fn]?.[0] ?? null },
    ]),
  );
  const watts: Partial<Record<RuntimeKind, number>> = {};
  for (const pair of values['keep-warm-watts'] ?? []) {
    const [rt, w] = pair.split('=');
    const kind = parseList<RuntimeKind>(rt ?? '', '--keep-warm-watts', runtimeKinds())[0]!;
    const v = Number(w);
    if (!(v >= 0) || !Number.isFinite(v))
      throw new CliError(`--keep-warm-watts takes RUNTIME=WATTS such as ${runtimeKinds()[0]}=0.05, got "${pair}".`);
    watts[kind] = v;
  }
  const outDir = values.out ?? `nebula-results/replay-${new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)}`;
  checkOutDir(outDir);
  const spanMs = trace.arrivals[trace.arrivals.length - 1]!.atMs - trace.arrivals[0]!.atMs;
  if (values['dry-run']) {
    const plan = {
      trace: { path, format: trace.format, functions: trace.functions.length, arrivals: trace.arrivals.length, spanMs },
      mapping: Object.fromEntries(
        Object.entries(mapping).map(([id, m]) => [id, { function: m.spec.name, input: m.input }]),
      ),
      policies,
      runtimes,
      speed,
      replayMsPerPolicy: spanMs / speed,
      outDir,
    };
    console.log(
      values.json
        ? JSON.stringify(plan, null, 2)
        : [
            'Plan (nothing was run):',
            `  trace: ${path} (${trace.format}), ${trace.arrivals.length} invocations of ${trace.functions.length} functions over ${(spanMs / 60_000).toFixed(1)} min`,
            ...trace.functions.map(
              (f, i) =>
                `  ${traceLabel(i)} ${f.slice(0, 24)}: ${mapping[f]!.spec.name}(${JSON.stringify(mapping[f]!.input)})`,
            ),
            `  policies: ${policies.join(', ')} on ${runtimes.join(', ')}; speed ${speed}: about ${(spanMs / speed / 1000).toFixed(0)} s a policy`,
            `  out: ${outDir}`,
          ].join('\n'),
    );
    return 0;
  }
  const progress = new Progress();
  const maxInFlight = values['max-in-flight'] ? parseWhole(values['max-in-flight'], '--max-in-flight') : 256;
  // A policy decides how many sandboxes stay: the runtimes' own caps on kept sandboxes (8
  // containers by default) are raised to what can be in flight, so the cap never evicts one the
  // policy keeps.
  const caps: Record<string, Record<string, number>> = {};
  for (const d of runtimeDescriptors())
    if (d.keepsWarm?.keeper && runtimes.includes(d.kind)) caps[d.kind] = { [d.keepsWarm.option]: maxInFlight };
  const nebula = new Nebula({ meter: meterFromUrl(values.meter ?? 'estimate'), ...caps });
  const ac = new AbortController();
  let stoppedBy: NodeJS.Signals | undefined;
  const dispose = onInterrupt((signal) => {
    stoppedBy = signal;
    progress.line(`Stopping the replay (${signal}; again to quit at once); everything recorded so far is kept.`);
    ac.abort();
  });
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
        ...(values.timeout ? { timeoutMs: parseDuration(values.timeout, '--timeout') } : {}),
        ...(values.baseline ? { baselineMs: parseDuration(values.baseline, '--baseline') } : {}),
        keepWarmWattsPerSandbox: watts,
        outDir,
      },
      {
        signal: ac.signal,
        onPolicy: (policy, runtime, index, count, expectedMs) =>
          progress.phase(
            `${policy} on ${runtime}`,
            policy === 'keep-warm'
              ? { total: Math.round(expectedMs), unit: 'ms' }
              : { total: trace.arrivals.length, unit: 'invocations' },
            index + 1,
            count,
          ),
        onTick: (done, total) => progress.tick(done, total),
        onNote: (t) => progress.line(termText(`note: ${t}`, true)),
      },
    );
    const files = {
      'run.json': join(outDir, RUN_FILES.run),
      'records.jsonl': join(outDir, RUN_FILES.records),
      'summary.json': join(outDir, RUN_FILES.summary),
    };
    Object.assign(files, writeLoadReports(outDir, result));
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
    return withRuntimeFlags(REPLAY_FLAGS, 'replay');
  },
  run,
};
