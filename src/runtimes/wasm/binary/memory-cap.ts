/**
 * Writes a module's memory and table maxima as planned (`host-memory.ts`), nothing else, so a
 * runaway `memory.grow` or `table.grow` fails inside the guest instead of exhausting the host.
 * Used for the core modules of jco's glue, for modules `module-rewrite.ts` cannot rewrite, and by
 * the rewrite itself for the tables. `capMemory` caps only the memory, for the module Wizer runs
 * in a process of its own (`artifact/preinit.ts`).
 */
import { leb, Reader, skipConstExpr, skipValType, writeModule, type Section } from './codec.js';

const PAGE = 65536;
import type { MemoryPlan } from './host-memory.js';
import type { ModuleInfo } from './module-info.js';

/** Re-encodes limits with the given maximum (keeping the shared bit). */
function encodeLimits(r: Reader, max: number): number[] {
  const flags = r.byte();
  const min = r.strictU32();
  if (flags & 1) r.strictU32();
  return [flags | 1, ...leb(min), ...leb(max)];
}

/** The table section with each table's maximum replaced. */
export function tableSection(body: Uint8Array, tableMax: number[]): Uint8Array {
  const r = new Reader(body);
  const n = r.strictU32();
  const out = [...leb(n)];
  const copy = (from: number) => {
    for (let i = from; i < r.pos; i++) out.push(body[i]!);
  };
  for (let i = 0; i < n; i++) {
    let from = r.pos;
    const withInit = body[r.pos] === 0x40;
    if (withInit) r.skip(2);
    skipValType(r);
    copy(from);
    out.push(...encodeLimits(r, tableMax[i]!));
    from = r.pos;
    if (withInit) skipConstExpr(r);
    copy(from);
  }
  return Uint8Array.from(out);
}

/** The memory section with each memory's maximum replaced. */
function memorySection(body: Uint8Array, maxPages: number[]): Uint8Array {
  const r = new Reader(body);
  const n = r.strictU32();
  const out = [...leb(n)];
  for (let i = 0; i < n; i++) out.push(...encodeLimits(r, maxPages[i]!));
  return Uint8Array.from(out);
}

/** The module with its memory and table maxima as planned. */
export function capModule(info: ModuleInfo, plan: MemoryPlan): Uint8Array {
  const sections: Section[] = info.sections.map((s) => {
    if (s.id === 5) return { id: 5, body: memorySection(s.body, plan.memoryMaxPages) };
    if (s.id === 4) return { id: 4, body: tableSection(s.body, plan.tableMax) };
    return s;
  });
  return writeModule(sections);
}

/**
 * Returns a copy of the core module `bytes` whose defined 32-bit memories have a maximum of at
 * most `maxBytes` (whole 64 KiB pages), and the largest initial size it declares (pages). Modules
 * without a memory section, or with 64-bit/shared memories, are returned unchanged.
 */
export function capMemory(bytes: Uint8Array, maxBytes: number): { bytes: Uint8Array; initialPages: number } {
  const capPages = Math.max(1, Math.floor(maxBytes / PAGE));
  const r = new Reader(bytes, 8);
  let initialPages = 0;
  while (r.pos < bytes.length) {
    const start = r.pos;
    const id = r.byte();
    const size = r.u32();
    const bodyStart = r.pos;
    const bodyEnd = bodyStart + size;
    if (id === 5) {
      const count = r.u32();
      const body: number[] = leb(count);
      for (let i = 0; i < count; i++) {
        const flags = r.byte();
        const min = r.u32();
        initialPages = Math.max(initialPages, min);
        if (flags !== 0 && flags !== 1) return { bytes, initialPages }; // shared or memory64: leave alone
        const declared = flags === 1 ? r.u32() : capPages;
        body.push(1, ...leb(min), ...leb(Math.max(min, Math.min(declared, capPages))));
      }
      const section = [5, ...leb(body.length), ...body];
      const out = new Uint8Array(start + section.length + (bytes.length - bodyEnd));
      out.set(bytes.subarray(0, start), 0);
      out.set(section, start);
      out.set(bytes.subarray(bodyEnd), start + section.length);
      return { bytes: out, initialPages };
    }
    r.pos = bodyEnd;
  }
  return { bytes, initialPages };
}
