/**
 * Reading and writing the WebAssembly binary format, as much as `module-rewrite.ts` and
 * `component-binary.ts` need: LEB128 numbers, sections, import module names, and the length of
 * every instruction (so code can be scanned for one opcode without mistaking an immediate for it).
 * Unknown or malformed encodings throw {@link Unsupported}; nothing reads past its bounds.
 */

/** An encoding this reader does not know (GC types, a future opcode) or bytes that are malformed. */
export class Unsupported extends Error {}

export const MAGIC_CORE = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

/** A cursor over bytes. */
export class Reader {
  constructor(
    readonly bytes: Uint8Array,
    public pos = 0,
    readonly end = bytes.length,
  ) {}

  byte(): number {
    if (this.pos >= this.end) throw new Unsupported('unexpected end of section');
    return this.bytes[this.pos++]!;
  }

  /** An unsigned LEB128 number up to 2^53. */
  u32(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.byte();
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return result;
      scale *= 128;
    }
    throw new Unsupported('LEB128 number too long');
  }

  /** An unsigned LEB128 number as the spec bounds a u32: at most 5 bytes, below 2^32. */
  strictU32(): number {
    const n = this.u32();
    if (n > 0xffffffff) throw new Unsupported('LEB128 number over 2^32');
    return n;
  }

  /** Skips a (signed or unsigned) LEB128 number of any width. */
  skipLeb(): void {
    for (let i = 0; i < 10; i++) if ((this.byte() & 0x80) === 0) return;
    throw new Unsupported('LEB128 number too long');
  }

  skip(n: number): void {
    if (this.pos + n > this.end) throw new Unsupported('unexpected end of section');
    this.pos += n;
  }

  name(): string {
    const len = this.u32();
    this.skip(len);
    return new TextDecoder().decode(this.bytes.subarray(this.pos - len, this.pos));
  }
}

/** Unsigned LEB128. */
export function leb(value: number): number[] {
  const out: number[] = [];
  do {
    let b = value & 0x7f;
    value = Math.floor(value / 128);
    if (value !== 0) b |= 0x80;
    out.push(b);
  } while (value !== 0);
  return out;
}

export function encodeName(s: string): number[] {
  const data = [...new TextEncoder().encode(s)];
  return [...leb(data.length), ...data];
}

export interface Section {
  id: number;
  body: Uint8Array;
}

/**
 * The sections after a binary's 8-byte preamble (a core module's or a component's), in order, as
 * views into `bytes`, with the offset of each body. `strict`: section sizes as the spec bounds a u32.
 */
export function* sectionsOf(bytes: Uint8Array, strict = false): Generator<Section & { start: number }> {
  const r = new Reader(bytes, 8);
  while (r.pos < r.end) {
    const id = r.byte();
    const size = strict ? r.strictU32() : r.u32();
    const start = r.pos;
    r.skip(size);
    yield { id, body: bytes.subarray(start, start + size), start };
  }
}

/** Splits a core module into its sections, in order. */
export function readSections(bytes: Uint8Array): Section[] {
  if (bytes.length < 8 || MAGIC_CORE.some((b, i) => bytes[i] !== b)) throw new Unsupported('not a core module');
  return [...sectionsOf(bytes)].map(({ id, body }) => ({ id, body }));
}

/** Skips a table's or memory's limits (flags, minimum, maximum, custom page size). */
function skipLimits(r: Reader): void {
  const flags = r.byte();
  if (flags > 0x0f) throw new Unsupported(`limits flags 0x${flags.toString(16)}`);
  r.skipLeb();
  if (flags & 0x01) r.skipLeb();
  if (flags & 0x08) r.skipLeb();
}

/** The module names a core module imports from (`wasi_snapshot_preview1`, `env`, ...). */
export function importModules(bytes: Uint8Array): Set<string> {
  const out = new Set<string>();
  for (const s of readSections(bytes)) {
    if (s.id !== 2) continue;
    const r = new Reader(s.body);
    const n = r.strictU32();
    for (let i = 0; i < n; i++) {
      out.add(r.name());
      r.name();
      const kind = r.byte();
      if (kind === 0x00) r.skipLeb();
      else if (kind === 0x01) {
        skipValType(r);
        skipLimits(r);
      } else if (kind === 0x02) skipLimits(r);
      else if (kind === 0x03) {
        skipValType(r);
        r.byte();
      } else if (kind === 0x04) {
        r.byte();
        r.skipLeb();
      } else throw new Unsupported(`import kind 0x${kind.toString(16)}`);
    }
  }
  return out;
}

export function writeModule(sections: Section[]): Uint8Array {
  const parts: number[][] = [];
  let total = 8;
  for (const s of sections) {
    const head = [s.id, ...leb(s.body.length)];
    parts.push(head);
    total += head.length + s.body.length;
  }
  const out = new Uint8Array(total);
  out.set(MAGIC_CORE, 0);
  let at = 8;
  sections.forEach((s, i) => {
    out.set(parts[i]!, at);
    at += parts[i]!.length;
    out.set(s.body, at);
    at += s.body.length;
  });
  return out;
}

