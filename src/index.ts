/**
 * nebula-faas: run functions as WebAssembly components or Docker containers and measure each
 * invocation's cold start, run time and energy on your own hardware.
 *
 * @example
 * ```ts
 * import { Nebula } from 'nebula-faas';
 * const nebula = new Nebula();
 * const rec = await nebula.invoke('fib', 30, { runtime: 'wasm' });
 * console.log(rec.result, rec.timing.startupMs, rec.timing.execMs);
 * await nebula.close();
 * ```
 * @module
 */
export { Nebula, parseResult } from './nebula.js';
export type { NebulaOptions } from './nebula.js';
export { NebulaError, UsageError, RuntimeUnavailableError, MeterError, isNebulaError } from './errors.js';
export type { ErrorCode, NebulaErrorOptions } from './errors.js';
export { nowMs, parseRfc3339Ms } from './clock.js';
export { builtinFunctions, BUILTIN_NAMES, BUILTINS, builtinInputs, builtinBinary, builtinBinaryArchs, builtinManifest, dockerArch } from './builtins.js';
export type { BuiltinName, BuiltinInfo, BuiltinInput, BuiltinArtifact, BuiltinManifest } from './builtins.js';
export { WasmRuntime } from './runtimes/wasm/index.js';
export type { WasmRuntimeOptions, V8Tiering } from './runtimes/wasm/index.js';
export { DockerRuntime } from './runtimes/docker/index.js';
export type { DockerRuntimeOptions } from './runtimes/docker/index.js';
export type { Runtime, Prepared, PreparedInfo, RunContext, RunOutcome } from './runtimes/runtime.js';
export type { Meter, MeterEvents } from './meters/meter.js';
export { GudeMeter, GudeSimulator, RaplMeter, EstimateMeter, decodeBlock, encodeBlock, sensorBase, BLOCK_REGISTERS } from './meters/index.js';
export type {
  GudeMeterOptions,
  GudeSimulatorOptions,
  PowerTrace,
  GudeReading,
  GudeTarget,
  RaplMeterOptions,
  EstimateMeterOptions,
} from './meters/index.js';
export { EnergyTracker } from './energy/tracker.js';
export { createServer } from './server/index.js';
export type { ServerOptions, NebulaServer } from './server/index.js';
export { Experiment, runExperiment, DEFAULT_INPUTS, summarize, quantile, medianRatio, renderReports, writeReports, summarizeRecords } from './bench/index.js';
export type { RunExperimentOptions, ExperimentConfig, ExperimentResult, ExperimentEvents, CellSummary, Comparison, Summary, MicroResult } from './bench/index.js';
export type { Attribution, EnergyTrackerOptions } from './energy/tracker.js';
export type {
  Baseline,
  BatchEnergy,
  DockerSource,
  FunctionGrants,
  FunctionInfo,
  FunctionLimits,
  FunctionSpec,
  InvocationEnergy,
  InvocationError,
  InvocationMode,
  InvocationRecord,
  InvocationTiming,
  InvokeOptions,
  NebulaEvents,
  PowerSample,
  RuntimeKind,
  WasmSource,
} from './types.js';
