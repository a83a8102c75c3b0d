/**
 * Checks that a `{ binary }` can run alone in a FROM scratch image before it is deployed: an ELF
 * executable for the engine's architecture, with no program interpreter and no shared libraries
 * to load (static, or static-pie), whole (every segment inside the file). The header is read by
 * the runtimes' one ELF reader (`../elf.ts`); the program headers are walked here.
 */
import { readElfHeader } from '../elf.js';

const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const DT_NEEDED = 1;
/** Largest binary accepted, bytes. */
export const MAX_BINARY_BYTES = 512 * 1024 * 1024;

/** What the header says, for messages and tests. */
export interface ElfFacts {
  arch: string;
  is64: boolean;
  type: 'executable' | 'position-independent';
}

/**
 * Returns why `bytes` cannot run alone in a container on an engine of `engineArch` (Docker's
 * names: amd64, arm64, ...), or the binary's facts when it can.
 */
export function checkStaticElf(
  bytes: Buffer,
  engineArch: string,
): { ok: true; facts: ElfFacts } | { ok: false; why: string } {
  const no = (why: string) => ({ ok: false as const, why });
  const read = readElfHeader(bytes);
  if (!read.ok)
    return no(
      read.why === 'not-elf'
        ? bytes.length >= 4 && bytes.toString('latin1', 0, 4) === '\x7fELF'
          ? `is ${bytes.length} bytes: too short to be an ELF executable (the header alone is 52 or 64 bytes).`
          : 'is not a Linux (ELF) binary.'
        : 'has a malformed ELF identification (class, byte order or version).',
    );
  const { is64, littleEndian: le, type, arch, entry, phoff, phentsize, phnum } = read.header;
  if (entry === undefined || phoff === undefined || phentsize === undefined || phnum === undefined)
    return no(`is ${bytes.length} bytes: shorter than its own ELF header.`);
  const u32 = (o: number) => (le ? bytes.readUInt32LE(o) : bytes.readUInt32BE(o));
  const word = (o: number) => (is64 ? Number(le ? bytes.readBigUInt64LE(o) : bytes.readBigUInt64BE(o)) : u32(o));
  const sword = (o: number) =>
    is64
      ? Number(le ? bytes.readBigInt64LE(o) : bytes.readBigInt64BE(o))
      : le
        ? bytes.readInt32LE(o)
        : bytes.readInt32BE(o);

  if (type !== 2 && type !== 3)
    return no(
      `is not an executable (ELF type ${type}: ${type === 1 ? 'a relocatable object' : type === 4 ? 'a core dump' : 'unknown'}).`,
    );
  if (arch !== engineArch)
    return no(`is built for ${arch}, but the Docker engine runs ${engineArch} containers: build it for ${engineArch}.`);
  if (entry === 0) return no('has no entry point (a shared library, not a program).');
  if (phnum === 0 || phentsize < (is64 ? 56 : 32) || phoff + phnum * phentsize > bytes.length)
    return no(
      `is truncated or malformed: its program headers (${phnum} at byte ${phoff}) do not fit in its ${bytes.length} bytes.`,
    );

  let loads = 0;
  for (let i = 0; i < phnum; i++) {
    const h = phoff + i * phentsize;
    const pType = u32(h);
    const offset = word(is64 ? h + 8 : h + 4);
    const filesz = word(is64 ? h + 32 : h + 16);
    if (offset + filesz > bytes.length)
      return no(`is truncated: a segment ends at byte ${offset + filesz} of ${bytes.length}.`);
    if (pType === PT_LOAD) loads++;
    if (pType === PT_INTERP) {
      const loader = bytes.toString('latin1', offset, offset + filesz).replace(/\0.*$/s, '');
      return no(
        `is dynamically linked: it needs the loader ${loader}, which a FROM scratch image does not have. Link it statically (e.g. musl-gcc -static, CGO_ENABLED=0 go build, --target x86_64-unknown-linux-musl).`,
      );
    }
    if (pType === PT_DYNAMIC) {
      const size = is64 ? 16 : 8;
      for (let d = offset; d + size <= offset + filesz; d += size) {
        const tag = sword(d);
        if (tag === 0) break;
        if (tag === DT_NEEDED)
          return no('needs shared libraries (its dynamic section lists DT_NEEDED entries): link it statically.');
      }
    }
  }
  if (loads === 0) return no('has no loadable segment.');
  return { ok: true, facts: { arch, is64, type: type === 2 ? 'executable' : 'position-independent' } };
}
