/**
 * Pre-initialisation: a core module's start-up work run once, ahead of time, by Wizer
 * (`@bytecodealliance/wizer`, an optional peer dependency loaded on first use), which writes the
 * initialised memory and globals out as a new module. Wizer runs as a child process, so a
 * deadline kills it and nothing it does reaches this process; its memory is capped by lowering the
 * module's declared maximum for the run (and restored in the snapshot).
 */
import { spawn } from 'node:child_process';
import { NebulaError } from '../../../errors.js';
import { capMemory } from '../binary/memory-cap.js';
import {
  leb,
  Op,
  Reader,
  readSections,
  scanInstruction,
  skipValType,
  Unsupported,
  writeModule,
  type Section,
} from '../binary/codec.js';

const WIZER_PACKAGE = '@bytecodealliance/wizer';
/** The Wizer whose command line this file speaks (10.x; 10.0.0 is the version whose platform packages install here). */
export const WIZER_INSTALL = `npm install ${WIZER_PACKAGE}@10.0.0`;
/** The initialiser Wizer calls unless told otherwise. */
export const DEFAULT_INIT_FUNC = 'wizer.initialize';
const PAGE = 65536;
const MiB = 1024 * 1024;
const STDERR_MAX = 64 * 1024;

export interface PreinitOptions {
  /** The export Wizer calls. @default 'wizer.initialize' */
  initFunc?: string;
  /** Let the initialiser call WASI (no directories, no environment, no stdio). @default false */
  allowWasi?: boolean;
  /** Longest the whole pre-initialisation may take, ms; then Wizer is killed. @default 30000 */
  timeoutMs?: number;
  /** The memory the initialiser may grow to, bytes (whole 64 KiB pages). @default 256 MiB */
  maxMemoryBytes?: number;
  /** The largest snapshot taken, bytes: Wizer is stopped once it has written more. @default no limit */
  maxSnapshotBytes?: number;
  /** The function's name, for messages. */
  name?: string;
  signal?: AbortSignal;
}

export interface Preinitialized {
  /** The snapshot: a core module whose data holds the initialised memory, without the init export. */
  bytes: Uint8Array;
  /** Wall time of the Wizer run (its process, compile and the initialiser), ms. */
  initMs: number;
  sizeBefore: number;
  sizeAfter: number;
  /** Wizer's version, e.g. `10.0.0` (part of any cache key for snapshots). */
  wizerVersion: string;
}

/** Why a module was refused: `details.reason` of the `INVALID_FUNCTION` error. */
type PreinitRefusal =
  | 'malformed'
  | 'not-a-core-module'
  | 'no-initializer'
  | 'initializer-type'
  | 'imported-memory'
  | 'imported-table'
  | 'imported-global'
  | 'shared-memory'
  | 'memory64'
  | 'initial-memory'
  | 'calls-import'
  | 'calls-wasi'
  | 'exits'
  | 'traps'
  | 'memory-cap'
  | 'timeout'
  | 'snapshot-size'
  | 'reference-types'
  | 'unsupported';

function refuse(name: string, reason: PreinitRefusal, why: string, cause?: unknown): NebulaError {
  return new NebulaError('INVALID_FUNCTION', `Function "${name}" cannot be pre-initialised: ${why}`, {
    cause,
    details: { reason },
  });
}

interface Wizer {
  binary: string;
  version: string;
}
let wizer: Promise<Wizer> | undefined;

