/**
 * What `nebula replay` will run, from its flags, its trace argument and a config file (`--config`;
 * flags and a trace on the command line override it), checked in full before anything runs (a
 * mistake is one line and exit 2): the trace and its window, the mapping, policies, runtimes.
 */
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { BUILTIN_NAMES } from '../builtins.js';
import { UsageError } from '../errors.js';
import { parsePolicy, policyOnTrace } from '../experiment/replay/policies.js';
import { keepingRuntimes } from '../experiment/replay/run-replay.js';
import { parseTrace, type Trace, type TraceWindow } from '../experiment/replay/trace.js';
import { checkOutDir } from '../experiment/run-folder.js';
import { QUICK_INPUTS } from '../experiment/run/config.js';
import { builtinFunctions, runtimeKinds, type RuntimeKind } from '../runtimes/registry.js';
import type { FunctionSpec } from '../types.js';
import { CliError, parse, parseDuration, parseList, parseWhole, type Options, type Parsed } from './args.js';
import { inputsFromFlags, RUN_FLAGS, withRuntimeFlags } from './bench-plan.js';
import { functionsToRun, loadConfigFile } from './config-file.js';
import { checkOutputFiles, type OutputFile } from './output-file.js';

/** The flags of `nebula replay` besides the runtimes' own. */
const REPLAY_FLAGS = {
  ...RUN_FLAGS,
  window: { type: 'string' },
  speed: { type: 'string' },
  map: { type: 'string', multiple: true },
  policies: { type: 'string' },
  'keep-warm-watts': { type: 'string', multiple: true },
  'max-in-flight': { type: 'string' },
} as const;

type ReplayValues = Parsed<typeof REPLAY_FLAGS>['values'];

/** The flags of `nebula replay`: its own and each registered runtime's `--<kind> NAME=VALUE`. */
export function replayOptions(): Options {
  return withRuntimeFlags(REPLAY_FLAGS, 'replay');
}

/** Parses `nebula replay`'s arguments against {@link replayOptions}. */
export function parseReplay(argv: string[]): { values: ReplayValues; positionals: string[] } {
  const { values, positionals } = parse(argv, 'replay', replayOptions());
  return { values, positionals };
}

/** A replay ready to start. */
export interface ReplayPlan {
  /** The trace file, as given. */
  path: string;
  trace: Trace;
  mapping: Record<string, { spec: FunctionSpec; input: unknown }>;
  policies: string[];
  runtimes: RuntimeKind[];
  speed: number;
  maxInFlight: number;
  timeoutMs?: number;
  baselineMs?: number;
  keepWarmWattsPerSandbox: Partial<Record<RuntimeKind, number>>;
  meter: string;
  outDir: string;
  /** `--export-csv`: where the CSV of the policies is also written, checked before anything runs. */
  exportCsv?: OutputFile;
  /** `--force`: `--export-csv` may replace an existing file. */
  force: boolean;
  /** What the config file and the flags ask for that probably is not meant (a binary another artifact overrides). */
  warnings: string[];
}

/** The replay's own fields of a config file, as its schema has checked them. */
interface FileFields {
  trace?: string;
  window?: string;
  speed?: number;
  mapping?: Record<string, string>;
  policies?: string[];
  runtimes?: RuntimeKind[];
  keepWarmWattsPerSandbox?: Partial<Record<RuntimeKind, number>>;
  maxInFlight?: number;
  timeoutMs?: number;
  baselineMs?: number;
}

/** `09:00-10:30` (time of day) or `0m-90m` (durations) to a window in ms; `flag` names where it came from. */
function parseWindow(text: string, flag: string): TraceWindow {
  const [from, to, extra] = text.split('-');
  if (from === undefined || to === undefined || extra !== undefined)
    throw new CliError(`${flag} takes FROM-TO, e.g. 09:00-10:30 or 0m-90m, got "${text}".`);
  const at = (t: string) => {
    const clock = /^(\d{1,2}):(\d{2})$/.exec(t.trim());
    if (clock) {
      const [h, m] = [Number(clock[1]), Number(clock[2])];
      if (h > 24 || m > 59 || h * 60 + m > 1440) throw new CliError(`${flag}: "${t}" is not a time of day.`);
      return (h * 60 + m) * 60_000;
    }
    return parseDuration(t, flag);
  };
  const w = { fromMs: at(from), toMs: at(to) };
  if (!(w.toMs > w.fromMs)) throw new CliError(`${flag} must end after it starts, got "${text}".`);
  return w;
}

