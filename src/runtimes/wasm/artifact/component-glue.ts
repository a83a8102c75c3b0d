/**
 * Native WASI 0.2 components (no preview1 module inside) run through jco's generated glue. jco's
 * library, `@bytecodealliance/jco-transpile`, is an optional peer dependency (it brings about
 * 100 MB, binaryen most of it): it is loaded here, on the first deploy that needs it, and only then.
 */
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NebulaError } from '../../../errors.js';
import { compile, refuse } from './checks.js';
import { planModule } from './core-module.js';
import { readFileCapped } from './source-file.js';

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
 * Transpiles a component with jco, writes the glue and its core modules into `dir`, each with its
 * memory and table maxima planned within the cap, and compiles the modules (`forced`: the
 * component holds a preview1 module but `componentHost` is 'glue'). The script is written last:
 * its presence marks a complete cache entry.
 * @throws NebulaError `RUNTIME_UNAVAILABLE` without jco-transpile, `INVALID_FUNCTION` for what jco
 * refuses or a core module that does not fit its cap.
 */
export async function buildGlue(
  name: string,
  bytes: Uint8Array,
  dir: string,
  memoryMaxBytes: number,
  forced: boolean,
  maxModuleBytes: number,
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
  const capped: Array<readonly [string, { bytes: Uint8Array }]> = [];
  for (const [file, data] of files) {
    if (data.length > maxModuleBytes)
      throw refuse(name, `jco made a core module of ${data.length} bytes, over the ${maxModuleBytes}-byte limit.`);
    capped.push([file, await planModule(name, data, memoryMaxBytes, false)]);
  }
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
export async function loadGlue(name: string, dir: string, maxModuleBytes: number): Promise<Glue | undefined> {
  try {
    const files = await readdir(dir);
    if (!files.includes('fn.mjs')) return undefined;
    const modules: Record<string, WebAssembly.Module> = {};
    for (const f of files.filter((f) => f.endsWith('.wasm')))
      modules[f] = await compile(name, await readFileCapped(join(dir, f), maxModuleBytes));
    return { jsPath: join(dir, 'fn.mjs'), modules };
  } catch {
    return undefined;
  }
}
