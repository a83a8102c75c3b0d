/** An experiment's configuration: what the user gives, and the one place its defaults are resolved. */
import { builtinInputs } from '../../builtins.js';
import { MAX_TIMEOUT_MS } from '../../clock.js';
import { shownValue, UsageError } from '../../errors.js';
import { keysOf, unknownKey } from '../../known-keys.js';
import { checkTimeoutMs } from '../../nebula.js';
import { isRuntimeKind, runtimeDescriptor, runtimeKinds, type RuntimeKind } from '../../runtimes/registry.js';
import { INVOCATION_MODES, type InvocationMode } from '../../types.js';
import { resolveKeepWarm, type KeepWarmConfig, type ResolvedKeepWarm } from './keep-warm.js';

/** What to run. Every field but `outDir` has a default. */
export interface ExperimentConfig {
  /** Default: every deployed function. */
  functions?: string[];
  /** Default: every registered runtime. */
  runtimes?: RuntimeKind[];
  /**
   * The runtime every other one is compared against (ratios are other / baseline). Default: the one
   * whose descriptor says `baseline` (the native process) when it runs, else the first runtime.
   */
  baseline?: RuntimeKind;
  /** Default `['cold']`. */
  modes?: InvocationMode[];
  /** Inputs per function. Default: {@link DEFAULT_INPUTS}. */
  inputs?: Record<string, unknown[]>;
  /** Measured invocations per cell. Default 20. */
  repetitions?: number;
  /** Unrecorded invocations per cell first. Default 2. */
  warmup?: number;
  /**
   * Invocations of a cell made at once in the measured runs: each of the `repetitions` is that many
   * concurrent invocations, all recorded. Above 1, every energy figure is the records' shares
   * (`energy.shareJ`: their window figures hold each other's power), and cells get no batches.
   * Default 1.
   */
  concurrency?: number;
  /** Default `interleaved`. */
  order?: 'interleaved' | 'shuffled';
  /** Seed of the shuffle and the bootstrap. Default 1. */
  seed?: number;
  /** Idle power measurement before the runs, ms (only with a meter). Default 10 000; 0 measures none (energy figures then include idle). */
  baselineMs?: number;
  /** Batch energy for cells shorter than a few meter intervals; window at least this long, ms. Default 2 000; false to skip. */
  batchWindowMs?: number | false;
  /** tinybench micro-benchmarks of the engine's own per-invocation overhead. Default true. */
  micro?: boolean;
  /** Per-invocation timeout, ms. Default 60 000. */
  timeoutMs?: number;
  /**
   * Measure the power and memory of kept-warm sandboxes (needs a meter; see docs/energy.md).
   * `true` or settings turn it on; default: on when `modes` include `warm`.
   */
  keepWarm?: KeepWarmConfig | boolean;
  /**
   * Pre-initialisation of the functions run (`FunctionSpec.preinit`). `deployed` (default): as each
   * was deployed. `'auto'`, `true`, `false`: each is deployed again with that setting for the run
   * (and as it was afterwards). `both`: each function a runtime can pre-initialise runs twice, as
   * it is (without) and as `<name>-preinit` (with), on the runtimes that pre-initialise it, and the
   * reports put the two side by side.
   */
  preinit?: PreinitSetting;
  /** Drop a runtime that is unavailable (saying so in the result) instead of failing. Default false. */
  skipUnavailable?: boolean;
  /** Where records.jsonl and summary.json go. */
  outDir: string;
}

/** The values of {@link ExperimentConfig.preinit}. */
export type PreinitSetting = 'deployed' | 'auto' | boolean | 'both';
const PREINIT_SETTINGS: readonly PreinitSetting[] = ['deployed', 'auto', true, false, 'both'];

/** A configuration with every default filled in (as written to summary.json). */
export type ResolvedConfig = Required<Omit<ExperimentConfig, 'inputs' | 'baseline' | 'keepWarm'>> & {
  inputs: Record<string, unknown[]>;
  baseline: RuntimeKind;
  keepWarm: ResolvedKeepWarm | false;
};

/**
 * Inputs of the built-in functions when none are given. Every default input of the experiment
 * runner and the CLI comes from here and {@link QUICK_INPUTS}.
 */
export const DEFAULT_INPUTS: Record<string, unknown[]> = builtinInputs('default');

/** Small inputs of the built-ins for `nebula bench --quick` (about two minutes for everything). */
export const QUICK_INPUTS: Record<string, unknown[]> = builtinInputs('quick');

const CONFIG_KEYS = keysOf<ExperimentConfig>({
  functions: true,
  runtimes: true,
  baseline: true,
  modes: true,
  inputs: true,
  repetitions: true,
  concurrency: true,
  warmup: true,
  order: true,
  seed: true,
  baselineMs: true,
  batchWindowMs: true,
  micro: true,
  timeoutMs: true,
  keepWarm: true,
  preinit: true,
  skipUnavailable: true,
  outDir: true,
});
const KEEP_WARM_KEYS = keysOf<KeepWarmConfig>({
  counts: true,
  windowMs: true,
  repeats: true,
  function: true,
  input: true,
});

