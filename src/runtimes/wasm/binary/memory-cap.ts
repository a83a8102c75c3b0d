/**
 * Caps a core module's linear memory by rewriting the maximum in its memory section, so a
 * runaway allocation makes `memory.grow` fail inside the guest instead of exhausting the host.
 * Used for the core modules of jco's glue, and for any module `module-rewrite.ts` cannot read.
 */
import { leb, Reader } from './codec.js';

const PAGE = 65536;

/**
 * Returns a copy of the core module `bytes` whose defined 32-bit memories have a maximum of at
 * most `maxBytes` (whole 64 KiB pages), and the largest initial size it declares (pages), so a
 * caller can refuse a module whose initial memory alone is over the cap. Modules without a memory
 * section, or with 64-bit/shared memories, are returned unchanged.
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
