/**
 * `nebula-faas/experiment`: experiments over a `Nebula` instance. The runner (a matrix of
 * functions x runtimes x modes x inputs in interleaved rounds, after a warm-up and an idle
 * baseline), its configuration and defaults, the summary per cell, the output check, the
 * reports (Markdown, HTML, CSV), run folders read back, and two runs compared.
 *
 * @example
 * ```ts
 * import { runExperiment } from 'nebula-faas/experiment';
 * const result = await runExperiment({ functions: ['fib', 'prime'], repetitions: 10, outDir: 'out' });
 * console.log(result.reports.html);
 * ```
 * @module
 */
export { Experiment, EXPERIMENT_PHASES } from './run/experiment.js';
export type { ExperimentEvents, ExperimentPhase, PhaseSize, PhaseStep } from './run/experiment.js';
export { DEFAULT_INPUTS, QUICK_INPUTS, resolveConfig } from './run/config.js';
export type { ExperimentConfig, PreinitSetting, ResolvedConfig } from './run/config.js';
export type { RunSnapshot } from './run/preinit-variants.js';
export { summarizeRecords } from './analysis/summary.js';
export type { ExperimentResult, CellSummary, Comparison } from './analysis/summary.js';
export type { EnergyFigure } from './analysis/energy-figures.js';
export { checkOutputs } from './analysis/output-check.js';
export type { OutputCheck, OutputMismatch } from './analysis/output-check.js';
export { renderReports, writeReports } from './report/render.js';
export { loadRun } from './run-folder.js';
export type { LoadedRun } from './run-folder.js';
export { compareRuns } from './analysis/compare.js';
export type { CompareRow, RunComparison } from './analysis/compare.js';
export { recordsToCsv } from './report/csv.js';
export { runExperiment } from './run-experiment.js';
export type { MicroResult } from './run/micro.js';
export type { RunExperimentOptions } from './run-experiment.js';
export { runLoad } from './load/run-load.js';
export type { LoadOptions, LoadResult, SeriesSummary } from './load/run-load.js';
export type { LoadSpec } from './load/spec.js';
export type { LoadFacts, LoadRecord, LoadStep, Percentile, StepSummary } from './load/summary.js';
export type { ArrivalProcess } from './load/arrivals.js';
export { readLoadRun } from './load/folder.js';
export { runReplay } from './replay/run-replay.js';
export type { ReplayOptions, ReplayResult, ReplayRunFile, ReplaySpec } from './replay/run-replay.js';
export { parseTrace } from './replay/trace.js';
export type { Trace, TraceArrival, TraceWindow } from './replay/trace.js';
export { parsePolicy } from './replay/policies.js';
export type { HistogramParameters, KeepAliveDecision, KeepAlivePolicy, LearningUnit } from './replay/policies.js';
export type { PolicySummary, ReplayFacts, ReplayRecord } from './replay/summary.js';
