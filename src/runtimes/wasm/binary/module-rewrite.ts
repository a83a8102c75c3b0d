/**
 * The deploy-time rewrite of a preview1 command's core module. Its code is kept byte for byte
 * except that every `memory.grow` calls a small added function that does the same grow and
 * remembers a failure; besides that:
 * - its memory and table maxima are written as planned (`host-memory.ts`): linear memory and what
 *   an instance makes the host hold beside it fit the memory cap together;
 * - its one memory becomes an import (`nebula.memory`) with that maximum, so a worker can give
 *   each fresh instance a recycled, zeroed memory instead of mapping a new one (as Wasmtime's
 *   pooling allocator does: ~9 us against ~130 us for a new memory, measured with
 *   `bench/wasm-hotpath.mjs` on a loaded 2-core machine);
 * - a failed grow sets an exported global, so a function that failed after its memory hit the
 *   cap is told apart from any other failure (`MEMORY_LIMIT`);
 * - its mutable globals are exported, so a used instance can be put back exactly as it was right
 *   after instantiation (the `warm` mode), when nothing else in it can change (no start function,
 *   no instruction that writes a table or drops a segment, globals a snapshot can read).
 * What this rewrite cannot do (code it does not understand, several or shared memories, a module
 * so close to V8's limits that one more function, global, import or export would pass them) leaves
 * the module with only its maxima written.
 */
import { capModule, tableSection } from './memory-cap.js';
import { DoesNotFit, planMemory, type MemoryPlan } from './host-memory.js';
import { readModuleInfo, type ModuleInfo } from './module-info.js';
import {
  encodeName,
  leb,
  Op,
  Reader,
  scanInstruction,
  skipValType,
  Unsupported,
  writeModule,
  type Section,
} from './codec.js';

export const MEMORY_IMPORT = { module: 'nebula', name: 'memory' } as const;
export const GROW_FAILED_EXPORT = '__nebula_grow_failed';
const GLOBAL_EXPORT_PREFIX = '__nebula_global_';

/**
 * V8's limits on a module (src/wasm/wasm-limits.h, the same from Node 20's V8 11.3 on): the
 * rewrite adds one type, import, function and global and a few exports, and never pushes a
 * module past one of them.
 */
const V8_LIMITS = {
  types: 1_000_000,
  imports: 100_000,
  functions: 1_000_000,
  globals: 1_000_000,
  exports: 100_000,
  functionBytes: 7_654_321,
} as const;
/** Mutable globals exported for warm restore at most (wasi-libc modules have one, the stack pointer). */
const MAX_RESTORED_GLOBALS = 1000;
/** Global types a snapshot can read and set back from JavaScript: i32, i64, f32, f64, funcref, externref. */
const RESTORABLE_GLOBAL = new Set(['7f', '7e', '7d', '7c', '70', '6f']);

/** What the rewrite found and did. */
export interface ModuleFacts {
  /** Initial size of the module's memory (all defined memories), 64 KiB pages. */
  initialPages: number;
  /** The memory's maximum after the plan, pages. */
  maximumPages: number;
  /** Host memory an instance takes outside linear memory (tables at their maximum), bytes: counted in the cap. */
  hostBytes: number;
  /** The memory is the import `nebula.memory` (the host supplies it, zeroed). */
  pooledMemory: boolean;
  /** Every `memory.grow` reports a failure in the exported global `__nebula_grow_failed`. */
  growProbe: boolean;
  /** Export names of the module's mutable globals. */
  mutableGlobals: string[];
  /** The state right after instantiation can be restored (memory, globals): warm reuse is safe. */
  restorable: boolean;
}

/** The rewritten module, what was done, and the module as read. */
export interface Rewritten {
  bytes: Uint8Array;
  facts: ModuleFacts;
  info: ModuleInfo;
}

/** Section order of the non-custom sections (tag 13 sits between memory and global, data count before code). */
const RANK: Record<number, number> = {
  1: 1,
  2: 2,
  3: 3,
  4: 4,
  5: 5,
  13: 6,
  6: 7,
  7: 8,
  8: 9,
  9: 10,
  12: 11,
  10: 12,
  11: 13,
};

