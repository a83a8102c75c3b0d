/**
 * What `nebula bench` will run, from its flags, a config file and `--quick`, checked in full
 * before anything runs (a mistake is exit 2 before any work). Precedence: flags, then the
 * config file, then `--quick`'s values, then the experiment defaults (`experiment/run/config.ts`).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BUILTIN_NAMES } from '../builtins.js';
import { UsageError } from '../errors.js';
import { QUICK_INPUTS, resolveConfig, type ExperimentConfig, type ResolvedConfig } from '../experiment/run/config.js';
import { checkOutDir } from '../experiment/run-folder.js';
import { RUNTIME_KINDS, type RuntimeKind } from '../runtimes/index.js';
import { INVOCATION_MODES, type FunctionSpec, type InvocationMode } from '../types.js';
import { CliError, parseDuration, parseInput, parseList, parseWhole, type Parsed } from './args.js';
import { loadBenchFile } from './config-file.js';
import { functionsFromFlags } from './functions-spec.js';

/** A bench ready to run. */
export interface BenchPlan {
  /** The user's own functions to deploy (each with only the runtimes the run uses). */
  specs: FunctionSpec[];
  /** The experiment, every default resolved. */
  config: ResolvedConfig;
  /** `--meter` spec. */
  meter: string;
  quick: boolean;
  /** Where `--export-csv` writes, if given. */
  exportCsv?: string;
}

/** A new folder under nebula-results/ named for the time (with -2, -3, ... if taken). */
function defaultOut(): string {
  const base = join('nebula-results', new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19));
  let dir = base;
  for (let i = 2; existsSync(dir); i++) dir = `${base}-${i}`;
  return dir;
}

/** `--inputs fib=30,prime=5000` (repeat a name for several inputs); a comma starts a new pair only before `name=`. */
export function inputsFromFlags(values: string[] | undefined): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const pair of (values ?? []).flatMap((s) => s.split(/,(?=[a-z][a-z0-9_-]*=)/))) {
    const eq = pair.indexOf('=');
    if (eq < 1) throw new CliError(`--inputs takes name=value pairs such as fib=30, got "${pair}".`);
    (out[pair.slice(0, eq)] ??= []).push(parseInput(pair.slice(eq + 1)));
  }
  return out;
}

/** The flags of `nebula bench`. */
export const benchOptions = {
  config: { type: 'string' },
  'config-schema': { type: 'boolean' },
  functions: { type: 'string' },
  wasm: { type: 'string', multiple: true },
  docker: { type: 'string', multiple: true },
  binary: { type: 'string', multiple: true },
  inputs: { type: 'string', multiple: true },
  runtimes: { type: 'string' },
  'baseline-runtime': { type: 'string' },
  modes: { type: 'string' },
  repetitions: { type: 'string' },
  warmup: { type: 'string' },
  concurrency: { type: 'string' },
  order: { type: 'string' },
  seed: { type: 'string' },
  timeout: { type: 'string' },
  meter: { type: 'string' },
  baseline: { type: 'string' },
  'no-micro': { type: 'boolean' },
  quick: { type: 'boolean' },
  out: { type: 'string' },
  'export-csv': { type: 'string' },
  json: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
} as const;

/**
 * Builds the plan from parsed flags.
 * @throws UsageError (exit 2) naming the flag or config field that is wrong, an unknown function, or a used `--out`.
 */
