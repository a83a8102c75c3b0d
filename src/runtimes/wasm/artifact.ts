/**
 * Deploy-time work on a wasm artifact, done once per content hash and cached in memory and on
 * disk: recognise a component or a preview1 module, adapt preview1 modules with jco's preview1
 * command adapter, transpile components with jco, refuse what cannot run, cap the memory.
 *
 * What runs per invocation is the command's main core module, rewritten once (`module-rewrite.ts`),
 * over the preview1 bindings (`preview1-host.ts`). A component built from a preview1 module (clang, Rust wasm32-wasip1,
 * TinyGo -target=wasip1, then `jco new` / `wasm-tools component new` with the command adapter)
 * holds that module byte for byte, beside the adapter that maps its preview1 calls onto WASI 0.2;
 * our host gives the same calls the same meaning directly. Instantiating jco's generated glue
 * afresh per call costs ~3 ms here against ~20-80 us for the core module alone (measured with
 * `bench/wasm-coldstart.mjs`), which is why such components skip the glue. Native WASI 0.2
 * components (no preview1 module inside) do run through the glue, over `preview2-host.ts`.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { NebulaError } from '../../errors.js';
import { preview1AdapterCommandPath } from '../../paths.js';
import { capMemory } from './memory-cap.js';
import { MEMORY_IMPORT, rewriteModule, type ModuleFacts } from './module-rewrite.js';
import { PREVIEW1_FUNCTIONS } from './preview1-host.js';

/** Bump when the cached artifact format or its preparation changes (2: rewritten module plus its facts). */
const CACHE_VERSION = 2;
const MiB = 1024 * 1024;
const CORE_MAGIC = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
const COMPONENT_MAGIC = [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];

/** A function ready to instantiate. */
export interface WasmArtifact {
  /** Cache key: content hash of the input plus the preparation settings. */
  key: string;
  /** sha256 of the deployed bytes. */
  digest: string;
  /** What was deployed. */
  source: 'component' | 'preview1-module';
  sizeBytes: number;
  /** How it runs: `preview1`, the command's main core module over a preview1 host; `glue`, jco's generated glue over a WASI 0.2 host. */
  kind: 'preview1' | 'glue';
  /** The compiled main core module (preview1 command); for `glue`, unused. */
  module?: WebAssembly.Module;
  /** What the deploy-time rewrite of that module found and did. */
  facts?: ModuleFacts;
  /** For `glue`: the generated instantiation script and its compiled core modules by file name. */
  glue?: { jsPath: string; modules: Record<string, WebAssembly.Module> };
  /** True when nothing was cached and this process adapted/transpiled it. */
  built: boolean;
  /** Deploy-time work, ms. */
  phases: Record<string, number>;
}

export function defaultCacheDir(): string {
  const xdg = process.env.XDG_CACHE_HOME;
  if (xdg) return join(xdg, 'nebula-faas');
  try {
    return join(homedir(), '.cache', 'nebula-faas');
  } catch {
    return join(tmpdir(), 'nebula-faas-cache');
  }
}

function startsWith(bytes: Uint8Array, magic: number[]): boolean {
  return bytes.length >= magic.length && magic.every((b, i) => bytes[i] === b);
}

function refuse(name: string, why: string, cause?: unknown): NebulaError {
  return new NebulaError('INVALID_FUNCTION', `Function "${name}": ${why}`, { cause });
}

/** Refuses a memory whose initial size alone is over the cap: instantiating it would already pass the limit. */
function checkInitialMemory(name: string, initialPages: number, maxBytes: number): void {
  const initial = initialPages * 65536;
  if (initial > maxBytes)
    throw refuse(
      name,
      `it declares ${(initial / MiB).toFixed(0)} MiB of initial memory, over its memory cap of ${(maxBytes / MiB).toFixed(0)} MiB (limits.memoryMiB): raise the cap or build it with less initial memory.`,
    );
}

/** Checks that a core module is a preview1 command this host can run; returns nothing or throws. */
function checkCommandModule(name: string, module: WebAssembly.Module, facts: ModuleFacts): void {
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
    if (facts.pooledMemory && imp.module === MEMORY_IMPORT.module && imp.name === MEMORY_IMPORT.name && imp.kind === 'memory') continue;
    if (imp.module !== 'wasi_snapshot_preview1' || imp.kind !== 'function' || !PREVIEW1_FUNCTIONS.has(imp.name))
      throw refuse(
        name,
        `it imports "${imp.module}.${imp.name}" (${imp.kind}), which the runtime does not provide: only WASI preview1 / 0.2 CLI interfaces (stdio, args, env, clocks, random) are available.`,
      );
  }
}