/** @throws NebulaError `RUNTIME_UNAVAILABLE` when Wizer is not installed, cannot run, or is not 10.x. */
async function loadWizer(): Promise<Wizer> {
  const unavailable = (why: string, cause?: unknown) =>
    new NebulaError(
      'RUNTIME_UNAVAILABLE',
      `Pre-initialisation runs Wizer, and ${why}. Install it beside nebula-faas: ${WIZER_INSTALL}`,
      { cause },
    );
  let binary: string;
  try {
    // A variable specifier: the package has no types, and bundlers must leave it to Node.
    const specifier: string = WIZER_PACKAGE;
    binary = ((await import(specifier)) as { default: string }).default;
  } catch (e) {
    const missing =
      (e as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' && String((e as Error).message).includes(WIZER_PACKAGE);
    throw unavailable(
      missing
        ? `${WIZER_PACKAGE} is not installed`
        : `${WIZER_PACKAGE} cannot be loaded (${(e as Error).message.split('\n')[0]})`,
      e,
    );
  }
  const out = await runWizer(binary, ['--version'], new Uint8Array(0), 10_000).catch((e: Error) => {
    throw unavailable(`its binary (${binary}) does not run: ${e.message}`, e);
  });
  const version = /wizer (\S+)/.exec(out.stdout.toString())?.[1] ?? 'unknown';
  if (out.code !== 0 || !version.startsWith('10.')) throw unavailable(`the installed one is ${version}, not 10.x`);
  return { binary, version };
}

interface WizerRun {
  code: number | null;
  stdout: Buffer;
  stderr: string;
  timedOut: boolean;
  /** Stopped because its output went over `maxStdoutBytes`. */
  tooLarge: boolean;
}

function runWizer(
  binary: string,
  args: string[],
  input: Uint8Array,
  timeoutMs: number,
  signal?: AbortSignal,
  maxStdoutBytes = Infinity,
): Promise<WizerRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let outBytes = 0;
    let tooLarge = false;
    let stderr = '';
    let timedOut = false;
    const kill = () => child.kill('SIGKILL');
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, timeoutMs);
    signal?.addEventListener('abort', kill, { once: true });
    child.stdout.on('data', (d: Buffer) => {
      if (tooLarge) return;
      outBytes += d.length;
      if (outBytes <= maxStdoutBytes) return void out.push(d);
      tooLarge = true;
      out.length = 0;
      kill();
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < STDERR_MAX) stderr += d;
    });
    child.stdin.on('error', () => {}); // Wizer may exit before reading all of its input
    child.stdin.end(input);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', kill);
      resolve({ code, stdout: Buffer.concat(out), stderr, timedOut, tooLarge });
    });
  });
}

interface Outline {
  /** The first memory the module defines. */
  memory?: { min: number; max?: number };
}

/** Checks, before running anything, what Wizer cannot snapshot or the options forbid. */
function outline(name: string, bytes: Uint8Array, initFunc: string, maxMemoryBytes: number): Outline {
  if (
    bytes.length >= 8 &&
    bytes[0] === 0 &&
    bytes[1] === 0x61 &&
    bytes[2] === 0x73 &&
    bytes[3] === 0x6d &&
    bytes[4] !== 1
  )
    throw refuse(
      name,
      'not-a-core-module',
      'it is a component; pre-initialise the core module inside it (its main module) instead.',
    );
  const result: Outline = {};
  let exported = false;
  try {
    for (const s of readSections(bytes)) {
      const r = new Reader(s.body);
      if (s.id === 2) {
        for (let i = 0, n = r.u32(); i < n; i++) {
          const where = `${r.name()}.${r.name()}`;
          const kind = r.byte();
          if (kind === 0x01)
            throw refuse(
              name,
              'imported-table',
              `it imports a table (${where}); Wizer snapshots only what the module defines.`,
            );
          if (kind === 0x02)
            throw refuse(
              name,
              'imported-memory',
              `it imports its memory (${where}); Wizer snapshots only a memory the module defines.`,
            );
          if (kind === 0x03)
            throw refuse(
              name,
              'imported-global',
              `it imports a global (${where}); Wizer snapshots only what the module defines.`,
            );
          if (kind !== 0x00 && kind !== 0x04) throw new Unsupported(`import kind ${kind}`);
          r.skipLeb(); // a function's type index, or a tag's attribute byte and then its type index
          if (kind === 0x04) r.skipLeb();
        }
      } else if (s.id === 5) {
        for (let i = 0, n = r.u32(); i < n; i++) {
          const flags = r.byte();
          if (flags & 0x02)
            throw refuse(
              name,
              'shared-memory',
              'its memory is shared (threads); Wizer snapshots unshared memories only.',
            );
          if (flags & 0x04)
            throw refuse(name, 'memory64', 'its memory is 64-bit (memory64); Wizer snapshots 32-bit memories only.');
          const min = r.u32();
          const max = flags & 0x01 ? r.u32() : undefined;
          result.memory ??= { min, ...(max === undefined ? {} : { max }) };
          if (min * PAGE > maxMemoryBytes)
            throw refuse(
              name,
              'initial-memory',
              `it declares ${mib(min * PAGE)} of initial memory, over the ${mib(maxMemoryBytes)} it may use.`,
            );
        }
      } else if (s.id === 7) {
        for (let i = 0, n = r.u32(); i < n; i++) {
          const exportName = r.name();
          const kind = r.byte();
          r.skipLeb();
          if (exportName === initFunc && kind === 0x00) exported = true;
        }
      }
    }
  } catch (e) {
    if (e instanceof NebulaError) throw e;
    throw refuse(
      name,
      'malformed',
      `it is not a WebAssembly core module that can be read (${(e as Error).message}).`,
      e,
    );
  }
  if (!exported)
    throw refuse(
      name,
      'no-initializer',
      `it exports no function named "${initFunc}" (in C: __attribute__((export_name("${initFunc}")))).`,
    );
  return result;
}

