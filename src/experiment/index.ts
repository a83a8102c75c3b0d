/** Experiments: the runner, its configuration, summaries and reports. */
export { Experiment } from './experiment.js';
export type { ExperimentEvents } from './experiment.js';
export { DEFAULT_INPUTS, resolveConfig } from './config.js';
export type { ExperimentConfig, ResolvedConfig } from './config.js';
export { summarizeRecords } from './summary.js';
export type { ExperimentResult, CellSummary, Comparison } from './summary.js';
export { renderReports, writeReports } from './render.js';
export { runExperiment } from './run.js';
export type { MicroResult } from './micro.js';
export type { RunExperimentOptions } from './run.js';
