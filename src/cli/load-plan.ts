/**
 * What `nebula load` will run, from its flags and a config file (`--config`; flags override it),
 * checked in full before anything runs (a mistake is one line and exit 2): functions, inputs,
 * runtimes, modes, rates, arrivals, bounds.
 */
import { BUILTIN_NAMES } from '../builtins.js';
import { parseRate as advisorRate } from '../energy/advisor.js';
import { UsageError } from '../errors.js';
import { ARRIVAL_PROCESSES, type ArrivalProcess } from '../experiment/load/arrivals.js';
import { resolveLoadSpec, type ResolvedLoadSpec } from '../experiment/load/spec.js';
import { checkOutDir } from '../experiment/run-folder.js';
import { runtimeKinds, type RuntimeKind } from '../runtimes/registry.js';
import { INVOCATION_MODES, type FunctionSpec, type InvocationMode } from '../types.js';
import { CliError, parse, parseDuration, parseList, parseWhole, type Options, type Parsed } from './args.js';
import { inputsFromFlags, RUN_FLAGS, withRuntimeFlags } from './bench-plan.js';
import { functionsToRun, loadConfigFile } from './config-file.js';
import { checkOutputFiles, type OutputFile } from './output-file.js';

/** The flags of `nebula load` besides the runtimes' own. */
const LOAD_FLAGS = {
  ...RUN_FLAGS,
  modes: { type: 'string' },
  rate: { type: 'string' },
  rates: { type: 'string' },
  arrivals: { type: 'string' },
  duration: { type: 'string' },
  'stop-p99': { type: 'string' },
  'stop-errors': { type: 'string' },
  'knee-p99': { type: 'string' },
  'max-in-flight': { type: 'string' },
  warmup: { type: 'string' },
  seed: { type: 'string' },
} as const;

/** The parsed flags of `nebula load`; each runtime's `--<kind>` values are read by kind. */
type LoadValues = Parsed<typeof LOAD_FLAGS>['values'];

/** The flags of `nebula load`: its own and each registered runtime's `--<kind> NAME=VALUE`. */
export function loadOptions(): Options {
  return withRuntimeFlags(LOAD_FLAGS, 'load');
}

/** Parses `nebula load`'s arguments against {@link loadOptions}. */
export function parseLoad(argv: string[]): { values: LoadValues; positionals: string[] } {
  const { values, positionals } = parse(argv, 'load', loadOptions());
  return { values, positionals };
}

/** A load run ready to start. */
export interface LoadPlan {
  specs: FunctionSpec[];
  spec: ResolvedLoadSpec;
  meter: string;
  /** What the flags or the file ask for that probably is not meant (printed, never fatal). */
  warnings: string[];
  /** `--export-csv`: where the CSV of the steps is also written, checked before anything runs. */
  exportCsv?: OutputFile;
  /** `--force`: `--export-csv` may replace an existing file. */
  force: boolean;
}

/** A rate as the advisor reads it (`200/s`, `600/min`, `10/h`, `200`), above 0, in arrivals per second. */
function parseRate(text: string, flag: string): number {
  const v = advisorRate(text);
  if (!(v > 0) || !Number.isFinite(v))
    throw new CliError(`${flag} takes a rate above 0 such as 200/s, 200 or 600/min, got "${text}".`);
  return v;
}

