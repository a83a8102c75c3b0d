/**
 * What `nebula bench` will run, from its flags, a config file and `--quick`, checked in full
 * before anything runs (a mistake is exit 2 before any work). Precedence: flags, then the
 * config file, then `--quick`'s values, then the experiment defaults (`experiment/run/config.ts`).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BUILTIN_NAMES, builtinInputProblem, type BuiltinName } from '../builtins.js';
import { shownValue, UsageError } from '../errors.js';
import { own as ownKey } from '../own-keys.js';
import {
  QUICK_INPUTS,
  resolveConfig,
  type ExperimentConfig,
  type PreinitSetting,
  type ResolvedConfig,
} from '../experiment/run/config.js';
import { checkOutDir } from '../experiment/run-folder.js';
import { isRuntimeKind, runtimeDescriptors, runtimeKinds, type RuntimeKind } from '../runtimes/registry.js';
import { INVOCATION_MODES, type FunctionSpec, type InvocationMode } from '../types.js';
import {
  CliError,
  parse,
  parseDuration,
  parseInput,
  parseList,
  parseWhole,
  type Options,
  type Parsed,
} from './args.js';
import { functionsToRun, loadBenchFile } from './config-file.js';
import { checkOutputFiles } from './output-file.js';

/** A bench ready to run. */
export interface BenchPlan {
  /** The user's own functions to deploy (each with only the runtimes the run uses). */
  specs: FunctionSpec[];
  /** The experiment, every default resolved. */
  config: ResolvedConfig;
  /** The meter's URL (`--meter`, the config file's, or the default). */
  meter: string;
  quick: boolean;
  /** Where `--export-csv` writes, if given. */
  exportCsv?: string;
  /** What the flags or the file ask for that probably is not meant (printed, never fatal). */
  warnings: string[];
  /** `--force`: `--export-csv` may replace an existing file. */
  force: boolean;
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
  const out = new Map<string, unknown[]>();
  for (const pair of (values ?? []).flatMap((s) => s.split(/,(?=[a-z][a-z0-9_-]*=)/))) {
    const eq = pair.indexOf('=');
    if (eq < 1) throw new CliError(`--inputs takes name=value pairs such as fib=30, got "${pair}".`);
    const name = pair.slice(0, eq);
    out.set(name, [...(out.get(name) ?? []), parseInput(pair.slice(eq + 1))]);
  }
  return Object.fromEntries(out);
}

/**
 * `--keep-warm off|on|K,K,...`: the keep-warm step off, on with its default counts, or on with
 * these counts of kept sandboxes.
 */
function keepWarmFromFlag(text: string): boolean | { counts: number[] } {
  const t = text.trim();
  if (t === 'off') return false;
  if (t === 'on') return true;
  const counts = t.split(',').map((k) => k.trim());
  if (counts.length < 2 || counts.some((k) => !/^\d+$/.test(k) || Number(k) > 1000))
    throw new CliError(
      `--keep-warm takes off, on, or two or more counts of kept sandboxes from 0 to 1000 such as 0,1,10, got "${text}".`,
    );
  return { counts: counts.map(Number) };
}
const isBuiltinName = (name: string): name is BuiltinName => (BUILTIN_NAMES as readonly string[]).includes(name);

/** `--preinit deployed|auto|true|false|both`. */
function parsePreinit(text: string): PreinitSetting {
  const values: Record<string, PreinitSetting> = {
    deployed: 'deployed',
    auto: 'auto',
    true: true,
    false: false,
    both: 'both',
  };
  const value = ownKey(values, text);
  if (value === undefined) throw new CliError(`--preinit is deployed, auto, true, false or both, got "${text}".`);
  return value;
}

/**
 * The flags every command that runs functions into a run folder takes with one meaning (`nebula
 * bench`, `load`, `replay`): what runs, where its config and results go, the meter.
 */
export const RUN_FLAGS = {
  config: { type: 'string' },
  'config-schema': { type: 'boolean' },
  functions: { type: 'string' },
  binary: { type: 'string', multiple: true },
  inputs: { type: 'string', multiple: true },
  runtimes: { type: 'string' },
  timeout: { type: 'string' },
  meter: { type: 'string' },
  baseline: { type: 'string' },
  out: { type: 'string' },
  'export-csv': { type: 'string' },
  force: { type: 'boolean' },
  json: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
} as const;

/** The flags of `nebula bench` besides the runtimes' own. */
const BENCH_FLAGS = {
  ...RUN_FLAGS,
  'baseline-runtime': { type: 'string' },
  modes: { type: 'string' },
  repetitions: { type: 'string' },
  warmup: { type: 'string' },
  concurrency: { type: 'string' },
  order: { type: 'string' },
  seed: { type: 'string' },
  'keep-warm': { type: 'string' },
  'no-micro': { type: 'boolean' },
  preinit: { type: 'string' },
  quick: { type: 'boolean' },
} as const;

/** The parsed flags of `nebula bench`; each runtime's `--<kind>` values are read by kind. */
export type BenchValues = Parsed<typeof BENCH_FLAGS>['values'];

/**
 * The flags of `nebula bench`: its own, and `--<kind> NAME=VALUE` (repeatable) for each registered
 * runtime whose descriptor has a flag.
 * @throws UsageError `INVALID_ARGUMENT` for a runtime whose kind is one of bench's own flags.
 */
export function benchOptions(): Options {
  return withRuntimeFlags(BENCH_FLAGS, 'bench');
}

/**
 * A command's own flags and `--<kind> NAME=VALUE` (repeatable) for each registered runtime whose
 * descriptor has a flag (bench, load and replay take the user's functions the same way).
 * @throws UsageError `INVALID_ARGUMENT` for a runtime whose kind is one of the command's own flags.
 */