export function planBench(values: Parsed<typeof benchOptions>['values']): BenchPlan {
  const quick = values.quick === true;
  const file = values.config ? loadBenchFile(values.config) : undefined;
  const fromFlags = functionsFromFlags({ wasm: values.wasm, docker: values.docker, binary: values.binary });
  for (const s of fromFlags)
    if (file?.specs.some((f) => f.name === s.name))
      throw new CliError(`Function "${s.name}" is defined both in ${values.config} and by a flag; give it once.`);
  const own = [...(file?.specs ?? []), ...fromFlags];

  const functions: string[] = values.functions
    ? parseList(values.functions, '--functions')
    : file?.functions || fromFlags.length
      ? [...new Set([...(file?.functions ?? []), ...fromFlags.map((s) => s.name)])]
      : [...BUILTIN_NAMES];
  const known = new Set<string>([...BUILTIN_NAMES, ...own.map((s) => s.name)]);
  for (const f of functions)
    if (!known.has(f))
      throw new UsageError(
        'FUNCTION_NOT_FOUND',
        `No function named "${f}": the built-ins are ${BUILTIN_NAMES.join(', ')}; add your own with --wasm, --docker, --binary or --config.`,
      );

  const inputs: Record<string, unknown[]> = {
    ...(quick ? QUICK_INPUTS : {}),
    ...file?.inputs,
    ...inputsFromFlags(values.inputs),
  };
  for (const name of Object.keys(inputsFromFlags(values.inputs)))
    if (!functions.includes(name))
      throw new CliError(`--inputs names "${name}", which is not among the functions run (${functions.join(', ')}).`);

  const fx = file?.experiment ?? {};
  const runtimes = values.runtimes
    ? parseList<RuntimeKind>(values.runtimes, '--runtimes', RUNTIME_KINDS)
    : (fx.runtimes ?? [...RUNTIME_KINDS]);
  const order = values.order ?? fx.order ?? 'interleaved';
  if (order !== 'interleaved' && order !== 'shuffled')
    throw new CliError(`--order is interleaved or shuffled, got "${order}".`);
  const experiment: ExperimentConfig = {
    functions,
    runtimes,
    ...(values['baseline-runtime']
      ? { baseline: parseList<RuntimeKind>(values['baseline-runtime'], '--baseline-runtime', RUNTIME_KINDS)[0]! }
      : fx.baseline
        ? { baseline: fx.baseline }
        : {}),
    modes: values.modes
      ? parseList<InvocationMode>(values.modes, '--modes', INVOCATION_MODES)
      : (fx.modes ?? (quick ? ['cold', 'prewarmed'] : ['cold'])),
    inputs,
    repetitions: values.repetitions
      ? parseWhole(values.repetitions, '--repetitions')
      : (fx.repetitions ?? (quick ? 5 : 20)),
    warmup: values.warmup !== undefined ? parseWhole(values.warmup, '--warmup', 0) : (fx.warmup ?? (quick ? 1 : 2)),
    concurrency: values.concurrency ? parseWhole(values.concurrency, '--concurrency') : (fx.concurrency ?? 1),
    order,
    seed: values.seed !== undefined ? parseWhole(values.seed, '--seed', 0) : (fx.seed ?? 1),
    baselineMs: values.baseline
      ? parseDuration(values.baseline, '--baseline')
      : (fx.baselineMs ?? (quick ? 2000 : 10_000)),
    batchWindowMs: fx.batchWindowMs ?? (quick ? 1000 : 2000),
    timeoutMs: values.timeout ? parseDuration(values.timeout, '--timeout') : (fx.timeoutMs ?? 60_000),
    micro: values['no-micro'] === true ? false : (fx.micro ?? true),
    // A runtime nobody asked for by name is skipped with a note when it cannot run here.
    skipUnavailable: quick || !(values.runtimes || fx.runtimes),
    outDir: values.out ?? file?.out ?? defaultOut(),
  };
  const config = resolveConfig(experiment);
  checkOutDir(config.outDir);
  const specs = own.map(
    (s) =>
      Object.fromEntries(
        Object.entries(s).filter(
          ([k]) => !(RUNTIME_KINDS as readonly string[]).includes(k) || runtimes.includes(k as RuntimeKind),
        ),
      ) as FunctionSpec,
  );
  for (const s of specs)
    if (functions.includes(s.name) && !RUNTIME_KINDS.some((k) => k in s))
      throw new CliError(`Function "${s.name}" has no artifact for the runtimes run (${runtimes.join(', ')}).`);
  return {
    specs,
    config,
    meter: values.meter ?? file?.meter ?? 'estimate',
    quick,
    ...(values['export-csv'] ? { exportCsv: values['export-csv'] } : {}),
  };
}