/** A value type, including the typed-reference forms `(ref null? ht)`. */
export function skipValType(r: Reader): void {
  const t = r.byte();
  if (t === 0x63 || t === 0x64) r.skipLeb();
  else if (t < 0x69) throw new Unsupported(`value type 0x${t.toString(16)}`);
}

/** A block type: empty, a value type, or a type index (s33). */
function skipBlockType(r: Reader): void {
  const t = r.bytes[r.pos];
  if (t === 0x63 || t === 0x64) skipValType(r);
  else r.skipLeb();
}

function skipMemarg(r: Reader): void {
  const align = r.u32();
  if (align & 0x40) r.skipLeb(); // multi-memory: an explicit memory index
  r.skipLeb();
}

/** What `scanInstruction` reports for the opcodes the rewrite cares about. */
export const enum Op {
  Other,
  MemoryGrow,
  /** table.set/grow/fill/copy/init, elem.drop, memory.init, data.drop: state a snapshot cannot restore. */
  Unrestorable,
  End,
}

/**
 * Reads one instruction at the cursor and moves past its immediates.
 * @throws Unsupported for an opcode this reader does not know.
 */
export function scanInstruction(r: Reader): Op {
  const op = r.byte();
  if (op >= 0x45 && op <= 0xc4) return Op.Other; // numeric, no immediates
  if (op >= 0x28 && op <= 0x3e) {
    skipMemarg(r);
    return Op.Other;
  }
  if (op >= 0x20 && op <= 0x25) {
    r.skipLeb();
    return Op.Other;
  }
  switch (op) {
    case 0x00:
    case 0x01:
    case 0x05:
    case 0x0a:
    case 0x0f:
    case 0x19:
    case 0x1a:
    case 0x1b:
    case 0xd1:
    case 0xd3:
    case 0xd4:
      return Op.Other;
    case 0x0b:
      return Op.End;
    case 0x02:
    case 0x03:
    case 0x04:
    case 0x06:
      skipBlockType(r);
      return Op.Other;
    case 0x07:
    case 0x08:
    case 0x09:
    case 0x0c:
    case 0x0d:
    case 0x10:
    case 0x12:
    case 0x14:
    case 0x15:
    case 0x18:
    case 0xd2:
    case 0xd5:
    case 0xd6:
    case 0x3f:
      r.skipLeb();
      return Op.Other;
    case 0x26:
      r.skipLeb();
      return Op.Unrestorable;
    case 0x40:
      r.skipLeb();
      return Op.MemoryGrow;
    case 0x11:
    case 0x13:
      r.skipLeb();
      r.skipLeb();
      return Op.Other;
    case 0x0e: {
      const n = r.u32();
      for (let i = 0; i <= n; i++) r.skipLeb();
      return Op.Other;
    }
    case 0x1c: {
      const n = r.u32();
      for (let i = 0; i < n; i++) skipValType(r);
      return Op.Other;
    }
    case 0x1f: {
      skipBlockType(r);
      const n = r.u32();
      for (let i = 0; i < n; i++) {
        const kind = r.byte();
        if (kind <= 1) r.skipLeb();
        r.skipLeb();
      }
      return Op.Other;
    }
    case 0x41:
    case 0x42:
      r.skipLeb();
      return Op.Other;
    case 0x43:
      r.skip(4);
      return Op.Other;
    case 0x44:
      r.skip(8);
      return Op.Other;
    case 0xd0:
      skipBlockType(r);
      return Op.Other;
    case 0xfc:
      return scanMisc(r);
    case 0xfd:
      return scanSimd(r);
    case 0xfe: {
      const sub = r.u32();
      if (sub === 0x03) r.skip(1);
      else skipMemarg(r);
      return Op.Other;
    }
    default:
      throw new Unsupported(`opcode 0x${op.toString(16)}`);
  }
}

function scanMisc(r: Reader): Op {
  const sub = r.u32();
  if (sub <= 7) return Op.Other;
  switch (sub) {
    case 8:
    case 12:
    case 14:
      r.skipLeb();
      r.skipLeb();
      return Op.Unrestorable;
    case 9:
    case 13:
    case 15:
    case 17:
      r.skipLeb();
      return Op.Unrestorable;
    case 10:
      r.skipLeb();
      r.skipLeb();
      return Op.Other;
    case 11:
    case 16:
      r.skipLeb();
      return Op.Other;
    default:
      throw new Unsupported(`opcode 0xfc ${sub}`);
  }
}

function scanSimd(r: Reader): Op {
  const sub = r.u32();
  if (sub <= 11 || sub === 92 || sub === 93) skipMemarg(r);
  else if (sub === 12 || sub === 13) r.skip(16);
  else if (sub >= 21 && sub <= 34) r.skip(1);
  else if (sub >= 84 && sub <= 91) {
    skipMemarg(r);
    r.skip(1);
  } else if (sub > 0x113) throw new Unsupported(`opcode 0xfd ${sub}`);
  return Op.Other;
}

/** Skips a constant expression (a global's initialiser) up to and including its `end`. */
export function skipConstExpr(r: Reader): void {
  while (scanInstruction(r) !== Op.End);
}