export function withRuntimeFlags(own: Options, command: string): Options {
  const flags: Options = { ...own };
  for (const d of runtimeDescriptors()) {
    if (!d.source.flag) continue;
    if (Object.hasOwn(flags, d.kind) || new Set<string>(['help']).has(d.kind))
      throw new UsageError(
        'INVALID_ARGUMENT',
        `The runtime "${d.kind}" cannot have a flag: --${d.kind} is one of nebula ${command}'s own.`,
      );
    flags[d.kind] = { type: 'string', multiple: true };
  }
  return flags;
}

/** Parses `nebula bench`'s arguments against {@link benchOptions}. */
export function parseBench(argv: string[]): { values: BenchValues; positionals: string[] } {
  const { values, positionals } = parse(argv, 'bench', benchOptions());
  return { values, positionals };
}

/**
 * Builds the plan from parsed flags.
 * @throws UsageError (exit 2) naming the flag or config field that is wrong, an unknown function, a used `--out`,
 * or an `--export-csv` file that cannot be written or exists (without `--force`).
 */
export function planBench(values: BenchValues): BenchPlan {
  const quick = values.quick === true;
  const file = values.config ? loadBenchFile(values.config) : undefined;
  const { own, functions, warnings } = functionsToRun(values, file, BUILTIN_NAMES);
  const known = new Set<string>([...BUILTIN_NAMES, ...own.map((s) => s.name)]);
  for (const f of functions)
    if (!known.has(f))
      throw new UsageError(
        'FUNCTION_NOT_FOUND',
        `No function named "${f}": the built-ins are ${BUILTIN_NAMES.join(', ')}; add your own with ${[
          ...runtimeDescriptors()
            .filter((d) => d.source.flag)
            .map((d) => `--${d.kind}`),
          '--binary',
        ].join(', ')} or --config.`,
      );

  const flagInputs = inputsFromFlags(values.inputs);
  const inputs: Record<string, unknown[]> = {
    ...(quick ? QUICK_INPUTS : {}),
    ...file?.inputs,
    ...flagInputs,
  };
  for (const name of Object.keys(flagInputs))
    if (!functions.includes(name))
      throw new CliError(`--inputs names "${name}", which is not among the functions run (${functions.join(', ')}).`);
  // A built-in refuses an input out of its range on every invocation: say so now, not as a run of failures.
  for (const f of functions) {
    if (!isBuiltinName(f) || own.some((s) => s.name === f)) continue;
    for (const input of ownKey(inputs, f) ?? [])
      if (builtinInputProblem(f, input) !== undefined)
        throw new UsageError(
          'INVALID_INPUT',
          `${builtinInputProblem(f, input)}, got ${shownValue(input)} (from ${ownKey(flagInputs, f) ? '--inputs' : ownKey(file?.inputs, f) ? values.config : 'the defaults'}).`,
        );
  }

  const fx = file?.experiment ?? {};
  const runtimes = values.runtimes
    ? parseList<RuntimeKind>(values.runtimes, '--runtimes', runtimeKinds())
    : (fx.runtimes ?? runtimeKinds());
  const preinit = values.preinit !== undefined ? parsePreinit(values.preinit) : fx.preinit;
  const order = values.order ?? fx.order ?? 'interleaved';
  if (order !== 'interleaved' && order !== 'shuffled')
    throw new CliError(`--order is interleaved or shuffled, got "${order}".`);
  const experiment: ExperimentConfig = {
    functions,
    runtimes,
    ...(values['baseline-runtime']
      ? { baseline: parseList<RuntimeKind>(values['baseline-runtime'], '--baseline-runtime', runtimeKinds())[0]! }
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
    timeoutMs: values.timeout ? parseDuration(values.timeout, '--timeout', true) : (fx.timeoutMs ?? 60_000),
    micro: values['no-micro'] === true ? false : (fx.micro ?? true),
    ...(values['keep-warm'] !== undefined
      ? { keepWarm: keepWarmFromFlag(values['keep-warm']) }
      : fx.keepWarm !== undefined
        ? { keepWarm: fx.keepWarm }
        : {}),
    ...(preinit !== undefined ? { preinit } : {}),
    // A runtime nobody asked for by name is skipped with a note when it cannot run here.
    skipUnavailable: quick || !(values.runtimes || fx.runtimes),
    outDir: values.out ?? file?.out ?? defaultOut(),
  };
  const config = resolveConfig(experiment);
  checkOutDir(config.outDir);
  const force = values.force === true;
  if (values['export-csv'] !== undefined)
    checkOutputFiles([{ flag: '--export-csv', path: values['export-csv'] }], { force, runDirs: [config.outDir] });
  const kinds = runtimeKinds();
  const specs = own.map(
    (s) =>
      Object.fromEntries(Object.entries(s).filter(([k]) => !isRuntimeKind(k) || runtimes.includes(k))) as FunctionSpec,
  );
  for (const s of specs)
    if (functions.includes(s.name) && !kinds.some((k) => k in s))
      throw new CliError(`Function "${s.name}" has no artifact for the runtimes run (${runtimes.join(', ')}).`);
  return {
    specs,
    config,
    // --quick samples the estimate every 100 ms: its invocations are short.
    meter: values.meter ?? file?.meter ?? (quick ? 'estimate?intervalMs=100' : 'estimate'),
    quick,
    ...(values['export-csv'] !== undefined ? { exportCsv: values['export-csv'] } : {}),
    force,
    warnings,
  };
}
