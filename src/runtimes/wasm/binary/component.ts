/**
 * Reading a WebAssembly component binary (the component model's binary format), as much as deploy
 * needs: the core modules it embeds, nested components included, and the names of its own imports
 * and exports. Every length is checked against the bytes, numbers are bounded as the format bounds
 * them and nesting is capped, so malformed or hostile bytes end in {@link Unsupported}, never in a
 * read past the end or a deep recursion.
 */
import { MAGIC_CORE, Reader, sectionsOf, Unsupported } from './codec.js';

/** `\0asm`, version 0x0d, layer 1. */
const MAGIC_COMPONENT = [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];
/** Deepest nesting of components accepted (toolchains nest one or two levels). */
export const MAX_COMPONENT_DEPTH = 16;

const SECTION = { coreModule: 1, component: 4, import: 10, export: 11, lastKnown: 12 } as const;

/** What a component holds, as far as deploy looks. */
export interface ComponentOutline {
  /** Every embedded core module, depth first in binary order; views into the input bytes. */
  coreModules: Uint8Array[];
  /** Names of the top-level imports, e.g. `wasi:cli/stdin@0.2.0`. */
  imports: string[];
  /** Names of the top-level exports, e.g. `wasi:cli/run@0.2.0`. */
  exports: string[];
}

export function isComponent(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && MAGIC_COMPONENT.every((b, i) => bytes[i] === b);
}

/**
 * Walks a component's sections.
 * @throws Unsupported for bytes that are not a well-framed component.
 */
export function readComponent(bytes: Uint8Array): ComponentOutline {
  const out: ComponentOutline = { coreModules: [], imports: [], exports: [] };
  walk(bytes, 0, out);
  return out;
}

function walk(bytes: Uint8Array, depth: number, out: ComponentOutline): void {
  if (!isComponent(bytes))
    throw new Unsupported(depth ? 'a nested component has no component header' : 'not a component');
  for (const { id, body, start } of sectionsOf(bytes, true)) {
    if (id > SECTION.lastKnown) throw new Unsupported(`unknown section id ${id} at byte ${start}`);
    if (id === SECTION.coreModule) {
      if (body.length < 8 || MAGIC_CORE.some((b, i) => body[i] !== b))
        throw new Unsupported(`a core module section at byte ${start} holds no core module`);
      out.coreModules.push(body);
    } else if (id === SECTION.component) {
      if (depth + 1 > MAX_COMPONENT_DEPTH)
        throw new Unsupported(`components nested deeper than ${MAX_COMPONENT_DEPTH}`);
      walk(body, depth + 1, out);
    } else if (depth === 0 && id === SECTION.import) readNames(body, out.imports, skipExternDesc);
    else if (depth === 0 && id === SECTION.export) readNames(body, out.exports, skipExportTail);
  }
}

/** A vector of `name` + something, the something skipped by `rest`; the vector must fill the section. */
function readNames(body: Uint8Array, into: string[], rest: (r: Reader) => void): void {
  const r = new Reader(body);
  const n = r.strictU32();
  for (let i = 0; i < n; i++) {
    const kind = r.byte();
    // 0x00 a plain name; 0x01 the older interface-name form, read the same way.
    if (kind !== 0x00 && kind !== 0x01) throw new Unsupported(`name kind 0x${kind.toString(16)}`);
    into.push(r.name());
    rest(r);
  }
  if (r.pos !== r.end) throw new Unsupported('trailing bytes after an import or export section');
}

function skipExternDesc(r: Reader): void {
  const kind = r.byte();
  switch (kind) {
    case 0x00: // core module: 0x11 then a core type index
      if (r.byte() !== 0x11) throw new Unsupported('a core extern that is not a module');
      r.strictU32();
      return;
    case 0x01:
    case 0x04:
    case 0x05: // func, component, instance: a type index
      r.strictU32();
      return;
    case 0x02: // value: a bound tag, then an index or a value type
      r.byte();
      r.skipLeb();
      return;
    case 0x03: {
      // type: (eq i) or (sub resource)
      const bound = r.byte();
      if (bound === 0x00) r.strictU32();
      else if (bound !== 0x01) throw new Unsupported(`type bound 0x${bound.toString(16)}`);
      return;
    }
    default:
      throw new Unsupported(`extern kind 0x${kind.toString(16)}`);
  }
}

/** An export's sort and index, then an optional type ascription. */
function skipExportTail(r: Reader): void {
  const sort = r.byte();
  if (sort === 0x00) r.byte();
  else if (sort > 0x05) throw new Unsupported(`sort 0x${sort.toString(16)}`);
  r.strictU32();
  const ascribed = r.byte();
  if (ascribed === 0x01) skipExternDesc(r);
  else if (ascribed !== 0x00) throw new Unsupported(`export type flag 0x${ascribed.toString(16)}`);
}
