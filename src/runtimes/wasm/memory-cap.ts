/**
 * Caps a core module's linear memory by rewriting the maximum in its memory section, so a
 * runaway allocation makes `memory.grow` fail inside the guest instead of exhausting the host.
 */

const PAGE = 65536;

function readU32(bytes: Uint8Array, pos: number): [value: number, next: number] {
  let result = 0;
  let shift = 0;
  for (;;) {
    const b = bytes[pos++];
    if (b === undefined) throw new Error('truncated LEB128');
    result += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return [result, pos];
    shift += 7;
    if (shift > 35) throw new Error('LEB128 too long');
  }
}

function writeU32(value: number): number[] {
  const out: number[] = [];
  do {
    let b = value & 0x7f;
    value = Math.floor(value / 128);
    if (value !== 0) b |= 0x80;
    out.push(b);
  } while (value !== 0);
  return out;
}

/**
 * Returns a copy of the core module `bytes` whose defined 32-bit memories have a maximum of at
 * most `maxBytes` (rounded down to whole 64 KiB pages, at least the declared minimum).
 * Modules without a memory section, or with 64-bit/shared memories, are returned unchanged.
 */
export function capMemory(bytes: Uint8Array, maxBytes: number): Uint8Array {
  const capPages = Math.max(1, Math.floor(maxBytes / PAGE));
  let pos = 8;
  while (pos < bytes.length) {
    const id = bytes[pos];
    const [size, bodyStart] = readU32(bytes, pos + 1);
    const bodyEnd = bodyStart + size;
    if (id === 5) {
      const [count, first] = readU32(bytes, bodyStart);
      const body: number[] = writeU32(count);
      let p = first;
      for (let i = 0; i < count; i++) {
        const flags = bytes[p++];
        if (flags !== 0 && flags !== 1) return bytes; // shared or memory64: leave alone
        const [min, afterMin] = readU32(bytes, p);
        p = afterMin;
        let max = capPages;
        if (flags === 1) {
          const [declared, afterMax] = readU32(bytes, p);
          p = afterMax;
          max = Math.min(declared, capPages);
        }
        body.push(1, ...writeU32(min), ...writeU32(Math.max(min, max)));
      }
      const section = [5, ...writeU32(body.length), ...body];
      const out = new Uint8Array(pos + section.length + (bytes.length - bodyEnd));
      out.set(bytes.subarray(0, pos), 0);
      out.set(section, pos);
      out.set(bytes.subarray(bodyEnd), pos + section.length);
      return out;
    }
    pos = bodyEnd;
  }
  return bytes;
}
