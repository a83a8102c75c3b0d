/**
 * What deploy refuses, and how it says so: every check gives `INVALID_FUNCTION` naming the
 * function and what to change. Used by `prepare.ts` (preview1 modules, components) and
 * `component-glue.ts` (native WASI 0.2 components).
 */
import { NebulaError } from '../../../errors.js';
import type { ComponentOutline } from '../binary/component.js';
import { signature, type ModuleInfo } from '../binary/module-info.js';
import { PREVIEW1_SIGNATURES } from '../host/preview1.js';
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

/**
 * Checks that a core module is a preview1 command this host can run: what the preview1 command
 * adapter would also require (a `_start` function taking and returning nothing, an exported
 * memory, only preview1 imports), and only the preview1 functions the host implements, each with
 * its WASI signature.
 */
export function checkCommandModule(name: string, info: ModuleInfo): void {
  const start = info.exports.find((e) => e.name === '_start');
  if (!start) {
    throw refuse(
      name,
      info.exports.some((e) => e.name === '_initialize')
        ? 'the module is a library (reactor) with no command entry: build it as a command (a main function; clang without -mexec-model=reactor).'
        : 'the module has no `_start` export, so it is not a WASI command.',
    );
  }
  if (start.kind !== 'function')
    throw refuse(name, `its \`_start\` export is a ${start.kind}, not a function, so it is not a WASI command.`);
  const startType =
    start.index < info.importedFuncs
      ? info.imports.filter((i) => i.kind === 'function')[start.index]?.type
      : info.types[info.funcTypes[start.index - info.importedFuncs] ?? -1];
  if (startType && signature(startType) !== '->')
    throw refuse(
      name,
      `its \`_start\` has the type ${describeSignature(signature(startType))}; a WASI command's \`_start\` takes and returns nothing.`,
    );
  if (!info.exports.some((e) => e.name === 'memory' && e.kind === 'memory'))
    throw refuse(name, 'the module exports no memory, so it cannot exchange data with the host.');
  for (const imp of info.imports) {
    const expected = imp.module === 'wasi_snapshot_preview1' ? PREVIEW1_SIGNATURES.get(imp.name) : undefined;
    if (imp.kind !== 'function' || expected === undefined)
      throw refuse(
        name,
        `it imports "${imp.module}.${imp.name}" (${imp.kind}), which the runtime does not provide: only WASI preview1 / 0.2 CLI interfaces (stdio, args, env, clocks, random) are available.`,
      );
    const got = imp.type ? signature(imp.type) : 'an unknown type';
    if (got !== expected)
      throw refuse(
        name,
        `it imports "${imp.module}.${imp.name}" as ${describeSignature(got)}, but WASI preview1 defines it as ${describeSignature(expected)}.`,
      );
  }
}

/** `7f,7e->7f` as `(i32 i64) -> i32`. */
function describeSignature(sig: string): string {
  const names: Record<string, string> = {
    '7f': 'i32',
    '7e': 'i64',
    '7d': 'f32',
    '7c': 'f64',
    '7b': 'v128',
    '70': 'funcref',
    '6f': 'externref',
  };
  const side = (list: string) =>
    list
      .split(',')
      .filter(Boolean)
      .map((t) => names[t] ?? `type 0x${t}`)
      .join(' ');
  const [params = '', results = ''] = sig.split('->');
  return sig.includes('->') ? `(${side(params)}) -> (${side(results)})` : sig;
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
