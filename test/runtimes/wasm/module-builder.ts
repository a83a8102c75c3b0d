/**
 * A small builder of core module bytes for what the text format and its assembler make awkward:
 * modules at V8's limits (a million functions), legacy exception handling (`try ... catch_all`),
 * and imports of the wrong type. Code bodies are raw bytes, with their text form beside them.
 */

/** Unsigned LEB128 (numbers up to 2^53). */
export function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}

/** Signed LEB128 (32-bit). */
function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) return [...out, b];
    out.push(b | 0x80);
  }
}

export const T = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, v128: 0x7b, funcref: 0x70, externref: 0x6f } as const;

function name(s: string): number[] {
  const bytes = [...Buffer.from(s)];
  return [...leb(bytes.length), ...bytes];
}

/** A module's parts; each list holds the encoded entries of one section (count added here). */
export interface ModuleParts {
  types?: Array<[params: number[], results: number[]]>;
  /** `[module, name, type index]` function imports. */
  imports?: Array<[string, string, number]>;
  /** Type index of each defined function. */
  funcs?: number[];
  /** Encoded table types, e.g. `[T.funcref, 0x01, ...leb(min), ...leb(max)]`. */
  tables?: number[][];
  /** Encoded memory limits, e.g. `[0x00, 1]`. */
  memories?: number[][];
  /** Encoded tags (`[0x00, type index]`). */
  tags?: number[][];
  /** Encoded globals (type, mutability, init expression with its `end`). */
  globals?: number[][];
  /** `[name, kind, index]`: kind 0 function, 1 table, 2 memory, 3 global. */
  exports?: Array<[string, number, number]>;
  /** The start function's index. */
  start?: number;
  /** Encoded element segments. */
  elems?: number[][];
  /** Function bodies: locals declarations then code, with the final `end`. */
  code?: number[][];
  /** Encoded data segments. */
  datas?: number[][];
}

function section(id: number, entries: number[][] | undefined, out: number[][]): void {
  if (!entries?.length) return;
  let size = leb(entries.length).length;
  for (const e of entries) size += e.length;
  out.push([id, ...leb(size), ...leb(entries.length)]);
  for (const e of entries) out.push(e);
}

/** Encodes a core module. */
export function wasmModule(p: ModuleParts): Uint8Array {
  const parts: number[][] = [[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]];
  const vec = (items: number[]) => [...leb(items.length), ...items];
  section(
    1,
    p.types?.map(([params, results]) => [0x60, ...vec(params), ...vec(results)]),
    parts,
  );
  section(
    2,
    p.imports?.map(([m, n, t]) => [...name(m), ...name(n), 0x00, ...leb(t)]),
    parts,
  );
  section(
    3,
    p.funcs?.map((t) => leb(t)),
    parts,
  );
  section(4, p.tables, parts);
  section(5, p.memories, parts);
  section(13, p.tags, parts);
  section(6, p.globals, parts);
  section(
    7,
    p.exports?.map(([n, kind, index]) => [...name(n), kind, ...leb(index)]),
    parts,
  );
  if (p.start !== undefined) parts.push([8, leb(p.start).length, ...leb(p.start)]);
  section(9, p.elems, parts);
  section(
    10,
    p.code?.map((body) => [...leb(body.length), ...body]),
    parts,
  );
  section(11, p.datas, parts);
  let total = 0;
  for (const part of parts) total += part.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

const EXIT_TYPE: [number[], number[]] = [[T.i32], []];
const START_TYPE: [number[], number[]] = [[], []];

/**
 * A preview1 command: type 0 is `(i32) -> ()` (proc_exit, function 0), type 1 `() -> ()`; `_start`
 * is the first defined function (index 1 + imports beyond proc_exit) with `start` as its body; one
 * page of memory, exported. `extra` adds to or replaces any part.
 */
export function command(start: number[], extra: ModuleParts = {}): Uint8Array {
  const imports = extra.imports ?? [['wasi_snapshot_preview1', 'proc_exit', 0]];
  return wasmModule({
    ...extra,
    types: extra.types ?? [EXIT_TYPE, START_TYPE],
    imports,
    funcs: extra.funcs ?? [1],
    memories: extra.memories ?? [[0x00, 1]],
    exports: [['memory', 2, 0], ['_start', 0, imports.length], ...(extra.exports ?? [])],
    code: [[0x00, ...start, 0x0b], ...(extra.code ?? [])],
  });
}

/** `i32.const n` */
export const i32 = (n: number) => [0x41, ...sleb(n)];
/** `call f` */
export const call = (f: number) => [0x10, ...leb(f)];
