/**
 * Deploy-time work on a wasm artifact, done once per content hash and cached in memory and on
 * disk: recognise a component or a preview1 module, refuse what cannot run, find the command's
 * main core module, pre-initialise it when asked (`snapshot.ts`), rewrite it and cap its memory.
 *
 * What runs per invocation is the command's main core module, rewritten once (`binary/module-rewrite.ts`),
 * over the preview1 bindings (`host/preview1.ts`). A preview1 module is that module itself. A
 * component built from a preview1 module (clang, Rust wasm32-wasip1, TinyGo -target=wasip1, then
 * `jco new` / `wasm-tools component new` with the command adapter) holds that module byte for byte,
 * beside the adapter that maps its preview1 calls onto WASI 0.2; our host gives the same calls the
 * same meaning directly, so the component is only walked (`binary/component.ts`) to find the module
 * and check the component's own imports and exports. Instantiating jco's generated glue afresh per
 * call costs ~3 ms here against ~20-80 us for the core module alone (measured with
 * `bench/wasm-coldstart.mjs`), which is why such components skip the glue. Native WASI 0.2
 * components (no preview1 module inside) do run through the glue (`component-glue.ts`, which needs
 * the optional jco-transpile), over `host/preview2.ts`.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { isComponent, readComponent } from '../binary/component.js';
import { buildGlue, loadGlue, type Glue } from './component-glue.js';
import { checkCommandModule, checkComponentInterface, compile, refuse } from './checks.js';
import { compilePlanned, planModule } from './core-module.js';
import { readFileCapped } from './source-file.js';
import type { ModuleFacts } from '../binary/module-rewrite.js';
import { importModules, MAGIC_CORE, Unsupported } from '../binary/codec.js';
import type { SnapshotInfo } from '../../../types.js';
import { preinitKey, snapshotOf, type PreinitRequest } from './snapshot.js';

/**
 * Bump when the cached artifact format or its preparation changes (2: rewritten module plus its
 * facts; 3: a component's main module read from the component's own bytes, not from jco's output;
 * 4: table maxima and host memory planned within the cap, imports checked by signature; 5: the
 * facts file holds the snapshot's too).
 */
const CACHE_VERSION = 5;

/** The file beside a cached module: what its rewrite found, and the snapshot it is, if it is one. */
interface CachedFacts {
  facts: ModuleFacts;
  snapshot?: Omit<SnapshotInfo, 'cached'>;
}

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
  glue?: Glue;
  /** Set when the main module was pre-initialised: the snapshot that runs instead. */
  snapshot?: SnapshotInfo;
  /** Why a module with an initialiser was not pre-initialised (`preinit: 'auto'` without Wizer). */
  preinitNote?: string;
  /** True when nothing was cached and this process prepared it. */
  built: boolean;
  /** Deploy-time work, ms. */
  phases: Record<string, number>;
}

/**
 * The default cache folder and the bytes it holds, removed unless `dryRun` (`nebula clean`);
 * empty when there is none. It is rebuilt by the next deploy.
 */
