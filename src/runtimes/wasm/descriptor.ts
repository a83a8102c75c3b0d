/** Registers the Wasm runtime: a function's `wasm` source is a path to, or the bytes of, a component or preview1 module. */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../../errors.js';
import { functionsDir } from '../../paths.js';
import { defineRuntime } from '../runtime.js';
import { cleanCache } from './artifact/prepare.js';
import { DEFAULT_MAX_WARM_INSTANCES, WasmRuntime, type WasmRuntimeOptions } from './index.js';
import { microFloor } from './micro-floor.js';

/** Bytes of a WASI 0.2 command component or WASI preview1 command module, or a path to one. */
export type WasmSource = string | Uint8Array;

export const wasmRuntime = defineRuntime<'wasm', WasmSource, WasmRuntimeOptions>({
  kind: 'wasm',
  label: 'Wasm',
  color: '#6f42c1',
  summary: 'WebAssembly: a WASI command component or preview1 module, a fresh instance per invocation',
  preinit: "a Wizer snapshot of the main module's memory and globals after its initialiser ran, made at deploy",
  source: {
    schema: {
      type: 'string',
      minLength: 1,
      description: 'Path of a WASI 0.2 command component or a WASI preview1 command module (relative to this file).',
    },
    validate(source, name) {
      if (typeof source === 'string' && source !== '') return source;
      if (source instanceof Uint8Array) return source;
      throw new UsageError(
        'INVALID_ARGUMENT',
        `Function "${name}": "wasm" must be a file path or the bytes (Uint8Array) of a module or component.`,
      );
    },
    describe(source) {
      if (typeof source !== 'string') return { sizeBytes: source.byteLength };
      const size = statSync(source, { throwIfNoEntry: false })?.size;
      return size === undefined ? { path: source } : { path: source, sizeBytes: size };
    },
    files: (source, file) => (typeof source === 'string' ? file(source) : source),
    flag: { value: 'PATH', help: 'your own WASI component or preview1 module', source: (path) => path },
    upload: { contentTypes: ['application/wasm', 'application/octet-stream'], source: (bytes) => bytes },
  },
  builtin: (name) => join(functionsDir(), 'wasm', `${name}.wasm`),
  modes: {
    cold: 'a fresh instance made inside the invocation, over a pooled memory',
    prewarmed: 'an instance made ahead by a worker thread, used once',
    warm: 'a used instance kept in its worker thread, restored to its state right after instantiation',
  },
  keepsWarm: { option: 'maxWarmInstances', default: DEFAULT_MAX_WARM_INSTANCES, keeper: true },
  phases: ['dispatch', 'instantiate', 'run'],
  startsAhead: true,
  microFloor,
  resourcesNote:
    "the worker thread's CPU clock from taking the run to its end (instantiation included); peak memory the instance's linear memory",
  create: (options) => new WasmRuntime(options),
  leaves: 'compiled modules cached on disk ($XDG_CACHE_HOME/nebula-faas or ~/.cache/nebula-faas)',
  // Only the default cache folder: one set in the options is the caller's.
  clean: async ({ dryRun }) =>
    (await cleanCache(dryRun)).map(({ dir, sizeBytes }) => ({
      kind: 'cache' as const,
      name: dir,
      sizeBytes,
      removed: !dryRun,
    })),
});
