/**
 * The runtimes: the `Runtime` interface and descriptor (`runtime.ts`), the registry of kinds
 * (`registry.ts`), and one folder per implementation (`wasm/`, `docker/`, `process/`).
 */
export {
  registerRuntime,
  runtimeKinds,
  runtimeDescriptors,
  isRuntimeKind,
  builtinFunctions,
  type RuntimeKind,
  type RuntimeSources,
  type RuntimeOptionsByKind,
  type RuntimeTypes,
} from './registry.js';
export { WasmRuntime, type WasmRuntimeOptions, type V8Tiering } from './wasm/index.js';
export type { WasmSource } from './wasm/descriptor.js';
export { DockerRuntime, type DockerRuntimeOptions } from './docker/index.js';
export type { DockerSource } from './docker/descriptor.js';
export { ProcessRuntime, type ProcessRuntimeOptions } from './process/index.js';
export type { ProcessSource } from './process/descriptor.js';
export { defineRuntime, PHASES } from './runtime.js';
export { failedOutcome } from './outcome.js';
export type {
  Runtime,
  RuntimeDescriptor,
  Phase,
  Prepared,
  RunContext,
  RunOutcome,
  CloseOptions,
  Removal,
} from './runtime.js';
