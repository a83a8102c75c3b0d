/**
 * Native WASI 0.2 components (no preview1 module inside) run through jco's generated glue. jco's
 * library, `@bytecodealliance/jco-transpile`, is an optional peer dependency (it brings about
 * 100 MB, binaryen most of it): it is loaded here, on the first deploy that needs it, and only then.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NebulaError } from '../../../errors.js';
import { checkInitialMemory, compile, refuse } from './checks.js';
import { capMemory } from '../binary/memory-cap.js';

const JCO_TRANSPILE = '@bytecodealliance/jco-transpile';

/** jco's generated instantiation script and its compiled core modules by file name. */
export interface Glue {
  jsPath: string;
  modules: Record<string, WebAssembly.Module>;
}

type JcoTranspile = typeof import('@bytecodealliance/jco-transpile');

/** @throws NebulaError `RUNTIME_UNAVAILABLE` when jco-transpile is not installed or cannot load. */
async function loadJco(name: string, forced: boolean): Promise<JcoTranspile> {
  try {
    return await import('@bytecodealliance/jco-transpile');
  } catch (e) {
    const missing =
      (e as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' && String((e as Error).message).includes(JCO_TRANSPILE);
    throw new NebulaError(
      'RUNTIME_UNAVAILABLE',
      `Function "${name}" ${forced ? "is a component and componentHost is 'glue'" : 'is a native WASI 0.2 component (no preview1 module inside)'}, which runs through jco's generated glue, ` +
        `and ${JCO_TRANSPILE} ${missing ? 'is not installed' : `cannot be loaded (${(e as Error).message})`}. ` +
        `Install it beside nebula-faas: npm install ${JCO_TRANSPILE}`,
      { cause: e },
    );
  }
}

/**
 * Transpiles a component with jco, writes the glue and its (memory-capped) core modules into `dir`
 * and compiles the modules (`forced`: the component holds a preview1 module but `componentHost` is
 * 'glue'). The script is written last: its presence marks a complete cache entry.
 * @throws NebulaError `RUNTIME_UNAVAILABLE` without jco-transpile, `INVALID_FUNCTION` for what jco refuses.
 */
export async function buildGlue(
  name: string,
  bytes: Uint8Array,
  dir: string,
  memoryMaxBytes: number,
  forced: boolean,
): Promise<Glue> {
  const { transpileBytes } = await loadJco(name, forced);
  let out: Awaited<ReturnType<typeof transpileBytes>>;
  try {
    // noComponentErrorWrapping: false keeps what jco's own `transpile` sets.
    out = await transpileBytes(bytes, {
      name: 'fn',
      instantiation: 'sync',
      emitTypescriptDeclarations: false,
      noComponentErrorWrapping: false,
    });
  } catch (e) {
    throw refuse(name, `the component cannot be read: ${(e as Error).message}`, e);
  }
  const files = Object.entries(out.files).filter(([file]) => file.endsWith('.wasm'));
  const capped = files.map(([file, data]) => [file, capMemory(data, memoryMaxBytes)] as const);
  for (const [, c] of capped) checkInitialMemory(name, c.initialPages, memoryMaxBytes);
  const script = out.files['fn.js'];
  if (!script) throw refuse(name, 'jco produced no instantiation script for the component.');
  await mkdir(dir, { recursive: true });
  const modules: Record<string, WebAssembly.Module> = {};
  for (const [file, c] of capped) {
    await writeFile(join(dir, file), c.bytes);
    modules[file] = await compile(name, c.bytes);
  }
  await writeFile(join(dir, 'fn.mjs'), script);
  return { jsPath: join(dir, 'fn.mjs'), modules };
}

/** The glue a previous deploy left in `dir`, if it is complete. */
export async function loadGlue(name: string, dir: string): Promise<Glue | undefined> {
  try {
    const files = await readdir(dir);
    if (!files.includes('fn.mjs')) return undefined;
    const modules: Record<string, WebAssembly.Module> = {};
    for (const f of files.filter((f) => f.endsWith('.wasm')))
      modules[f] = await compile(name, await readFile(join(dir, f)));
    return { jsPath: join(dir, 'fn.mjs'), modules };
  } catch {
    return undefined;
  }
}
