/** `runExperiment()`: an experiment from config to reports in one call. */
import { checkKnownKeys, keysOf } from '../known-keys.js';
import type { Meter } from '../meters/meter.js';
import { Nebula, type NebulaOptions } from '../nebula.js';
import { resolveConfig, type ExperimentConfig } from './run/config.js';
import { Experiment, type ExperimentEvents } from './run/experiment.js';
import { withKeepWarmCaps } from './run/keep-warm.js';
import type { ExperimentResult } from './analysis/summary.js';
import { writeReports } from './report/render.js';

/** Options of {@link runExperiment}. */
export interface RunExperimentOptions {
  /** Run on this instance (kept open); default: a new one with the built-ins, closed at the end. */
  nebula?: Nebula;
  /** Meter for a new instance (default: the default meter of `new Nebula()`; `null`: no energy). */
  meter?: Meter | null;
  /** Other options for a new instance. */
  nebulaOptions?: NebulaOptions;
  signal?: AbortSignal;
  /** Progress callbacks. */
  on?: Partial<ExperimentEvents>;
}

const OPTION_KEYS = keysOf<RunExperimentOptions>({
  nebula: true,
  meter: true,
  nebulaOptions: true,
  signal: true,
  on: true,
});
const EVENT_NAMES = keysOf<ExperimentEvents>({ phase: true, tick: true, progress: true, note: true });

/**
 * Runs an experiment and writes summary.json, records.jsonl, report.md and report.html into
 * `config.outDir`. Returns the result with the reports' paths.
 * @example
 * ```ts
 * const result = await runExperiment({ functions: ['fib', 'prime'], repetitions: 10, outDir: 'out' });
 * console.log(result.reports.html);
 * ```
 */
export async function runExperiment(
  config: ExperimentConfig,
  options: RunExperimentOptions = {},
): Promise<ExperimentResult & { reports: { markdown: string; html: string } }> {
  checkKnownKeys(options, OPTION_KEYS, 'runExperiment() options');
  checkKnownKeys(options.on, EVENT_NAMES, 'runExperiment() options.on');
  const owned = !options.nebula;
  const own = { ...options.nebulaOptions, ...(options.meter !== undefined ? { meter: options.meter } : {}) };
  const nebula = options.nebula ?? new Nebula(withKeepWarmCaps(own, resolveConfig(config).keepWarm));
  try {
    const exp = new Experiment(nebula, config);
    for (const [event, fn] of Object.entries(options.on ?? {}))
      if (fn) exp.on(event as keyof ExperimentEvents, fn as never);
    const result = await exp.run(options.signal);
    return { ...result, reports: writeReports(config.outDir, result) };
  } finally {
    if (owned) await nebula.close();
  }
}
