/**
 * What deploy needs to know about a core module before it runs anything: every section but the
 * code read into counts and types (function signatures, imports, tables, memories, globals,
 * exports, tags, segments). The checks, the host-memory plan and the rewrite all work from it.
 * Strict: an encoding this reader does not know (GC types, 64-bit tables or memories) throws
 * {@link Unsupported}, so nothing the host cannot bound gets past deploy unread.
 */
import { Reader, readSections, skipConstExpr, skipValType, Unsupported, type Section } from './codec.js';

/** A function type: its parameter and result value types (their one-byte encodings, or the encoded ref type). */
export interface FuncType {
  params: string[];
  results: string[];
}

interface Limits {
  /** Flags byte: bit 0 a maximum is given, bit 1 shared. */
  flags: number;
  min: number;
  max?: number;
}

interface TableInfo {
  /** The reference type's encoding (`70` funcref, `6f` externref, `63 ..` / `64 ..` typed). */
  refType: string;
  limits: Limits;
}

interface ImportInfo {
  module: string;
  name: string;
  kind: 'function' | 'table' | 'memory' | 'global' | 'tag';
  /** For a function: its type. */
  type?: FuncType;
}

interface ExportInfo {
  name: string;
  kind: 'function' | 'table' | 'memory' | 'global' | 'tag';
  index: number;
}

interface GlobalInfo {
  valType: string;
  mutable: boolean;
}

export interface ModuleInfo {
  sections: Section[];
  types: FuncType[];
  imports: ImportInfo[];
  importedFuncs: number;
  importedTables: number;
  importedMemories: number;
  importedGlobals: number;
  importedTags: number;
  /** Type index of each function defined in the module. */
  funcTypes: number[];
  tables: TableInfo[];
  memories: Limits[];
  globals: GlobalInfo[];
  tags: number;
  exports: ExportInfo[];
  hasStart: boolean;
  /** Element segments and their entries that stay with an instance (passive), and all segments' entries. */
  elemSegments: number;
  passiveElemEntries: number;
  dataSegments: number;
}

const KIND = ['function', 'table', 'memory', 'global', 'tag'] as const;