/** Appends entries to a vector section (count first), or makes the section. */
function appendVector(body: Uint8Array | undefined, count: number, entries: number[]): Uint8Array {
  const r = new Reader(body ?? new Uint8Array([0]));
  const old = r.u32();
  const rest = body ? body.subarray(r.pos) : new Uint8Array(0);
  return Uint8Array.from([...leb(old + count), ...rest, ...entries]);
}

/** The mutable globals the rewrite exports, or null when it exports none (the module is then not restorable). */
function restoredGlobals(info: ModuleInfo): number[] | null {
  const mutable = info.globals.flatMap((g, i) => (g.mutable ? [i] : []));
  if (mutable.length > MAX_RESTORED_GLOBALS) return null;
  if (mutable.some((i) => !RESTORABLE_GLOBAL.has(info.globals[i]!.valType))) return null;
  if (info.exports.length + 1 + mutable.length > V8_LIMITS.exports) return null;
  return mutable.map((i) => info.importedGlobals + i);
}

/** Whether the rewrite fits V8's limits (with the exports it adds). */
function rewriteFits(info: ModuleInfo): boolean {
  const fn = info.importedFuncs + info.funcTypes.length;
  return (
    info.memories.length === 1 &&
    info.importedMemories === 0 &&
    (info.memories[0]!.flags & 2) === 0 &&
    info.types.length < V8_LIMITS.types &&
    info.imports.length < V8_LIMITS.imports &&
    fn < V8_LIMITS.functions &&
    info.importedGlobals + info.globals.length < V8_LIMITS.globals &&
    info.exports.length < V8_LIMITS.exports
  );
}

/** Rewrites every function body, each `memory.grow` (memory 0) becoming `call $grow`. */
function rewriteCode(
  body: Uint8Array,
  growFunc: number,
  helper: number[],
): { body: Uint8Array; unrestorable: boolean } {
  const r = new Reader(body);
  const n = r.u32();
  const out: number[] = [...leb(n + 1)];
  const call = [0x10, ...leb(growFunc)];
  let unrestorable = false;
  for (let i = 0; i < n; i++) {
    const size = r.u32();
    const start = r.pos;
    const end = start + size;
    const fr = new Reader(body, start, end);
    const locals = fr.u32();
    for (let j = 0; j < locals; j++) {
      fr.skipLeb();
      skipValType(fr);
    }
    const pieces: Uint8Array[] = [];
    let copyFrom = start;
    while (fr.pos < end) {
      const at = fr.pos;
      const op = scanInstruction(fr);
      if (op === Op.Unrestorable) unrestorable = true;
      else if (op === Op.MemoryGrow && fr.pos === at + 2 && body[at + 1] === 0) {
        pieces.push(body.subarray(copyFrom, at), Uint8Array.from(call));
        copyFrom = fr.pos;
      }
    }
    if (fr.pos !== end) throw new Unsupported('a function body overruns its size');
    pieces.push(body.subarray(copyFrom, end));
    const length = pieces.reduce((a, p) => a + p.length, 0);
    if (length > V8_LIMITS.functionBytes) throw new Unsupported('a function body would pass V8 size limit');
    out.push(...leb(length));
    for (const p of pieces) for (const b of p) out.push(b);
    r.pos = end;
  }
  out.push(...leb(helper.length), ...helper);
  return { body: Uint8Array.from(out), unrestorable };
}

/**
 * Reads a core module, plans its memory and tables within `capBytes` and rewrites it as described
 * above (or, where the rewrite cannot apply or `full` is false, writes only the planned maxima).
 * @throws Unsupported for bytes this reader cannot read; DoesNotFit when its initial memory and
 * what its instance makes the host hold cannot fit the cap.
 */
export function rewriteModule(bytes: Uint8Array, capBytes: number, full = true): Rewritten {
  const info = readModuleInfo(bytes);
  const fits = full && rewriteFits(info);
  const globals = fits ? restoredGlobals(info) : null;
  const planned = planMemory(info, capBytes, fits ? 1 + (globals?.length ?? 0) : 0);
  if ('refused' in planned) throw new DoesNotFit(planned.refused);
  const plan = planned.plan;
  const initialPages = plan.initialMemoryBytes / 65536;
  const capped = (): Rewritten => ({
    bytes: capModule(info, plan),
    info,
    facts: {
      initialPages,
      maximumPages: plan.memoryMaxPages[0] ?? 0,
      hostBytes: plan.hostBytes,
      pooledMemory: false,
      growProbe: false,
      mutableGlobals: [],
      restorable: false,
    },
  });
  if (!fits) return capped();
  try {
    return rewrite(info, plan, globals);
  } catch (e) {
    if (!(e instanceof Unsupported)) throw e;
    return capped();
  }
}