export async function cleanCache(dryRun: boolean): Promise<Array<{ dir: string; sizeBytes: number }>> {
  const dir = defaultCacheDir();
  let sizeBytes = 0;
  try {
    for (const entry of await readdir(dir, { recursive: true }))
      sizeBytes += (await stat(join(dir, entry)).catch(() => undefined))?.size ?? 0;
  } catch {
    return [];
  }
  if (!dryRun) await rm(dir, { recursive: true, force: true });
  return [{ dir, sizeBytes }];
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

function isCoreModule(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && MAGIC_CORE.every((b, i) => bytes[i] === b);
}

/** Whether a core module imports WASI preview1; a module this reader cannot parse is asked of the engine. */
async function importsPreview1(name: string, bytes: Uint8Array): Promise<boolean> {
  try {
    return importModules(bytes).has('wasi_snapshot_preview1');
  } catch (e) {
    if (!(e instanceof Unsupported)) throw e;
    const module = await compile(name, bytes);
    return WebAssembly.Module.imports(module).some((i) => i.module === 'wasi_snapshot_preview1');
  }
}

/**
 * Checks a component and returns its preview1 main module: the first core module that imports
 * `wasi_snapshot_preview1` (in an adapted component, the adapter exports those functions and the
 * main module is the one importing them), or undefined for a native WASI 0.2 component.
 * @throws NebulaError `INVALID_FUNCTION` for malformed bytes or a component that is not a WASI command.
 */
async function preview1Main(name: string, bytes: Uint8Array): Promise<Uint8Array | undefined> {
  let outline: ReturnType<typeof readComponent>;
  try {
    outline = readComponent(bytes);
  } catch (e) {
    throw refuse(name, `the component is malformed: ${(e as Error).message}.`, e);
  }
  checkComponentInterface(name, outline);
  for (const module of outline.coreModules) if (await importsPreview1(name, module)) return module;
  return undefined;
}

/** A cached module's facts are a few hundred bytes (up to ~40 KiB with a thousand global names). */
const MAX_FACTS_BYTES = 1 << 20;

const memoryCache = new Map<string, Promise<WasmArtifact>>();

export interface ArtifactOptions {
  cacheDir: string;
  memoryMaxBytes: number;
  /** The largest module or component read (from the cache too), bytes. */
  maxModuleBytes: number;
  /** Run components through jco's glue even when they hold a preview1 module. */
  forceGlue?: boolean;
  /** Pre-initialise the main module (run its initialiser with Wizer and run the snapshot). Default: never. */
  preinit?: PreinitRequest;
}

/**
 * Prepares `bytes` (a component or a preview1 module) for running, from cache when possible.
 * @throws NebulaError `INVALID_FUNCTION` for anything that is not a runnable WASI command;
 * `RUNTIME_UNAVAILABLE` for a native WASI 0.2 component (or `forceGlue`) without jco-transpile.
 */
export function prepareArtifact(name: string, bytes: Uint8Array, options: ArtifactOptions): Promise<WasmArtifact> {
  const digest = createHash('sha256').update(bytes).digest('hex');
  const key = createHash('sha256')
    .update(
      `${CACHE_VERSION}:${digest}:${options.memoryMaxBytes}:${options.forceGlue ? 'glue' : 'direct'}:${preinitKey(options.preinit)}`,
    )
    .digest('hex')
    .slice(0, 32);
  const hit = memoryCache.get(key);
  // Only the preparation that did the work reports it as built; later ones reuse it.
  if (hit)
    return hit.then((a) => ({
      ...a,
      built: false,
      ...(a.snapshot ? { snapshot: { ...a.snapshot, cached: true } } : {}),
    }));
  const p = build(name, bytes, digest, key, options);
  memoryCache.set(key, p);
  // Not kept: a failure, and a module left without its snapshot because Wizer was missing (it may be installed later).
  p.then(
    (a) => a.preinitNote && memoryCache.delete(key),
    () => memoryCache.delete(key),
  );
  return p;
}

async function build(
  name: string,
  bytes: Uint8Array,
  digest: string,
  key: string,
  options: ArtifactOptions,
): Promise<WasmArtifact> {
  const component = isComponent(bytes);
  if (!component && !isCoreModule(bytes))
    throw refuse(name, 'the file is not a WebAssembly module or component (no \\0asm header).');
  const source = component ? 'component' : 'preview1-module';
  const phases: Record<string, number> = {};
  const cached = join(options.cacheDir, `${key}.wasm`);
  const glueDir = join(options.cacheDir, key);
  let t = performance.now();
  const hit = await readFileCapped(cached, options.maxModuleBytes).catch(() => null);
  const hitFacts = hit
    ? await readFileCapped(`${cached}.json`, MAX_FACTS_BYTES)
        .then((t) => JSON.parse(new TextDecoder().decode(t)) as CachedFacts)
        .catch(() => null)
    : null;
  // A cache entry that does not compile (cut short by a crash, say) is made again.
  const fromCache = hit && hitFacts?.facts ? await compile(name, hit).catch(() => null) : null;
  if (fromCache && hitFacts) {
    phases.compile = performance.now() - t;
    return {
      key,
      digest,
      source,
      sizeBytes: bytes.length,
      kind: 'preview1',
      module: fromCache,
      facts: hitFacts.facts,
      ...(hitFacts.snapshot ? { snapshot: { ...hitFacts.snapshot, cached: true } } : {}),
      built: false,
      phases,
    };
  }
  const glueHit = component ? await loadGlue(name, glueDir, options.maxModuleBytes) : undefined;
  if (glueHit) {
    phases.compile = performance.now() - t;
    return { key, digest, source, sizeBytes: bytes.length, kind: 'glue', glue: glueHit, built: false, phases };
  }

  let main: Uint8Array | undefined;
  if (component) {
    t = performance.now();
    main = await preview1Main(name, bytes);
    phases.read = performance.now() - t;
    if (!main || options.forceGlue) {
      if (options.preinit?.mode === true)
        throw refuse(
          name,
          main
            ? "it cannot be pre-initialised when components run through jco's glue (componentHost: 'glue')."
            : 'it cannot be pre-initialised: it is a native WASI 0.2 component, and only a preview1 module (on its own or inside a component) can be.',
        );
      // A native WASI 0.2 component: jco's glue over a per-instance WASI 0.2 host.
      t = performance.now();
      const glue = await buildGlue(
        name,
        bytes,
        glueDir,
        options.memoryMaxBytes,
        main !== undefined,
        options.maxModuleBytes,
      );
      phases.transpile = performance.now() - t;
      return { key, digest, source, sizeBytes: bytes.length, kind: 'glue', glue, built: true, phases };
    }
  }
  let core = main ?? bytes;
  t = performance.now();
  const made = await snapshotOf(name, core, options.preinit, options.memoryMaxBytes, options.maxModuleBytes);
  let snapshot: CachedFacts['snapshot'];
  if (made && 'bytes' in made) {
    core = made.bytes;
    snapshot = made.info;
    phases.preinit = performance.now() - t;
  }
  const preinitNote = made && 'skipped' in made ? made.skipped : undefined;
  const tc = performance.now();
  const planned = await planModule(name, core, options.memoryMaxBytes);
  checkCommandModule(name, planned.info);
  const { module, planned: used } = await compilePlanned(name, core, planned, options.memoryMaxBytes);
  const { bytes: prepared, facts } = used;
  phases.compile = performance.now() - tc;
  const artifact: WasmArtifact = {
    key,
    digest,
    source,
    sizeBytes: bytes.length,
    kind: 'preview1',
    module,
    facts,
    ...(snapshot ? { snapshot: { ...snapshot, cached: false } } : {}),
    ...(preinitNote ? { preinitNote } : {}),
    built: true,
    phases,
  };
  // A module left without its snapshot is not cached: a later deploy makes the snapshot once Wizer is installed.
  if (preinitNote) return artifact;
  try {
    await mkdir(options.cacheDir, { recursive: true });
    const tmp = `${cached}.${process.pid}.tmp`;
    const cachedFacts: CachedFacts = { facts, ...(snapshot ? { snapshot } : {}) };
    await writeFile(`${tmp}.json`, JSON.stringify(cachedFacts));
    await rename(`${tmp}.json`, `${cached}.json`);
    await writeFile(tmp, prepared);
    await rename(tmp, cached);
  } catch {
    // A read-only or full cache directory only costs the next process the same work again.
  }
  return artifact;
}
