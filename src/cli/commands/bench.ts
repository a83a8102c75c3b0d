/** `nebula bench`: run an experiment and write its reports. */
import { join } from 'node:path';
import { runExperiment } from '../../bench/run.js';
import { BUILTIN_NAMES } from '../../builtins.js';
import { EstimateMeter } from '../../meters/index.js';
import type { InvocationMode, RuntimeKind } from '../../types.js';
import { CliError, parse, parseDuration, parseInput, parseList, parsePositiveInt } from '../args.js';
import { meterFromSpec } from '../meter-spec.js';
import { Progress } from '../progress.js';
import { fmtMs, fmtRatio } from '../../bench/format.js';

export const usage = `Usage: nebula bench [options]

Benchmarks functions on Wasm and Docker: cold start, run time and energy per invocation.

Options:
  --functions a,b        functions to run (default: all built-ins)
  --runtimes wasm,docker runtimes (default: both)
  --modes cold,prewarmed,warm   modes (default: cold)
  --inputs fib=30,prime=5000   inputs per function; repeat a name for several inputs
  --repetitions N        measured invocations per cell (default 20)
  --warmup N             unrecorded invocations per cell first (default 2)
  --meter SPEC           estimate | rapl | gude://HOST[:PORT][/portN|/lineN] | none (default estimate)
  --baseline DURATION    idle power measurement first, e.g. 30s (default 10s)
  --order interleaved|shuffled   (default interleaved)
  --seed N               seed of the shuffle and the bootstrap (default 1)
  --timeout DURATION     per invocation (default 60s)
  --no-micro             skip the tinybench engine-overhead benchmarks
  --quick                a short run of every built-in on both runtimes, cold and warm (under 2 minutes)
  --out DIR              where records and reports go (default nebula-results/<time>)
  -h, --help`;

export const QUICK_INPUTS: Record<string, unknown[]> = { fib: [25], exponential: [100], factorial: [20], prime: [2000], hash: [64] };

export async function bench(argv: string[]): Promise<number> {
  const { values, positionals } = parse(
    argv,
    {
      functions: { type: 'string' },
      runtimes: { type: 'string' },
      modes: { type: 'string' },
      inputs: { type: 'string', multiple: true },
      repetitions: { type: 'string' },
      warmup: { type: 'string' },
      meter: { type: 'string' },
      baseline: { type: 'string' },
      order: { type: 'string' },
      seed: { type: 'string' },
      timeout: { type: 'string' },
      'no-micro': { type: 'boolean' },
      quick: { type: 'boolean' },
      out: { type: 'string' },
    },
    usage,
  );
  if (values.help) return void console.log(usage), 0;
  if (positionals.length) throw new CliError(`nebula bench takes no positional arguments (got "${positionals[0]}"). (see --help).`);
  const quick = values.quick === true;
  const inputs: Record<string, unknown[]> = quick ? { ...QUICK_INPUTS } : {};
  const given = new Set<string>();
  for (const pair of ((values.inputs ?? []) as string[]).flatMap((s) => s.split(','))) {
    const eq = pair.indexOf('=');
    if (eq < 1) throw new CliError(`--inputs takes name=value pairs such as fib=30, got "${pair}".`);
    const name = pair.slice(0, eq);
    if (!given.has(name)) inputs[name] = [];
    given.add(name);
    inputs[name]!.push(parseInput(pair.slice(eq + 1)));
  }
  const order = values.order ?? 'interleaved';
  if (order !== 'interleaved' && order !== 'shuffled') throw new CliError(`--order is interleaved or shuffled, got "${order}".`);
  const meterSpec = values.meter ?? 'estimate';
  const meter = meterSpec === 'estimate' && quick ? new EstimateMeter({ intervalMs: 100 }) : meterFromSpec(meterSpec);
  const outDir = values.out ?? join('nebula-results', new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19));

  const progress = new Progress();
  const ac = new AbortController();
  // SIGINT (Ctrl-C) and SIGTERM (kill, a CI timeout, a container stop) end the run the same way:
  // after the current invocation, with its containers removed and what was recorded kept.
  let stopSignal: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopSignal) process.exit(signal === 'SIGTERM' ? 143 : 130);
    stopSignal = signal;
    progress.line(`Stopping after the current invocation (${signal} again to quit at once); everything recorded so far is kept.`);
    ac.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const result = await runExperiment(
      {
        functions: values.functions ? parseList(values.functions, '--functions') : [...BUILTIN_NAMES],
        runtimes: values.runtimes ? parseList<RuntimeKind>(values.runtimes, '--runtimes', ['wasm', 'docker']) : ['wasm', 'docker'],
        modes: values.modes ? parseList<InvocationMode>(values.modes, '--modes', ['cold', 'prewarmed', 'warm']) : quick ? ['cold', 'warm'] : ['cold'],
        inputs,
        repetitions: values.repetitions ? parsePositiveInt(values.repetitions, '--repetitions') : quick ? 5 : 20,
        warmup: values.warmup !== undefined ? Number(values.warmup) : quick ? 1 : 2,
        order,
        seed: values.seed ? parsePositiveInt(values.seed, '--seed') : 1,
        baselineMs: values.baseline ? parseDuration(values.baseline, '--baseline') : quick ? 2000 : 10_000,
        batchWindowMs: quick ? 1000 : 2000,
        timeoutMs: values.timeout ? parseDuration(values.timeout, '--timeout') : 60_000,
        micro: values['no-micro'] !== true,
        skipUnavailable: quick || !values.runtimes,
        outDir,
      },
      {
        ...(meter ? { meter } : {}),
        signal: ac.signal,
        on: {
          phase: (p) => {
            progress.reset();
            progress.line(`== ${p}`);
          },
          progress: (done, total, rec) =>
            progress.update(done, total, `${rec.function} ${rec.runtime} ${rec.mode} ${rec.ok ? fmtMs(rec.timing.totalMs) : rec.error?.code}`),
          note: (text) => progress.line(`note: ${text}${text.includes('docker') ? ' (run with --runtimes wasm to measure Wasm only)' : ''}`),
        },
      },
    );
    console.log('');
    for (const c of result.comparisons.filter((c) => c.metric === 'startupMs' || c.metric === 'totalMs'))
      console.log(`${c.function}(${JSON.stringify(c.input)}) ${c.mode}: docker/wasm ${c.metric} ${fmtRatio(c.ratio)} [${fmtRatio(c.ci95[0])}, ${fmtRatio(c.ci95[1])}]`);
    console.log(`\n${result.interrupted ? 'Interrupted; partial ' : ''}reports: ${result.reports.html}\n         ${result.reports.markdown}`);
    return result.interrupted ? (stopSignal === 'SIGTERM' ? 143 : 130) : 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
