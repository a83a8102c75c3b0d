/**
 * What deploy refuses, and how it says so: every check gives `INVALID_FUNCTION` naming the
 * function and what to change. Used by `prepare.ts` (preview1 modules, components) and
 * `component-glue.ts` (native WASI 0.2 components).
 */
import { NebulaError } from '../../../errors.js';
import type { ComponentOutline } from '../binary/component.js';
import { MEMORY_IMPORT, type ModuleFacts } from '../binary/module-rewrite.js';
import { PREVIEW1_FUNCTIONS } from '../host/preview1.js';

const MiB = 1024 * 1024;
/** The WASI 0.2 interfaces the host provides to a component (no sockets, no http, no custom imports). */
const ALLOWED_COMPONENT_IMPORT = /^wasi:(cli|clocks|filesystem|io|random)\//;

export function refuse(name: string, why: string, cause?: unknown): NebulaError {
  return new NebulaError('INVALID_FUNCTION', `Function "${name}": ${why}`, { cause });
}

export async function compile(name: string, bytes: Uint8Array): Promise<WebAssembly.Module> {
  try {
    return await WebAssembly.compile(bytes as BufferSource);
  } catch (e) {
    throw refuse(name, `the module does not validate: ${(e as Error).message}`, e);
  }
}

/** Refuses a memory whose initial size alone is over the cap: instantiating it would already pass the limit. */
export function checkInitialMemory(name: string, initialPages: number, maxBytes: number): void {
  const initial = initialPages * 65536;
  if (initial > maxBytes)
    throw refuse(
      name,
      `it declares ${(initial / MiB).toFixed(0)} MiB of initial memory, over its memory cap of ${(maxBytes / MiB).toFixed(0)} MiB (limits.memoryMiB): raise the cap or build it with less initial memory.`,
    );
}

/**
 * Checks that a core module is a preview1 command this host can run: what the preview1 command
 * adapter would also require (a `_start` entry, an exported memory, only preview1 imports), and
 * only the preview1 functions the host implements.
 */
export function checkCommandModule(name: string, module: WebAssembly.Module, facts: ModuleFacts): void {
  const exports = WebAssembly.Module.exports(module);
  const names = new Set(exports.map((e) => e.name));
  if (!names.has('_start')) {
    throw refuse(
      name,
      names.has('_initialize')
        ? 'the module is a library (reactor) with no command entry: build it as a command (a main function; clang without -mexec-model=reactor).'
        : 'the module has no `_start` export, so it is not a WASI command.',
    );
  }
  if (!exports.some((e) => e.name === 'memory' && e.kind === 'memory'))
    throw refuse(name, 'the module exports no memory, so it cannot exchange data with the host.');
  for (const imp of WebAssembly.Module.imports(module)) {
    if (
      facts.pooledMemory &&
      imp.module === MEMORY_IMPORT.module &&
      imp.name === MEMORY_IMPORT.name &&
      imp.kind === 'memory'
    )
      continue;
    if (imp.module !== 'wasi_snapshot_preview1' || imp.kind !== 'function' || !PREVIEW1_FUNCTIONS.has(imp.name))
      throw refuse(
        name,
        `it imports "${imp.module}.${imp.name}" (${imp.kind}), which the runtime does not provide: only WASI preview1 / 0.2 CLI interfaces (stdio, args, env, clocks, random) are available.`,
      );
  }
}

/** Checks that a component is a WASI command that imports only what the host provides. */
export function checkComponentInterface(name: string, outline: ComponentOutline): void {
  if (!outline.exports.some((n) => n.startsWith('wasi:cli/run@0.2')))
    throw refuse(name, 'the component does not export wasi:cli/run, so it is not a WASI command component.');
  const foreign = outline.imports.filter((i) => !ALLOWED_COMPONENT_IMPORT.test(i));
  if (foreign.length)
    throw refuse(
      name,
      `it imports ${foreign.join(', ')}, which the runtime does not provide (no sockets, no custom imports).`,
    );
}