function readTrace(path: string): string {
  try {
    if (statSync(path).size > 512 << 20)
      throw new CliError(`${path} is over 512 MiB; cut it to the functions and day you replay.`);
    return readFileSync(path, 'utf8');
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new UsageError('INVALID_CONFIG', `Cannot read the trace ${path}: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * Builds the plan from parsed flags and positionals.
 * @throws UsageError (exit 2) naming the flag, field or trace line that is wrong, an unknown function, a used `--out`.
 */
export function planReplay(values: ReplayValues, positionals: string[]): ReplayPlan {
  const file = values.config ? loadConfigFile(values.config, 'replay') : undefined;
  const fx = (file?.fields ?? {}) as FileFields;
  const inFile = (field: string) => `${values.config}: ${field}`;
  if (positionals.length > 1 || (!positionals.length && !fx.trace))
    throw new CliError('nebula replay takes one trace file (or a config file with a trace). (see --help)');
  const path = positionals[0] ?? resolve(file!.base, fx.trace!);
  const window = values.window
    ? parseWindow(values.window, '--window')
    : fx.window
      ? parseWindow(fx.window, inFile('window'))
      : undefined;
  const trace = parseTrace(readTrace(path), path, window);
  const speed = values.speed ? Number(values.speed) : (fx.speed ?? 60);
  if (!(speed > 0) || !Number.isFinite(speed))
    throw new CliError(`--speed takes a number above 0, got "${values.speed}".`);
  const policies = values.policies
    ? parseList(values.policies, '--policies')
    : (fx.policies ?? ['none', 'fixed:10m', 'histogram']);
  for (const p of policies) policyOnTrace(parsePolicy(p), trace);
  const runtimes = values.runtimes
    ? parseList<RuntimeKind>(values.runtimes, '--runtimes', runtimeKinds())
    : (fx.runtimes ?? (policies.every((p) => p === 'none') ? runtimeKinds() : keepingRuntimes()));
  if (!runtimes.length)
    throw new CliError("No registered runtime keeps sandboxes under a policy's control; replay with --policies none.");

  // What each trace function runs.
  const { own, functions, warnings } = functionsToRun(values, file, ['fib']);
  const specs = new Map<string, FunctionSpec>([...builtinFunctions(), ...own].map((s) => [s.name, s]));
  const known = (f: string) => {
    if (!specs.has(f))
      throw new UsageError(
        'FUNCTION_NOT_FOUND',
        `No function named "${f}": the built-ins are ${BUILTIN_NAMES.join(', ')}; add your own with --binary, a runtime's own flag (see --help) or --config.`,
      );
    return f;
  };
  functions.forEach(known);
  const target: Record<string, string> = Object.fromEntries(
    trace.functions.map((f, i) => [f, functions[i % functions.length]!]),
  );
  const pairs = [
    ...Object.entries(fx.mapping ?? {}).map(([key, fn]) => ({ key, fn, from: inFile('mapping') })),
    ...(values.map ?? [])
      .flatMap((m) => m.split(','))
      .map((pair) => {
        const [key, fn] = pair.split('=');
        if (!key || !fn) throw new CliError(`--map takes TRACE_FUNCTION=FUNCTION pairs such as f1=fib, got "${pair}".`);
        return { key, fn, from: '--map' };
      }),
  ];
  for (const { key, fn, from } of pairs) {
    const index = /^f(\d+)$/.exec(key) ? Number(key.slice(1)) - 1 : trace.functions.indexOf(key);
    const id = trace.functions[index];
    if (id === undefined)
      throw new CliError(
        `${from}: the trace has no function "${key}" (its functions are f1 to f${trace.functions.length}, or their ids).`,
      );
    target[id] = known(fn);
  }
  for (const [name, list] of Object.entries(file?.inputs ?? {}))
    if (list.length > 1)
      throw new UsageError(
        'INVALID_CONFIG',
        `${values.config}: "${name}" has ${list.length} inputs; a replay takes one per function.`,
        { details: { field: 'functions' } },
      );
  const inputs = { ...file?.inputs, ...inputsFromFlags(values.inputs) };
  for (const name of Object.keys(inputsFromFlags(values.inputs)))
    if (!Object.values(target).includes(name))
      throw new CliError(`--inputs names "${name}", which no trace function runs.`);
  const mapping = Object.fromEntries(
    Object.entries(target).map(([id, fn]) => [
      id,
      { spec: specs.get(fn)!, input: inputs[fn]?.[0] ?? QUICK_INPUTS[fn]?.[0] ?? null },
    ]),
  );
  const watts: Partial<Record<RuntimeKind, number>> = { ...fx.keepWarmWattsPerSandbox };
  for (const pair of values['keep-warm-watts'] ?? []) {
    const [rt, w] = pair.split('=');
    const kind = parseList<RuntimeKind>(rt ?? '', '--keep-warm-watts', runtimeKinds())[0]!;
    const v = Number(w);
    if (!(v >= 0) || !Number.isFinite(v))
      throw new CliError(`--keep-warm-watts takes RUNTIME=WATTS such as ${runtimeKinds()[0]}=0.05, got "${pair}".`);
    watts[kind] = v;
  }
  const outDir =
    values.out ?? file?.out ?? `nebula-results/replay-${new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)}`;
  checkOutDir(outDir);
  const force = values.force === true;
  const exportCsv: OutputFile | undefined =
    values['export-csv'] !== undefined ? { flag: '--export-csv', path: values['export-csv'] } : undefined;
  if (exportCsv) checkOutputFiles([exportCsv], { force, runDirs: [outDir] });
  const timeoutMs = values.timeout ? parseDuration(values.timeout, '--timeout') : fx.timeoutMs;
  const baselineMs = values.baseline ? parseDuration(values.baseline, '--baseline') : fx.baselineMs;
  return {
    path,
    trace,
    mapping,
    policies,
    runtimes,
    speed,
    maxInFlight: values['max-in-flight']
      ? parseWhole(values['max-in-flight'], '--max-in-flight')
      : (fx.maxInFlight ?? 256),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    ...(baselineMs !== undefined ? { baselineMs } : {}),
    keepWarmWattsPerSandbox: watts,
    meter: values.meter ?? file?.meter ?? 'estimate',
    outDir,
    ...(exportCsv ? { exportCsv } : {}),
    force,
    warnings,
  };
}