const bad = (field: string, what: string, got: unknown) =>
  new UsageError('INVALID_CONFIG', `Experiment config: ${field} ${what}, got ${shownValue(got)}.`, {
    details: { field },
  });

function wholeNumber(field: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min)
    throw bad(field, `must be a whole number >= ${min}`, value);
  return value;
}

function atMost(field: string, value: number, max: number): number {
  if (value > max) throw bad(field, `must be at most ${max}`, value);
  return value;
}

/** The baseline runtime when none is chosen: the one whose descriptor says so (the native process) where it runs, else the first one. */
function defaultBaseline(runtimes: readonly RuntimeKind[]): RuntimeKind {
  return runtimes.find((r) => runtimeDescriptor(r)?.baseline) ?? runtimes[0]!;
}

/**
 * Validates a configuration and fills in the defaults.
 * @throws UsageError `INVALID_CONFIG` naming the field and what is wrong.
 */
export function resolveConfig(config: ExperimentConfig): ResolvedConfig {
  if (typeof config !== 'object' || config === null) throw bad('config', 'must be an object', config);
  for (const [where, value, known] of [
    ['', config, CONFIG_KEYS],
    ['keepWarm: ', config.keepWarm, KEEP_WARM_KEYS],
  ] as const) {
    const problem = unknownKey(value, known);
    if (problem)
      throw new UsageError('INVALID_CONFIG', `Experiment config: ${where}${problem}.`, {
        details: { field: where ? 'keepWarm' : 'config' },
      });
  }
  if (typeof config.outDir !== 'string' || !config.outDir)
    throw bad('outDir', 'must name the folder for records and reports', config.outDir);
  const runtimes = config.runtimes ?? runtimeKinds();
  if (!Array.isArray(runtimes) || runtimes.length === 0)
    throw bad('runtimes', `must be a non-empty list of ${runtimeKinds().join(', ')}`, runtimes);
  for (const r of runtimes)
    if (!isRuntimeKind(r)) throw bad('runtimes', `must only hold ${runtimeKinds().join(', ')}`, r);
  const modes = config.modes ?? ['cold'];
  if (!Array.isArray(modes) || modes.length === 0)
    throw bad('modes', `must be a non-empty list of ${INVOCATION_MODES.join(', ')}`, modes);
  for (const m of modes)
    if (!INVOCATION_MODES.includes(m)) throw bad('modes', `must only hold ${INVOCATION_MODES.join(', ')}`, m);
  const baseline = config.baseline ?? defaultBaseline(runtimes);
  if (!isRuntimeKind(baseline)) throw bad('baseline', `must be one of ${runtimeKinds().join(', ')}`, baseline);
  const order = config.order ?? 'interleaved';
  if (order !== 'interleaved' && order !== 'shuffled') throw bad('order', 'must be "interleaved" or "shuffled"', order);
  const functions = config.functions ?? [];
  if (!Array.isArray(functions) || functions.some((f) => typeof f !== 'string'))
    throw bad('functions', 'must be a list of function names', functions);
  const inputs = config.inputs ?? {};
  if (typeof inputs !== 'object' || inputs === null || Object.values(inputs).some((v) => !Array.isArray(v)))
    throw bad('inputs', 'must map function names to lists of inputs', inputs);
  const batch = config.batchWindowMs ?? 2000;
  if (batch !== false && (typeof batch !== 'number' || !(batch > 0) || !Number.isFinite(batch)))
    throw bad('batchWindowMs', 'must be a positive number of ms or false', batch);
  const preinit = config.preinit ?? 'deployed';
  if (!PREINIT_SETTINGS.includes(preinit))
    throw bad('preinit', 'must be "deployed", "auto", true, false or "both"', preinit);
  let timeoutMs: number;
  try {
    timeoutMs = checkTimeoutMs(config.timeoutMs ?? 60_000);
  } catch {
    throw bad('timeoutMs', `must be a number of ms from 1 to ${MAX_TIMEOUT_MS}`, config.timeoutMs);
  }
  return {
    functions,
    runtimes,
    baseline,
    modes,
    inputs: { ...DEFAULT_INPUTS, ...inputs },
    repetitions: wholeNumber('repetitions', config.repetitions ?? 20, 1),
    warmup: wholeNumber('warmup', config.warmup ?? 2, 0),
    concurrency: atMost('concurrency', wholeNumber('concurrency', config.concurrency ?? 1, 1), 1024),
    order,
    seed: wholeNumber('seed', config.seed ?? 1, 0),
    baselineMs: wholeNumber('baselineMs', config.baselineMs ?? 10_000, 0),
    batchWindowMs: batch,
    micro: config.micro ?? true,
    timeoutMs,
    preinit,
    skipUnavailable: config.skipUnavailable ?? false,
    keepWarm: resolveKeepWarm(config.keepWarm, modes),
    outDir: config.outDir,
  };
}
