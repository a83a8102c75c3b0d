/** Experiments: the runner, statistics and reports. */
export { Experiment, DEFAULT_INPUTS, summarizeRecords } from './experiment.js';
export type { ExperimentConfig, ExperimentResult, ExperimentEvents, CellSummary, Comparison } from './experiment.js';
export { summarize, quantile, medianRatio } from './stats.js';
export type { Summary } from './stats.js';
export { renderReports, writeReports } from './render.js';
export { runExperiment } from './run.js';
export type { MicroResult } from './micro.js';
export type { RunExperimentOptions } from './run.js';