function rewrite(info: ModuleInfo, plan: MemoryPlan, globals: number[] | null): Rewritten {
  const sections = info.sections;
  const memory = info.memories[0]!;
  const maximumPages = plan.memoryMaxPages[0]!;
  const existingGrowType = info.types.findIndex(
    (t) => t.params.length === 1 && t.params[0] === '7f' && t.results.length === 1 && t.results[0] === '7f',
  );
  const growType = existingGrowType >= 0 ? existingGrowType : info.types.length;
  const growFunc = info.importedFuncs + info.funcTypes.length;
  const flagGlobal = info.importedGlobals + info.globals.length;
  // (func (param i32) (result i32) (local i32) local.get 0 memory.grow local.tee 1 i32.const -1 i32.eq
  //   if i32.const 1 global.set $failed end local.get 1)
  const helper = [
    0x01,
    0x01,
    0x7f,
    0x20,
    0x00,
    0x40,
    0x00,
    0x22,
    0x01,
    0x41,
    0x7f,
    0x46,
    0x04,
    0x40,
    0x41,
    0x01,
    0x24,
    ...leb(flagGlobal),
    0x0b,
    0x20,
    0x01,
    0x0b,
  ];
  const globalNames = (globals ?? []).map((g) => `${GLOBAL_EXPORT_PREFIX}${g}`);
  const taken = new Set(info.exports.map((e) => e.name));
  if ([GROW_FAILED_EXPORT, ...globalNames].some((n) => taken.has(n))) throw new Unsupported('export names taken');

  const edits = new Map<number, Uint8Array>();
  const body = (id: number) => sections.find((s) => s.id === id)?.body;
  if (existingGrowType < 0) edits.set(1, appendVector(body(1), 1, [0x60, 0x01, 0x7f, 0x01, 0x7f]));
  const memType = [0x02, 0x01, ...leb(memory.min), ...leb(maximumPages)];
  edits.set(
    2,
    appendVector(body(2), 1, [...encodeName(MEMORY_IMPORT.module), ...encodeName(MEMORY_IMPORT.name), ...memType]),
  );
  edits.set(3, appendVector(body(3), 1, leb(growType)));
  const tables = body(4);
  if (tables) edits.set(4, tableSection(tables, plan.tableMax));
  edits.set(6, appendVector(body(6), 1, [0x7f, 0x01, 0x41, 0x00, 0x0b]));
  const exports: number[] = [...encodeName(GROW_FAILED_EXPORT), 0x03, ...leb(flagGlobal)];
  (globals ?? []).forEach((g, i) => exports.push(...encodeName(globalNames[i]!), 0x03, ...leb(g)));
  edits.set(7, appendVector(body(7), 1 + globalNames.length, exports));
  const code = body(10);
  if (!code) throw new Unsupported('no code section');
  const rewritten = rewriteCode(code, growFunc, helper);
  edits.set(10, rewritten.body);

  const out: Section[] = [];
  const pending = new Map(edits);
  for (const s of sections) {
    if (s.id !== 0) {
      for (const [id, b] of pending) {
        if (!sections.some((x) => x.id === id) && RANK[id]! < RANK[s.id]!) {
          out.push({ id, body: b });
          pending.delete(id);
        }
      }
    }
    if (s.id === 5) continue; // the memory is now imported
    out.push(edits.has(s.id) ? { id: s.id, body: edits.get(s.id)! } : s);
    pending.delete(s.id);
  }
  for (const [id, b] of pending) out.push({ id, body: b });

  const facts: ModuleFacts = {
    initialPages: memory.min,
    maximumPages,
    hostBytes: plan.hostBytes,
    pooledMemory: true,
    growProbe: true,
    mutableGlobals: globalNames,
    restorable: globals !== null && !info.hasStart && !rewritten.unrestorable,
  };
  return { bytes: writeModule(out), facts, info };
}