/** `50,100,200/s`: a unit on the last one applies to every one without its own. */
function parseRates(text: string): number[] {
  const items = parseList(text, '--rates');
  const unit = /\/\s*[a-z]+$/i.exec(items[items.length - 1]!)?.[0] ?? '';
  return items.map((i) => parseRate(/\//.test(i) ? i : `${i}${unit}`, '--rates'));
}

function share(text: string, flag: string): number {
  const percent = /^(\d+(?:\.\d+)?)%$/.exec(text.trim());
  const v = percent ? Number(percent[1]) / 100 : Number(text);
  if (!/^\s*\d/.test(text) || !(v >= 0 && v <= 1))
    throw new CliError(`${flag} takes a share from 0 to 1 or a percentage such as 5%, got "${text}".`);
  return v;
}

/** A new folder under nebula-results/ named for the time. */
function defaultOut(): string {
  return `nebula-results/load-${new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)}`;
}

/**
 * Builds the plan from parsed flags.
 * @throws UsageError (exit 2) naming the flag that is wrong, an unknown function, a used `--out`, too many arrivals.
 */
export function planLoad(values: LoadValues): LoadPlan {
  const file = values.config ? loadConfigFile(values.config, 'load') : undefined;
  const fx = (file?.fields ?? {}) as FileFields;
  const { own, functions, warnings } = functionsToRun(values, file, ['fib']);
  const known = new Set<string>([...BUILTIN_NAMES, ...own.map((s) => s.name)]);
  for (const f of functions)
    if (!known.has(f))
      throw new UsageError(
        'FUNCTION_NOT_FOUND',
        `No function named "${f}": the built-ins are ${BUILTIN_NAMES.join(', ')}; add your own with --binary, a runtime's own flag (see --help) or --config.`,
      );
  const inputs: Record<string, unknown> = {};
  for (const [name, list] of Object.entries(file?.inputs ?? {})) {
    if (list.length > 1)
      throw new UsageError(
        'INVALID_CONFIG',
        `${values.config}: "${name}" has ${list.length} inputs; a load run takes one per function.`,
        { details: { field: 'functions' } },
      );
    if (functions.includes(name)) inputs[name] = list[0];
  }
  for (const [name, list] of Object.entries(inputsFromFlags(values.inputs))) {
    if (!functions.includes(name))
      throw new CliError(
        `--inputs names "${name}", which is not among the functions loaded (${functions.join(', ')}).`,
      );
    if (list.length > 1)
      throw new CliError(`--inputs gives "${name}" more than one input; a load run takes one per function.`);
    inputs[name] = list[0];
  }
  if (values.rate && values.rates) throw new CliError('Give --rate or --rates, not both.');
  if (fx.rate !== undefined && fx.rates !== undefined)
    throw new UsageError('INVALID_CONFIG', `${values.config}: give rate or rates, not both.`, {
      details: { field: 'rate' },
    });
  const rates = values.rates
    ? parseRates(values.rates)
    : values.rate
      ? [parseRate(values.rate, '--rate')]
      : (fx.rates ?? (fx.rate !== undefined ? [fx.rate] : undefined));
  const arrivals = values.arrivals ?? fx.arrivals ?? 'constant';
  if (!ARRIVAL_PROCESSES.includes(arrivals as ArrivalProcess))
    throw new CliError(`--arrivals is ${ARRIVAL_PROCESSES.join(' or ')}, got "${arrivals}".`);
  const runtimes = values.runtimes
    ? parseList<RuntimeKind>(values.runtimes, '--runtimes', runtimeKinds())
    : (fx.runtimes as RuntimeKind[] | undefined);
  const durationMs = values.duration ? parseDuration(values.duration, '--duration') : fx.durationMs;
  if (durationMs === 0) throw new CliError('--duration must be above 0.');
  // The file's numbers, already checked against its schema; each flag given overrides its own.
  const fromFile = Object.fromEntries(
    (
      ['stopP99Ms', 'stopErrorRate', 'kneeP99Ms', 'maxInFlight', 'warmup', 'timeoutMs', 'seed', 'baselineMs'] as const
    ).flatMap((k) => (fx[k] !== undefined ? [[k, fx[k]]] : [])),
  );
  const spec = resolveLoadSpec({
    ...fromFile,
    functions,
    inputs,
    ...(runtimes ? { runtimes } : {}),
    ...(values.modes
      ? { modes: parseList<InvocationMode>(values.modes, '--modes', INVOCATION_MODES) }
      : fx.modes
        ? { modes: fx.modes as InvocationMode[] }
        : {}),
    ...(rates ? { rates } : {}),
    arrivals: arrivals as ArrivalProcess,
    ...(durationMs !== undefined ? { durationMs } : {}),
    ...(values['stop-p99'] ? { stopP99Ms: positiveMs(values['stop-p99'], '--stop-p99') } : {}),
    ...(values['stop-errors'] ? { stopErrorRate: share(values['stop-errors'], '--stop-errors') } : {}),
    ...(values['knee-p99'] ? { kneeP99Ms: positiveMs(values['knee-p99'], '--knee-p99') } : {}),
    ...(values['max-in-flight'] ? { maxInFlight: parseWhole(values['max-in-flight'], '--max-in-flight') } : {}),
    ...(values.warmup !== undefined ? { warmup: parseWhole(values.warmup, '--warmup', 0) } : {}),
    ...(values.timeout ? { timeoutMs: positiveMs(values.timeout, '--timeout') } : {}),
    ...(values.seed !== undefined ? { seed: parseWhole(values.seed, '--seed', 0) } : {}),
    ...(values.baseline ? { baselineMs: parseDuration(values.baseline, '--baseline') } : {}),
    // A runtime nobody asked for by name is skipped with a note when it cannot run here.
    skipUnavailable: !runtimes,
    outDir: values.out ?? file?.out ?? defaultOut(),
  });
  checkOutDir(spec.outDir);
  const force = values.force === true;
  const exportCsv: OutputFile | undefined =
    values['export-csv'] !== undefined ? { flag: '--export-csv', path: values['export-csv'] } : undefined;
  if (exportCsv) checkOutputFiles([exportCsv], { force, runDirs: [spec.outDir] });
  const specs = own.map(
    (s) =>
      Object.fromEntries(
        Object.entries(s).filter(
          ([k]) => !(runtimeKinds() as readonly string[]).includes(k) || spec.runtimes.includes(k as RuntimeKind),
        ),
      ) as FunctionSpec,
  );
  return {
    specs,
    spec,
    meter: values.meter ?? file?.meter ?? 'estimate',
    warnings,
    ...(exportCsv ? { exportCsv } : {}),
    force,
  };
}

/** The load's own fields of a config file, as its schema has checked them. */
interface FileFields {
  runtimes?: string[];
  modes?: string[];
  rate?: number;
  rates?: number[];
  arrivals?: ArrivalProcess;
  durationMs?: number;
  stopP99Ms?: number;
  stopErrorRate?: number;
  kneeP99Ms?: number;
  maxInFlight?: number;
  warmup?: number;
  timeoutMs?: number;
  seed?: number;
  baselineMs?: number;
}

function positiveMs(text: string, flag: string): number {
  const ms = parseDuration(text, flag);
  if (!(ms > 0)) throw new CliError(`${flag} must be above 0, got "${text}".`);
  return ms;
}
