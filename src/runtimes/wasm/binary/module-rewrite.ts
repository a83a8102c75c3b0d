/**
 * The deploy-time rewrite of a preview1 command's core module. Its code is kept byte for byte
 * except that every `memory.grow` calls a small added function that does the same grow and
 * remembers a failure; besides that:
 * - its one memory becomes an import (`nebula.memory`) with the memory cap as its maximum, so a
 *   worker can give each fresh instance a recycled, zeroed memory instead of mapping a new one
 *   (as Wasmtime's pooling allocator does: ~9 us against ~130 us for a new memory, measured with
 *   `bench/wasm-hotpath.mjs` on a loaded 2-core machine);
 * - a failed grow sets an exported global, so a function that failed after its memory hit the
 *   cap is told apart from any other failure (`MEMORY_LIMIT`);
 * - its mutable globals are exported, so a used instance can be put back exactly as it was right
 *   after instantiation (the `warm` mode), when nothing else in it can change (no start function,
 *   no instruction that writes a table or drops a segment).
 * Anything this reader does not understand leaves the module as it was, with only its memory capped.
 */
import { capMemory } from './memory-cap.js';
import {
  encodeName,
  leb,
  Op,
  Reader,
  readSections,
  scanInstruction,
  skipConstExpr,
  skipValType,
  Unsupported,
  writeModule,
  type Section,
} from './codec.js';

export const MEMORY_IMPORT = { module: 'nebula', name: 'memory' } as const;
export const GROW_FAILED_EXPORT = '__nebula_grow_failed';
const GLOBAL_EXPORT_PREFIX = '__nebula_global_';
const PAGE = 65536;

/** What the rewrite found and did. */
export interface ModuleFacts {
  /** Initial size of the module's largest memory, 64 KiB pages. */
  initialPages: number;
  /** The memory's maximum after the cap, pages. */
  maximumPages: number;
  /** The memory is the import `nebula.memory` (the host supplies it, zeroed). */
  pooledMemory: boolean;
  /** Every `memory.grow` reports a failure in the exported global `__nebula_grow_failed`. */
  growProbe: boolean;
  /** Export names of the module's mutable globals. */
  mutableGlobals: string[];
  /** The state right after instantiation can be restored (memory, globals): warm reuse is safe. */
  restorable: boolean;
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

interface Parsed {
  types: number;
  growType: number;
  importedFuncs: number;
  importedGlobals: number;
  importedMemories: number;
  definedFuncs: number;
  memories: Array<{ flags: number; min: number; max?: number }>;
  definedGlobals: number;
  mutableGlobals: number[];
  exportNames: Set<string>;
  hasStart: boolean;
}

function parse(sections: Section[]): Parsed {
  const p: Parsed = {
    types: 0,
    growType: -1,
    importedFuncs: 0,
    importedGlobals: 0,
    importedMemories: 0,
    definedFuncs: 0,
    memories: [],
    definedGlobals: 0,
    mutableGlobals: [],
    exportNames: new Set(),
    hasStart: false,
  };
  for (const s of sections) {
    const r = new Reader(s.body);
    if (s.id === 1) {
      p.types = r.u32();
      for (let i = 0; i < p.types; i++) {
        if (r.byte() !== 0x60) throw new Unsupported('a non-function type (GC)');
        const at = r.pos;
        const params = r.u32();
        for (let j = 0; j < params; j++) skipValType(r);
        const results = r.u32();
        for (let j = 0; j < results; j++) skipValType(r);
        const sig = [...s.body.subarray(at, r.pos)].join(',');
        if (p.growType < 0 && sig === '1,127,1,127') p.growType = i;
      }
    } else if (s.id === 2) {
      const n = r.u32();
      for (let i = 0; i < n; i++) {
        r.name();
        r.name();
        const kind = r.byte();
        if (kind === 0x00) {
          p.importedFuncs++;
          r.skipLeb();
        } else if (kind === 0x01) {
          skipValType(r);
          skipLimits(r);
        } else if (kind === 0x02) {
          p.importedMemories++;
          skipLimits(r);
        } else if (kind === 0x03) {
          p.importedGlobals++;
          skipValType(r);
          r.byte();
        } else if (kind === 0x04) {
          r.byte();
          r.skipLeb();
        } else throw new Unsupported(`import kind ${kind}`);
      }
    } else if (s.id === 3) p.definedFuncs = r.u32();
    else if (s.id === 5) {
      const n = r.u32();
      for (let i = 0; i < n; i++) {
        const flags = r.byte();
        const min = r.u32();
        p.memories.push(flags & 1 ? { flags, min, max: r.u32() } : { flags, min });
      }
    } else if (s.id === 6) {
      p.definedGlobals = r.u32();
      for (let i = 0; i < p.definedGlobals; i++) {
        skipValType(r);
        if (r.byte() === 1) p.mutableGlobals.push(p.importedGlobals + i);
        skipConstExpr(r);
      }
    } else if (s.id === 7) {
      const n = r.u32();
      for (let i = 0; i < n; i++) {
        p.exportNames.add(r.name());
        r.byte();
        r.skipLeb();
      }
    } else if (s.id === 8) p.hasStart = true;
  }
  return p;
}

function skipLimits(r: Reader): void {
  const flags = r.byte();
  r.skipLeb();
  if (flags & 1) r.skipLeb();
}

/** Appends entries to a vector section (count first), or makes the section. */
function appendVector(body: Uint8Array | undefined, count: number, entries: number[]): Uint8Array {
  const r = new Reader(body ?? new Uint8Array([0]));
  const old = r.u32();
  const rest = body ? body.subarray(r.pos) : new Uint8Array(0);
  return Uint8Array.from([...leb(old + count), ...rest, ...entries]);
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
    out.push(...leb(length));
    for (const p of pieces) for (const b of p) out.push(b);
    r.pos = end;
  }
  out.push(...leb(helper.length), ...helper);
  return { body: Uint8Array.from(out), unrestorable };
}

