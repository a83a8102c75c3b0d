/**
 * The runtime registry: one descriptor per kind of runtime. Adding a runtime is its own folder
 * (the `Runtime` implementation and its `descriptor.ts`) plus its line in `RUNTIMES`; the core,
 * the CLI, the server and the experiment runner all read the kinds from here.
 */
import type { Runtime, RuntimeDescriptor } from './runtime.js';
import { dockerRuntime } from './docker/descriptor.js';
import { processRuntime } from './process/descriptor.js';
import { wasmRuntime } from './wasm/descriptor.js';

/** Every runtime kind, in the order a function's default runtime is chosen. */
export const RUNTIMES = [wasmRuntime, dockerRuntime, processRuntime] as const;

type Descriptors = (typeof RUNTIMES)[number];
type SourceOf<D> = D extends { validate(source: unknown, name: string): infer S } ? S : never;
type OptionsOf<D> = D extends { create(options?: infer O): Runtime } ? O : never;

/** Where a function runs: a registered kind (`wasm`, `docker`, ...). */
export type RuntimeKind = Descriptors['kind'];
/** A function spec's artifacts: `spec[kind]` for each runtime it runs on. */
export type RuntimeSources = { [D in Descriptors as D['kind']]?: SourceOf<D> };
/** Each runtime's options, under its kind, in `new Nebula({ ... })`. */
export type RuntimeOptionsByKind = { [D in Descriptors as D['kind']]?: OptionsOf<D> };

/** The registered kinds, in registry order. */
export const RUNTIME_KINDS: readonly RuntimeKind[] = RUNTIMES.map((d) => d.kind);

/** True when `kind` names a registered runtime. */
export function isRuntimeKind(kind: unknown): kind is RuntimeKind {
  return typeof kind === 'string' && (RUNTIME_KINDS as readonly string[]).includes(kind);
}

/** The descriptor of a registered kind. */
export function runtimeDescriptor(kind: RuntimeKind): RuntimeDescriptor<RuntimeKind> {
  return RUNTIMES.find((d) => d.kind === kind)!;
}

export { WasmRuntime, type WasmRuntimeOptions, type V8Tiering } from './wasm/index.js';
export type { WasmSource } from './wasm/descriptor.js';
export { DockerRuntime, type DockerRuntimeOptions } from './docker/index.js';
export type { DockerSource } from './docker/descriptor.js';
export { ProcessRuntime, type ProcessRuntimeOptions } from './process/index.js';
export type { ProcessSource } from './process/descriptor.js';
export type {
  Runtime,
  RuntimeDescriptor,
  Prepared,
  PreparedInfo,
  RunContext,
  RunOutcome,
  CloseOptions,
  Removal,
} from './runtime.js';