async function compile(name: string, bytes: Uint8Array): Promise<WebAssembly.Module> {
  try {
    return await WebAssembly.compile(bytes as BufferSource);
  } catch (e) {
    throw refuse(name, `the module does not validate: ${(e as Error).message}`, e);
  }
}

type Transpiled = { files: Record<string, Uint8Array> };

/** Transpiles a component with jco, refusing components that are not commands or import more than WASI CLI. */
async function transpileCommand(name: string, bytes: Uint8Array): Promise<Transpiled> {
  const { transpileBytes } = await import('@bytecodealliance/jco-transpile');
  let out: Awaited<ReturnType<typeof transpileBytes>>;
  try {
    // noComponentErrorWrapping: false keeps what jco's own `transpile` sets.
    out = await transpileBytes(bytes, { name: 'fn', instantiation: 'sync', emitTypescriptDeclarations: false, noComponentErrorWrapping: false });
  } catch (e) {
    throw refuse(name, `the component cannot be read: ${(e as Error).message}`, e);
  }
  if (!out.exports.some(([n]) => n.startsWith('wasi:cli/run@0.2')))
    throw refuse(name, 'the component does not export wasi:cli/run, so it is not a WASI command component.');
  const allowed = /^wasi:(cli|clocks|filesystem|io|random)\//;
  const foreign = out.imports.filter((i) => !allowed.test(i));
  if (foreign.length) throw refuse(name, `it imports ${foreign.join(', ')}, which the runtime does not provide (no sockets, no custom imports).`);
  return out;
}

/** The preview1 main module inside a component built with the command adapter, if it is one. */
async function preview1Main(out: Transpiled): Promise<Uint8Array | undefined> {
  for (const [file, data] of Object.entries(out.files)) {
    if (!file.endsWith('.wasm')) continue;
    const module = await WebAssembly.compile(data as BufferSource);
    if (WebAssembly.Module.imports(module).some((i) => i.module === 'wasi_snapshot_preview1')) return data;
  }
  return undefined;
}

/**
 * Writes jco's glue and the (memory-capped) core modules into `dir`, and compiles the modules.
 * The script is written last: its presence marks a complete cache entry.
 */
async function prepareGlue(name: string, out: Transpiled, dir: string, memoryMaxBytes: number): Promise<WasmArtifact['glue']> {
  const files = Object.entries(out.files).filter(([file]) => file.endsWith('.wasm'));
  const capped = files.map(([file, data]) => [file, capMemory(data, memoryMaxBytes)] as const);
  for (const [, c] of capped) checkInitialMemory(name, c.initialPages, memoryMaxBytes);
  await mkdir(dir, { recursive: true });
  const modules: Record<string, WebAssembly.Module> = {};
  for (const [file, c] of capped) {
    await writeFile(join(dir, file), c.bytes);
    modules[file] = await compile(name, c.bytes);
  }
  const script = out.files['fn.js'];
  if (!script) throw refuse(name, 'jco produced no instantiation script for the component.');
  await writeFile(join(dir, 'fn.mjs'), script);
  return { jsPath: join(dir, 'fn.mjs'), modules };
}

async function loadGlue(name: string, dir: string): Promise<WasmArtifact['glue'] | undefined> {
  try {
    const files = await readdir(dir);
    if (!files.includes('fn.mjs')) return undefined;
    const modules: Record<string, WebAssembly.Module> = {};
    for (const f of files.filter((f) => f.endsWith('.wasm'))) modules[f] = await compile(name, await readFile(join(dir, f)));
    return { jsPath: join(dir, 'fn.mjs'), modules };
  } catch {
    return undefined;
  }
}

async function adapt(name: string, bytes: Uint8Array): Promise<void> {
  const { componentNew } = await import('@bytecodealliance/jco-transpile/wasm-tools');
  const adapter = await readFile(preview1AdapterCommandPath());
  try {
    await componentNew(bytes, [['wasi_snapshot_preview1', adapter]]);
  } catch (e) {
    throw refuse(name, `the preview1 command adapter rejects the module: ${(e as Error).message}`, e);
  }
}

const memoryCache = new Map<string, Promise<WasmArtifact>>();

