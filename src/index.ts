/**
 * nebula-faas: run functions as WebAssembly components or Docker containers and measure each
 * invocation's cold start, run time and energy on your own hardware.
 *
 * @example
 * ```ts
 * import { Nebula } from 'nebula-faas';
 * const nebula = new Nebula();
 * const rec = await nebula.invoke('fib', 30, { runtime: 'wasm' });
 * if (rec.ok) console.log(rec.result, rec.timing.startupMs, rec.timing.execMs);
 * await nebula.close();
 * ```
 * @module
 */
export { Nebula, MAX_TIMEOUT_MS } from './nebula.js';
export type { NebulaOptions, NebulaCoreOptions } from './nebula.js';
export { parseResult, MAX_RESULT_DEPTH } from './record.js';
export { NebulaError, UsageError, RuntimeUnavailableError, MeterError, isNebulaError } from './errors.js';
export type { ErrorCode, NebulaErrorOptions } from './errors.js';
export { nowMs, parseRfc3339Ms } from './clock.js';
export { builtinFunctions, BUILTIN_NAMES, BUILTINS, builtinInputs, builtinBinary, builtinBinaryArchs, builtinManifest, dockerArch } from './builtins.js';
export type { BuiltinName, BuiltinInfo, BuiltinInput, BuiltinArtifact, BuiltinManifest } from './builtins.js';
export { RUNTIMES, RUNTIME_KINDS, isRuntimeKind, WasmRuntime, DockerRuntime, ProcessRuntime } from './runtimes/index.js';
export type {
  RuntimeKind,
  RuntimeSources,
  RuntimeOptionsByKind,
  WasmRuntimeOptions,
  V8Tiering,
  WasmSource,
  DockerRuntimeOptions,
  DockerSource,
  ProcessRuntimeOptions,
  ProcessSource,
  Runtime,
  RuntimeDescriptor,
  Prepared,
  PreparedInfo,
  RunContext,
  RunOutcome,
} from './runtimes/index.js';
export type { Meter, MeterEvents } from './meters/meter.js';
export { GudeMeter, GudeSimulator, RaplMeter, EstimateMeter, defaultMeter, decodeBlock, encodeBlock, sensorBase, BLOCK_REGISTERS } from './meters/index.js';
export type {
  GudeMeterOptions,
  GudeSimulatorOptions,
  GudeFault,
  PowerTrace,
  GudeReading,
  GudeTarget,
  RaplMeterOptions,
  EstimateMeterOptions,
} from './meters/index.js';
export { EnergyTracker } from './energy/tracker.js';
export type { Attribution, EnergyTrackerOptions } from './energy/tracker.js';
export { summarize, quantile, medianRatio, medianInterval, mannWhitney } from './stats.js';
export type { Summary } from './stats.js';
export { createServer } from './server/index.js';
export type { ServerOptions, NebulaServer } from './server/index.js';
export {
  Experiment,
  EXPERIMENT_PHASES,
  runExperiment,
  DEFAULT_INPUTS,
  QUICK_INPUTS,
  renderReports,
  writeReports,
  summarizeRecords,
  checkOutputs,
  loadRun,
  compareRuns,
  recordsToCsv,
} from './experiment/index.js';
export type {
  RunExperimentOptions,
  ExperimentConfig,
  ExperimentResult,
  ExperimentEvents,
  ExperimentPhase,
  PhaseSize,
  CellSummary,
  Comparison,
  EnergyFigure,
  OutputCheck,
  OutputMismatch,
  LoadedRun,
  CompareRow,
  RunComparison,
  MicroResult,
} from './experiment/index.js';
export { INVOCATION_MODES } from './types.js';
export type {
  ArtifactInfo,
  Baseline,
  BatchEnergy,
  BuiltinSignatures,
  EnergyNote,
  EnergyPart,
  EnergyReason,
  EnergyStatus,
  FunctionGrants,
  FunctionInfo,
  FunctionLimits,
  FunctionSpec,
  FunctionSpecBase,
  InvocationEnergy,
  InvocationError,
  InvocationFailure,
  InvocationMode,
  InvocationRecord,
  InvocationRecordBase,
  InvocationSuccess,
  InvocationTiming,
  LimitState,
  InvokeOptions,
  NebulaEvents,
  PowerSample,
  SandboxUse,
} from './types.js';
