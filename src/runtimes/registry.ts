/**
 * The runtime registry: one descriptor per kind of runtime, in the order a function's default
 * runtime is chosen. The core, the CLI, the config schema, the server, the experiment runner and
 * the built-ins read the kinds from here. The package's own kinds are registered below; a runtime
 * of one's own is its folder (a `Runtime` and its descriptor) plus `registerRuntime(descriptor)`.
 */
import { BUILTIN_NAMES, BUILTINS } from '../builtins.js';
import { UsageError } from '../errors.js';
import type { FunctionSpec, InvocationMode } from '../types.js';
import { dockerRuntime, type DockerSource } from './docker/descriptor.js';
import type { DockerRuntimeOptions } from './docker/index.js';
import { processRuntime, type ProcessSource } from './process/descriptor.js';
import type { ProcessRuntimeOptions } from './process/index.js';
import { PHASES, type RuntimeDescriptor } from './runtime.js';
import { wasmRuntime, type WasmSource } from './wasm/descriptor.js';
import type { WasmRuntimeOptions } from './wasm/index.js';

/**
 * Each kind's source and options types, for the type checker. A runtime registered from outside
 * the package adds its kind by declaration merging, so its sources, options and records are typed:
 * `declare module 'nebula-faas' { interface RuntimeTypes { js: { source: JsSource; options: JsOptions } } }`.
 */
export interface RuntimeTypes {
  wasm: { source: WasmSource; options: WasmRuntimeOptions };
  docker: { source: DockerSource; options: DockerRuntimeOptions };
  process: { source: ProcessSource; options: ProcessRuntimeOptions };
}

/** Where a function runs: a registered kind (`wasm`, `docker`, `process`, or one registered later). */
export type RuntimeKind = Extract<keyof RuntimeTypes, string>;
/** A function spec's artifacts: `spec[kind]` for each runtime it runs on. */
export type RuntimeSources = { [K in RuntimeKind]?: RuntimeTypes[K]['source'] };
/** Each runtime's options, under its kind, in `new Nebula({ ... })`. */
export type RuntimeOptionsByKind = { [K in RuntimeKind]?: RuntimeTypes[K]['options'] };

const registered = new Map<string, RuntimeDescriptor<RuntimeKind>>();

/** The fields of a function spec besides the runtimes' sources. */
export const SPEC_FIELDS: ReadonlySet<string> = new Set([
  'name',
  'description',
  'grants',
  'limits',
  'builtin',
  'preinit',
  'initFunc',
  'checkInput',
]);
/** Names no kind may take: a function spec's fields, and a config file entry's `binary` and `inputs`. */
const RESERVED = new Set([...SPEC_FIELDS, 'binary', 'inputs']);
const MODES: readonly InvocationMode[] = ['cold', 'prewarmed', 'warm'];

function refuse(kind: unknown, why: string): UsageError {
  return new UsageError('INVALID_ARGUMENT', `registerRuntime(${JSON.stringify(kind) ?? String(kind)}): ${why}.`);
}