/**
 * Rewrites a core module as described above, its memory maximum capped at `maxBytes`.
 * Never throws for an unfamiliar module: it is then returned with only its memory capped.
 */
export function rewriteModule(bytes: Uint8Array, maxBytes: number): { bytes: Uint8Array; facts: ModuleFacts } {
  const capPages = Math.max(1, Math.floor(maxBytes / PAGE));
  try {
    return rewrite(bytes, capPages);
  } catch (e) {
    if (!(e instanceof Unsupported)) throw e;
    const capped = capMemory(bytes, maxBytes);
    const facts: ModuleFacts = {
      initialPages: capped.initialPages,
      maximumPages: capPages,
      pooledMemory: false,
      growProbe: false,
      mutableGlobals: [],
      restorable: false,
    };
    return { bytes: capped.bytes, facts };
  }
}

function rewrite(bytes: Uint8Array, capPages: number): { bytes: Uint8Array; facts: ModuleFacts } {
  const sections = readSections(bytes);
  const p = parse(sections);
  const memory = p.memories[0];
  if (p.memories.length !== 1 || p.importedMemories !== 0 || !memory || memory.flags > 1)
    throw new Unsupported('not exactly one plain 32-bit memory defined in the module');
  const maximumPages = Math.min(memory.max ?? capPages, capPages);
  const growType = p.growType >= 0 ? p.growType : p.types;
  const growFunc = p.importedFuncs + p.definedFuncs;
  const flagGlobal = p.importedGlobals + p.definedGlobals;
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
  const globalNames = p.mutableGlobals.map((g) => `${GLOBAL_EXPORT_PREFIX}${g}`);
  if ([GROW_FAILED_EXPORT, ...globalNames].some((n) => p.exportNames.has(n)))
    throw new Unsupported('export names taken');

  const edits = new Map<number, Uint8Array>();
  const body = (id: number) => sections.find((s) => s.id === id)?.body;
  if (p.growType < 0) edits.set(1, appendVector(body(1), 1, [0x60, 0x01, 0x7f, 0x01, 0x7f]));
  const memType = [0x02, 0x01, ...leb(Math.min(memory.min, maximumPages)), ...leb(maximumPages)];
  edits.set(
    2,
    appendVector(body(2), 1, [...encodeName(MEMORY_IMPORT.module), ...encodeName(MEMORY_IMPORT.name), ...memType]),
  );
  edits.set(3, appendVector(body(3), 1, leb(growType)));
  edits.set(6, appendVector(body(6), 1, [0x7f, 0x01, 0x41, 0x00, 0x0b]));
  const exports: number[] = [...encodeName(GROW_FAILED_EXPORT), 0x03, ...leb(flagGlobal)];
  p.mutableGlobals.forEach((g, i) => exports.push(...encodeName(globalNames[i]!), 0x03, ...leb(g)));
  edits.set(7, appendVector(body(7), 1 + p.mutableGlobals.length, exports));
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
    pooledMemory: true,
    growProbe: true,
    mutableGlobals: globalNames,
    restorable: !p.hasStart && !rewritten.unrestorable,
  };
  return { bytes: writeModule(out), facts };
}