/**
 * Prepares `bytes` (a component or a preview1 module) for running, from cache when possible.
 * @throws NebulaError `INVALID_FUNCTION` for anything that is not a runnable WASI command.
 */
export interface ArtifactOptions {
  cacheDir: string;
  memoryMaxBytes: number;
  /** Run components through jco's glue even when they hold a preview1 module. */
  forceGlue?: boolean;
}

export function prepareArtifact(name: string, bytes: Uint8Array, options: ArtifactOptions): Promise<WasmArtifact> {
  const digest = createHash('sha256').update(bytes).digest('hex');
  const key = createHash('sha256').update(`${CACHE_VERSION}:${digest}:${options.memoryMaxBytes}:${options.forceGlue ? 'glue' : 'direct'}`).digest('hex').slice(0, 32);
  const hit = memoryCache.get(key);
  // Only the preparation that did the work reports it as built; later ones reuse it.
  if (hit) return hit.then((a) => ({ ...a, built: false }));
  const p = build(name, bytes, digest, key, options);
  memoryCache.set(key, p);
  p.catch(() => memoryCache.delete(key));
  return p;
}

async function build(
  name: string,
  bytes: Uint8Array,
  digest: string,
  key: string,
  options: ArtifactOptions,
): Promise<WasmArtifact> {
  const isComponent = startsWith(bytes, COMPONENT_MAGIC);
  if (!isComponent && !startsWith(bytes, CORE_MAGIC))
    throw refuse(name, 'the file is not a WebAssembly module or component (no \\0asm header).');
  const source = isComponent ? 'component' : 'preview1-module';
  const phases: Record<string, number> = {};
  const cached = join(options.cacheDir, `${key}.wasm`);
  const glueDir = join(options.cacheDir, key);
  let t = performance.now();
  const hit = await readFile(cached).catch(() => null);
  const hitFacts = hit ? await readFile(`${cached}.json`, 'utf8').then((t) => JSON.parse(t) as ModuleFacts).catch(() => null) : null;
  if (hit && hitFacts) {
    const module = await compile(name, hit);
    phases.compile = performance.now() - t;
    return { key, digest, source, sizeBytes: bytes.length, kind: 'preview1', module, facts: hitFacts, built: false, phases };
  }
  const glueHit = isComponent ? await loadGlue(name, glueDir) : undefined;
  if (glueHit) {
    phases.compile = performance.now() - t;
    return { key, digest, source, sizeBytes: bytes.length, kind: 'glue', glue: glueHit, built: false, phases };
  }

  let main: Uint8Array | undefined;
  if (isComponent) {
    const out = await transpileCommand(name, bytes);
    phases.transpile = performance.now() - t;
    main = options.forceGlue ? undefined : await preview1Main(out);
    if (!main) {
      // A native WASI 0.2 component: jco's glue over a per-instance WASI 0.2 host.
      t = performance.now();
      const glue = await prepareGlue(name, out, glueDir, options.memoryMaxBytes);
      phases.compile = performance.now() - t;
      return { key, digest, source, sizeBytes: bytes.length, kind: 'glue', glue, built: true, phases };
    }
  }
  const tc = performance.now();
  // Malformed bytes cannot be rewritten; compiling them unchanged then reports why they do not validate.
  let prepared = main ?? bytes;
  let facts: ModuleFacts = { initialPages: 0, maximumPages: 0, pooledMemory: false, growProbe: false, mutableGlobals: [], restorable: false };
  try {
    ({ bytes: prepared, facts } = rewriteModule(prepared, options.memoryMaxBytes));
  } catch {
    // left as is
  }
  checkInitialMemory(name, facts.initialPages, options.memoryMaxBytes);
  const module = await compile(name, prepared);
  checkCommandModule(name, module, facts);
  phases.compile = performance.now() - tc;
  if (!isComponent) {
    t = performance.now();
    await adapt(name, bytes);
    phases.adapt = performance.now() - t;
  }
  try {
    await mkdir(options.cacheDir, { recursive: true });
    const tmp = `${cached}.${process.pid}.tmp`;
    await writeFile(`${tmp}.json`, JSON.stringify(facts));
    await rename(`${tmp}.json`, `${cached}.json`);
    await writeFile(tmp, prepared);
    await rename(tmp, cached);
  } catch {
    // A read-only or full cache directory only costs the next process the same work again.
  }
  return { key, digest, source, sizeBytes: bytes.length, kind: 'preview1', module, facts, built: true, phases };
}