/** The problem with a descriptor's shape, if any. */
function shapeProblem(descriptor: unknown): string | undefined {
  type Loose = Record<string, unknown> | undefined;
  const d = descriptor as Record<string, unknown>;
  const s = d.source as Loose;
  const modes = d.modes as Loose;
  if (typeof d.label !== 'string' || !d.label) return 'label must be a non-empty string';
  if (typeof d.color !== 'string' || !/^#[0-9a-f]{6}$/i.test(d.color)) return 'color must be #rrggbb';
  if (typeof d.summary !== 'string' || !d.summary) return 'summary must be one line saying what it runs';
  if (typeof d.create !== 'function') return 'create(options) must make the Runtime';
  if (typeof s?.schema !== 'object' || typeof s.validate !== 'function' || typeof s.describe !== 'function')
    return 'source needs a schema, validate() and describe()';
  if (!MODES.every((m) => typeof modes?.[m] === 'string'))
    return `modes must say what each of ${MODES.join(', ')} does on it`;
  if (
    !Array.isArray(d.phases) ||
    !(d.phases as unknown[]).every((p) => typeof p === 'string' && Object.hasOwn(PHASES, p))
  )
    return `phases must be a list of ${Object.keys(PHASES).join(', ')}`;
  return undefined;
}

/**
 * Registers a kind of runtime: from then on functions may carry its source (`spec[kind]`), and
 * `invoke`, `nebula bench`, the config file, the REST API and reports know it. Registering the
 * same descriptor again does nothing.
 * @throws UsageError `INVALID_ARGUMENT` for a malformed descriptor, or a kind already registered with another.
 * @example
 * ```ts
 * import { registerRuntime } from 'nebula-faas';
 * import { jsRuntime } from './js-runtime/index.js';
 * registerRuntime(jsRuntime);
 * ```
 */
export function registerRuntime<K extends string, S, O>(descriptor: RuntimeDescriptor<K, S, O>): void {
  const kind = (descriptor as Partial<RuntimeDescriptor> | null)?.kind;
  if (typeof kind !== 'string' || !/^[a-z][a-z0-9-]{0,30}$/.test(kind))
    throw refuse(kind, 'a kind is 1-31 lower-case letters, digits or "-", starting with a letter');
  if (RESERVED.has(kind)) throw refuse(kind, `"${kind}" is a field of every function spec`);
  const known = registered.get(kind);
  if (known === (descriptor as unknown)) return;
  if (known) throw refuse(kind, 'that kind is registered already');
  const problem = shapeProblem(descriptor);
  if (problem) throw refuse(kind, problem);
  registered.set(kind, descriptor as unknown as RuntimeDescriptor<RuntimeKind>);
}

/** The registered kinds, in the order they were registered (the order a function's default runtime is chosen). */
export function runtimeKinds(): RuntimeKind[] {
  return [...registered.keys()] as RuntimeKind[];
}

/** The registered descriptors, in registration order. */
export function runtimeDescriptors(): Array<RuntimeDescriptor<RuntimeKind>> {
  return [...registered.values()];
}

/** True when `kind` names a registered runtime. */
export function isRuntimeKind(kind: unknown): kind is RuntimeKind {
  return typeof kind === 'string' && registered.has(kind);
}

/** `spec` with the artifacts of `kinds` only (its other fields as they are): deployed, it is prepared for nothing else. */
export function specFor(spec: FunctionSpec, kinds: readonly RuntimeKind[]): FunctionSpec {
  return Object.fromEntries(
    Object.entries(spec).filter(([key]) => !isRuntimeKind(key) || kinds.includes(key)),
  ) as FunctionSpec;
}

/** The descriptor of a registered kind; undefined for one this process does not know (e.g. read from an old run). */
export function runtimeDescriptor(kind: string): RuntimeDescriptor<RuntimeKind> | undefined {
  return registered.get(kind);
}

/** The descriptor of a kind that must be registered. */
export function descriptorOf(kind: RuntimeKind): RuntimeDescriptor<RuntimeKind> {
  const d = registered.get(kind);
  if (!d)
    throw new UsageError('INVALID_ARGUMENT', `Unknown runtime "${kind}": use one of ${runtimeKinds().join(', ')}.`);
  return d;
}

/**
 * The built-in functions as deployable specs, each with the artifact every registered runtime
 * gives it (its descriptor's `builtin`): for the package's runtimes, the committed wasm component,
 * the static Linux binaries of every architecture shipped for Docker, and this machine's for the
 * process runtime.
 * @param arch the machine's architecture (Node's, the kernel's or Docker's name). Default this one's.
 */
export function builtinFunctions(arch: string = process.arch): FunctionSpec[] {
  return BUILTIN_NAMES.map((name) => {
    const spec: Record<string, unknown> = { name, description: BUILTINS[name].description, builtin: true };
    for (const d of registered.values()) {
      const source = d.builtin?.(name, arch);
      if (source !== undefined) spec[d.kind] = source;
    }
    return spec as unknown as FunctionSpec;
  });
}

registerRuntime(wasmRuntime);
registerRuntime(dockerRuntime);
registerRuntime(processRuntime);
