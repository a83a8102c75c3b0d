/** Experiments: the runner, its configuration, summaries, reports, run folders and comparisons. */
export { Experiment, EXPERIMENT_PHASES } from './experiment.js';
export type { ExperimentEvents, ExperimentPhase, PhaseSize } from './experiment.js';
export { DEFAULT_INPUTS, QUICK_INPUTS, resolveConfig } from './config.js';
export type { ExperimentConfig, ResolvedConfig } from './config.js';
export { summarizeRecords } from './summary.js';
export type { ExperimentResult, CellSummary, Comparison } from './summary.js';
export type { EnergyFigure } from './energy-figures.js';
export { checkOutputs } from './output-check.js';
export type { OutputCheck, OutputMismatch } from './output-check.js';
export { renderReports, writeReports } from './render.js';
export { loadRun } from './run-folder.js';
export type { LoadedRun } from './run-folder.js';
export { compareRuns } from './compare.js';
export type { CompareRow, RunComparison } from './compare.js';
export { recordsToCsv } from './csv.js';
export { runExperiment } from './run.js';
export type { MicroResult } from './micro.js';
export type { RunExperimentOptions } from './run.js';
