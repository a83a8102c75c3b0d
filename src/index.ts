/**
 * nebula-faas: run functions as WebAssembly components, Docker containers or native processes
 * and measure each invocation's cold start, run time and energy on your own hardware.
 *
 * The package root is the engine: `Nebula`, the runtimes, the meters, the records and their
 * types, and the errors. The rest has its own entry point: experiments and their reports in
 * `nebula-faas/experiment`, the REST API in `nebula-faas/server`, the Gude simulator and
 * register codec in `nebula-faas/gude`, the statistics in `nebula-faas/stats`.
 *
 * @example
 * ```ts
 * import { Nebula } from 'nebula-faas';
 * const nebula = new Nebula();
 * const rec = await nebula.invoke('fib', 30);
 * if (rec.ok) console.log(rec.result, rec.timing.startupMs, rec.timing.execMs);
 * await nebula.close();
 * ```
 * @module
 */
export { Nebula } from './nebula.js';
export type { NebulaOptions, NebulaCoreOptions } from './nebula.js';
export { NebulaError, UsageError, RuntimeUnavailableError, MeterError, isNebulaError, isUsageError } from './errors.js';
export type { ErrorCode, UsageCode, NebulaErrorOptions } from './errors.js';
export { nowMs, MAX_TIMEOUT_MS } from './clock.js';
export { BUILTIN_NAMES, BUILTINS, builtinBinary, builtinBinaryArchs, builtinManifest, dockerArch } from './builtins.js';
export type { BuiltinName, BuiltinInfo, BuiltinInput, BuiltinArtifact, BuiltinManifest } from './builtins.js';
export {
  registerRuntime,
  defineRuntime,
  runtimeKinds,
  runtimeDescriptors,
  isRuntimeKind,
  builtinFunctions,
  PHASES,
  failedOutcome,
  WasmRuntime,
  DockerRuntime,
  ProcessRuntime,
} from './runtimes/index.js';
export type {
  RuntimeKind,
  RuntimeTypes,
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
  Phase,
  Prepared,
  RunContext,
  RunOutcome,
  CloseOptions,
  Removal,
} from './runtimes/index.js';
export {
  GudeMeter,
  RaplMeter,
  EstimateMeter,
  defaultMeter,
  registerMeter,
  defineMeter,
  meterFromUrl,
} from './meters/index.js';
export type { Meter, MeterEvents, MeterDescriptor, MeterUrl } from './meters/index.js';
export type { GudeMeterOptions, GudeTarget, RaplMeterOptions, EstimateMeterOptions } from './meters/index.js';
export { EnergyTracker } from './energy/tracker.js';
export type { Attribution, EnergyTrackerOptions } from './energy/tracker.js';
export { INVOCATION_MODES } from './types.js';
export type {
  ArtifactInfo,
  Baseline,
  BatchEnergy,
  BuiltinSignatures,
  EnergyLedger,
  EnergyMethod,
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
  InvocationResources,
  InvocationSuccess,
  InvocationTiming,
  LimitState,
  InvokeOptions,
  NebulaEvents,
  PowerSample,
  ResourceSource,
  SandboxUse,
  SnapshotInfo,
} from './types.js';