const mib = (bytes: number) => `${+(bytes / MiB).toFixed(2)} MiB`;

/**
 * Wizer's message: its `Error:` line and the lines of its `Caused by:` list, without numbers,
 * wasm backtrace frames or the Rust backtrace.
 */
function wizerError(stderr: string): string[] {
  const text = stderr.split(/\n\s*Stack backtrace:/)[0]!.trim();
  return text
    .split('\n')
    .map((line) =>
      line
        .trim()
        .replace(/^Error:\s*/, '')
        .replace(/^\d+:\s*/, ''),
    )
    .filter((line) => line && line !== 'Caused by:' && !/^0x[0-9a-f]+ - /.test(line) && !/wasm backtrace:$/.test(line));
}

/** The first (innermost) wasm frame of Wizer's trap backtrace: the function index, when it names none. */
function innermostFunction(stderr: string): number | undefined {
  const m = /wasm backtrace:\s*\n\s*0:.*<wasm function (\d+)>/.exec(stderr);
  return m ? Number(m[1]) : undefined;
}

/**
 * Runs the module's initialiser with Wizer and returns the snapshot.
 * @throws NebulaError `INVALID_FUNCTION` with `details.reason` ({@link PreinitRefusal}) for a module or
 * initialiser Wizer cannot or may not snapshot; `RUNTIME_UNAVAILABLE` without Wizer 10;
 * `RUNTIME_ERROR` when its process cannot be started; `ABORTED`.
 */