const hex = (bytes: Uint8Array) => [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');

/** A value type, as its encoding in hex. */
function valType(r: Reader): string {
  const at = r.pos;
  skipValType(r);
  return hex(r.bytes.subarray(at, r.pos));
}

function limits(r: Reader): Limits {
  const flags = r.byte();
  if (flags > 3) throw new Unsupported(`limits flags 0x${flags.toString(16)} (64-bit or custom page sizes)`);
  const min = r.strictU32();
  return flags & 1 ? { flags, min, max: r.strictU32() } : { flags, min };
}

function tableType(r: Reader): TableInfo {
  const refType = valType(r);
  return { refType, limits: limits(r) };
}

function funcType(r: Reader): FuncType {
  const form = r.byte();
  if (form !== 0x60) throw new Unsupported(`type form 0x${form.toString(16)} (GC types)`);
  const params = Array.from({ length: r.strictU32() }, () => valType(r));
  const results = Array.from({ length: r.strictU32() }, () => valType(r));
  return { params, results };
}

/** A count read from a vector's head, bounded by the bytes left (each entry takes at least one byte). */
function count(r: Reader): number {
  const n = r.strictU32();
  if (n > r.end - r.pos) throw new Unsupported('a vector longer than its section');
  return n;
}

/**
 * Reads a core module's sections (not its code).
 * @throws Unsupported for malformed bytes or an encoding this reader does not know.
 */
export function readModuleInfo(bytes: Uint8Array): ModuleInfo {
  const sections = readSections(bytes);
  const info: ModuleInfo = {
    sections,
    types: [],
    imports: [],
    importedFuncs: 0,
    importedTables: 0,
    importedMemories: 0,
    importedGlobals: 0,
    importedTags: 0,
    funcTypes: [],
    tables: [],
    memories: [],
    globals: [],
    tags: 0,
    exports: [],
    hasStart: false,
    elemSegments: 0,
    passiveElemEntries: 0,
    dataSegments: 0,
  };
  for (const s of sections) {
    const r = new Reader(s.body);
    switch (s.id) {
      case 1:
        info.types = Array.from({ length: count(r) }, () => funcType(r));
        break;
      case 2:
        for (let i = count(r); i > 0; i--) readImport(r, info);
        break;
      case 3:
        info.funcTypes = Array.from({ length: count(r) }, () => r.strictU32());
        break;
      case 4:
        for (let i = count(r); i > 0; i--) {
          if (r.bytes[r.pos] === 0x40) {
            // A table with an initialiser expression: 0x40 0x00 tabletype expr.
            r.skip(2);
            info.tables.push(tableType(r));
            skipConstExpr(r);
          } else info.tables.push(tableType(r));
        }
        break;
      case 5:
        info.memories = Array.from({ length: count(r) }, () => limits(r));
        break;
      case 13:
        info.tags = count(r);
        for (let i = 0; i < info.tags; i++) {
          r.byte();
          r.strictU32();
        }
        break;
      case 6:
        for (let i = count(r); i > 0; i--) {
          const type = valType(r);
          info.globals.push({ valType: type, mutable: r.byte() === 1 });
          skipConstExpr(r);
        }
        break;
      case 7:
        for (let i = count(r); i > 0; i--) {
          const name = r.name();
          const kind = KIND[r.byte()];
          if (!kind) throw new Unsupported('an export of an unknown kind');
          info.exports.push({ name, kind, index: r.strictU32() });
        }
        break;
      case 8:
        info.hasStart = true;
        break;
      case 9:
        readElements(r, info);
        break;
      case 11:
        info.dataSegments = count(r);
        break;
      default:
        break;
    }
    if (s.id !== 0 && s.id !== 8 && s.id !== 10 && s.id !== 11 && s.id !== 12 && r.pos !== r.end)
      throw new Unsupported(`section ${s.id} has trailing bytes`);
  }
  return info;
}

function readImport(r: Reader, info: ModuleInfo): void {
  const module = r.name();
  const name = r.name();
  const kind = r.byte();
  if (kind === 0x00) {
    const index = r.strictU32();
    info.importedFuncs++;
    // The type section comes first; an index past it is left for the engine to refuse.
    const type = info.types[index];
    info.imports.push(type ? { module, name, kind: 'function', type } : { module, name, kind: 'function' });
  } else if (kind === 0x01) {
    tableType(r);
    info.importedTables++;
    info.imports.push({ module, name, kind: 'table' });
  } else if (kind === 0x02) {
    limits(r);
    info.importedMemories++;
    info.imports.push({ module, name, kind: 'memory' });
  } else if (kind === 0x03) {
    valType(r);
    r.byte();
    info.importedGlobals++;
    info.imports.push({ module, name, kind: 'global' });
  } else if (kind === 0x04) {
    r.byte();
    r.strictU32();
    info.importedTags++;
    info.imports.push({ module, name, kind: 'tag' });
  } else throw new Unsupported(`import kind 0x${kind.toString(16)}`);
}

/** Element segments: how many, and the entries of the passive ones (an instance keeps those until dropped). */
function readElements(r: Reader, info: ModuleInfo): void {
  info.elemSegments = count(r);
  for (let i = 0; i < info.elemSegments; i++) {
    const flags = r.strictU32();
    if (flags > 7) throw new Unsupported(`element segment flags ${flags}`);
    const passive = (flags & 3) === 1;
    const exprs = (flags & 4) !== 0;
    if ((flags & 1) === 0) {
      if (flags & 2) r.strictU32(); // table index
      skipConstExpr(r); // offset
    }
    // Flags 0 and 4 have no element kind or type; the others do.
    if ((flags & 3) !== 0) {
      if (exprs) skipValType(r);
      else if (r.byte() !== 0x00) throw new Unsupported('an element kind other than funcref');
    }
    const n = count(r);
    for (let j = 0; j < n; j++) {
      if (exprs) skipConstExpr(r);
      else r.strictU32();
    }
    if (passive) info.passiveElemEntries += n;
  }
}

/** A function type as one comparable string, e.g. `7f,7e->7f`. */
export function signature(t: FuncType): string {
  return `${t.params.join(',')}->${t.results.join(',')}`;
}