export async function preinitialize(bytes: Uint8Array, options: PreinitOptions = {}): Promise<Preinitialized> {
  const {
    initFunc = DEFAULT_INIT_FUNC,
    allowWasi = false,
    timeoutMs = 30_000,
    maxMemoryBytes = 256 * MiB,
    maxSnapshotBytes = Infinity,
    name = 'module',
    signal,
  } = options;
  const aborted = () => new NebulaError('ABORTED', `Pre-initialising function "${name}" was aborted.`);
  if (signal?.aborted) throw aborted();
  const facts = outline(name, bytes, initFunc, maxMemoryBytes);
  const { binary, version } = await (wizer ??= loadWizer().catch((e: unknown) => {
    wizer = undefined; // installed later in this process: try again next time
    throw e;
  }));
  const args = [
    '--init-func',
    initFunc,
    '--inherit-stdio',
    'false',
    '--inherit-env',
    'false',
    ...(allowWasi ? ['--allow-wasi'] : []),
  ];
  const started = performance.now();
  // One deadline for every run, the second (which tells a refused grow from another trap) included.
  const run = (module: Uint8Array) =>
    runWizer(
      binary,
      args,
      module,
      Math.max(1, started + timeoutMs - performance.now()),
      signal,
      maxSnapshotBytes,
    ).catch((e: unknown) => {
      throw new NebulaError(
        'RUNTIME_ERROR',
        `Wizer (${binary}) could not be run to pre-initialise function "${name}": ${(e as Error).message}`,
        { cause: e },
      );
    });
  const out = await run(capMemory(bytes, maxMemoryBytes).bytes);
  const initMs = performance.now() - started;
  if (signal?.aborted) throw aborted();
  if (out.timedOut)
    throw refuse(
      name,
      'timeout',
      `its initialiser did not finish within ${timeoutMs} ms (Wizer was stopped); it may loop.`,
    );
  if (out.tooLarge)
    throw refuse(
      name,
      'snapshot-size',
      `its snapshot would be over the ${maxSnapshotBytes}-byte limit for a module (maxModuleBytes): its initialiser leaves more memory written than that.`,
    );
  if (out.code === 0 && out.stdout.length >= 8) {
    const snapshot = withMemoryMaximum(new Uint8Array(out.stdout), facts.memory?.max);
    return { bytes: snapshot, initMs, sizeBefore: bytes.length, sizeAfter: snapshot.length, wizerVersion: version };
  }
  const lines = wizerError(out.stderr);
  const error = lines.join('; ');
  const call = /unknown imported function: '([^']*)' '([^']*)'/.exec(error);
  if (call) {
    const [, module, fn] = call;
    if (/^wasi/.test(module!) && fn === 'proc_exit')
      throw refuse(name, 'exits', 'its initialiser exited (it called proc_exit) instead of returning.');
    if (/^wasi/.test(module!))
      throw refuse(
        name,
        'calls-wasi',
        `its initialiser calls WASI (${module}.${fn}), which is not allowed unless granted (grants.initWasi); initialisation may not read or write, and the time or random numbers it asks for would be frozen into the snapshot.`,
      );
    throw refuse(
      name,
      'calls-import',
      `its initialiser calls the import ${module}.${fn}; an initialiser may call nothing outside the module.`,
    );
  }
  const exit = /Exited with i32 exit status (\d+)/.exec(error);
  if (exit) throw refuse(name, 'exits', `its initialiser exited (status ${exit[1]}) instead of returning.`);
  if (/does not have type/.test(error))
    throw refuse(name, 'initializer-type', `its initialiser "${initFunc}" must take no arguments and return nothing.`);
  if (/ref\.func|reference type|externref|funcref/i.test(error))
    throw refuse(name, 'reference-types', `it uses reference types, which Wizer cannot snapshot (${error}).`);
  const trap = lines.find((line) => line.startsWith('wasm trap: '))?.slice('wasm trap: '.length);
  if (trap) {
    // A refused memory.grow is told apart by running the initialiser again with every refused grow
    // trapping in a function of its own (a failed allocation usually ends in some other trap).
    if (await grewPastCap(bytes, maxMemoryBytes, run)) {
      const limit = Math.min((facts.memory?.max ?? Infinity) * PAGE, Math.floor(maxMemoryBytes / PAGE) * PAGE);
      throw refuse(name, 'memory-cap', `its initialiser asked for more memory than the ${mib(limit)} it may grow to.`);
    }
    const fault = lines.find((line) => line.startsWith('memory fault at'));
    throw refuse(name, 'traps', `its initialiser trapped: ${trap}${fault ? ` (${fault})` : ''}.`);
  }
  throw refuse(name, 'unsupported', `Wizer ${version} refused it: ${error || `exit ${out.code}`}.`);
}

/** True when the initialiser, run with every refused `memory.grow` trapping, traps in that grow. */
async function grewPastCap(
  bytes: Uint8Array,
  maxMemoryBytes: number,
  run: (m: Uint8Array) => Promise<WizerRun>,
): Promise<boolean> {
  let probe: { bytes: Uint8Array; func: number };
  try {
    probe = trapOnRefusedGrow(capMemory(bytes, maxMemoryBytes).bytes);
  } catch (e) {
    if (e instanceof Unsupported) return false;
    throw e;
  }
  const out = await run(probe.bytes);
  return out.code !== 0 && !out.timedOut && innermostFunction(out.stderr) === probe.func;
}

/**
 * A copy of the module in which every `memory.grow` of memory 0 calls an added function that
 * grows and traps when the grow is refused, without custom sections (so a backtrace names that
 * function by index). @throws Unsupported for code this reader does not know.
 */
function trapOnRefusedGrow(bytes: Uint8Array): { bytes: Uint8Array; func: number } {
  const sections = readSections(bytes).filter((s) => s.id !== 0);
  let importedFuncs = 0;
  let definedFuncs = 0;
  let types = 0;
  for (const s of sections) {
    const r = new Reader(s.body);
    if (s.id === 1) types = r.u32();
    else if (s.id === 3) definedFuncs = r.u32();
    else if (s.id === 2)
      for (let i = 0, n = r.u32(); i < n; i++) {
        r.name();
        r.name();
        const kind = r.byte();
        if (kind !== 0x00) throw new Unsupported('an import other than a function'); // refused before
        importedFuncs++;
        r.skipLeb();
      }
  }
  const func = importedFuncs + definedFuncs;
  // (func (param i32) (result i32) (local i32) local.get 0 memory.grow 0 local.tee 1 i32.const -1 i32.eq if unreachable end local.get 1)
  const helper = [
    0x01, 0x01, 0x7f, 0x20, 0x00, 0x40, 0x00, 0x22, 0x01, 0x41, 0x7f, 0x46, 0x04, 0x40, 0x00, 0x0b, 0x20, 0x01, 0x0b,
  ];
  const append = (body: Uint8Array, entry: number[]) => {
    const r = new Reader(body);
    const n = r.u32();
    return Uint8Array.from([...leb(n + 1), ...body.subarray(r.pos), ...entry]);
  };
  const out = sections.map((s): Section => {
    if (s.id === 1) return { id: 1, body: append(s.body, [0x60, 0x01, 0x7f, 0x01, 0x7f]) };
    if (s.id === 3) return { id: 3, body: append(s.body, leb(types)) };
    if (s.id === 10) return { id: 10, body: redirectGrows(s.body, func, helper) };
    return s;
  });
  if (!out.some((s) => s.id === 10)) throw new Unsupported('no code');
  return { bytes: writeModule(out), func };
}

/** The code section with each `memory.grow 0` turned into `call func`, and `helper` appended as a body. */
function redirectGrows(body: Uint8Array, func: number, helper: number[]): Uint8Array {
  const r = new Reader(body);
  const n = r.u32();
  const out: number[] = [...leb(n + 1)];
  for (let i = 0; i < n; i++) {
    const end = r.u32() + r.pos;
    const fr = new Reader(body, r.pos, end);
    for (let j = 0, locals = fr.u32(); j < locals; j++) {
      fr.skipLeb();
      skipValType(fr);
    }
    const code: number[] = [...body.subarray(r.pos, fr.pos)];
    while (fr.pos < end) {
      const at = fr.pos;
      const op = scanInstruction(fr);
      if (op === Op.MemoryGrow && fr.pos === at + 2 && body[at + 1] === 0) code.push(0x10, ...leb(func));
      else for (let k = at; k < fr.pos; k++) code.push(body[k]!);
    }
    out.push(...leb(code.length), ...code);
    r.pos = end;
  }
  out.push(...leb(helper.length), ...helper);
  return Uint8Array.from(out);
}

/** The snapshot with its first memory's declared maximum set back to the module's own (none: no maximum). */
function withMemoryMaximum(bytes: Uint8Array, max: number | undefined): Uint8Array {
  const sections = readSections(bytes);
  const memory = sections.find((s) => s.id === 5);
  if (!memory) return bytes;
  const r = new Reader(memory.body);
  const n = r.u32();
  const entries: number[] = [];
  for (let i = 0; i < n; i++) {
    const flags = r.byte(); // 0 or 1: shared and 64-bit memories were refused
    const min = r.u32();
    const own = flags & 0x01 ? r.u32() : undefined;
    const limit = i === 0 ? max : own;
    entries.push(...(limit === undefined ? [0x00, ...leb(min)] : [0x01, ...leb(min), ...leb(Math.max(min, limit))]));
  }
  memory.body = Uint8Array.from([...leb(n), ...entries]);
  return writeModule(sections);
}

/** True when `bytes` is a core module exporting a function named `initFunc` (default `wizer.initialize`). */
export function hasInitializer(bytes: Uint8Array, initFunc = DEFAULT_INIT_FUNC): boolean {
  try {
    for (const s of readSections(bytes)) {
      if (s.id !== 7) continue;
      const r = new Reader(s.body);
      for (let i = 0, n = r.u32(); i < n; i++) {
        const exportName = r.name();
        const kind = r.byte();
        r.skipLeb();
        if (exportName === initFunc && kind === 0x00) return true;
      }
    }
  } catch {
    // not a core module this reader can read
  }
  return false;
}
