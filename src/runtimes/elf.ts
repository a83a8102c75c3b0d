/**
 * The one ELF reader the runtimes share: the identification and the header fields every check
 * needs (class, byte order, type, machine, and where the program headers are), with the machine
 * named as Docker names architectures. The process runtime asks whether this machine can run a
 * file; the Docker runtime whether a binary can run alone in a FROM scratch image.
 */
import { endianness } from 'node:os';

/** e_machine (ELF gABI) to a person's name and Docker's name (which may depend on the class and byte order). */
const MACHINES: Record<number, { name: string; arch: (is64: boolean, littleEndian: boolean) => string }> = {
  3: { name: 'x86', arch: () => '386' },
  8: { name: 'MIPS', arch: (is64, le) => (is64 ? (le ? 'mips64le' : 'mips64') : le ? 'mipsle' : 'mips') },
  21: { name: 'PowerPC64', arch: (_, le) => (le ? 'ppc64le' : 'ppc64') },
  22: { name: 'S/390', arch: () => 's390x' },
  40: { name: 'ARM', arch: () => 'arm' },
  62: { name: 'x86-64', arch: () => 'amd64' },
  183: { name: 'AArch64', arch: () => 'arm64' },
  243: { name: 'RISC-V', arch: (is64) => (is64 ? 'riscv64' : 'riscv32') },
  258: { name: 'LoongArch', arch: () => 'loong64' },
};

/** Node's architecture names to the ELF machine and class that run on them. */
const NODE_ARCHS: Record<string, { machine: number; is64: boolean }> = {
  x64: { machine: 62, is64: true },
  arm64: { machine: 183, is64: true },
  arm: { machine: 40, is64: false },
  ia32: { machine: 3, is64: false },
  riscv64: { machine: 243, is64: true },
  ppc64: { machine: 21, is64: true },
  s390x: { machine: 22, is64: true },
  loong64: { machine: 258, is64: true },
};

/** Bytes that hold the identification, e_type and e_machine: enough to tell what a file is for. */
export const ELF_IDENT_BYTES = 20;

/** What an ELF file's header says. */
export interface ElfHeader {
  is64: boolean;
  littleEndian: boolean;
  /** e_type: 1 relocatable, 2 executable, 3 shared object or position-independent executable, 4 core. */
  type: number;
  machine: number;
  /** The machine as people name it (`x86-64`), or `e_machine N`. */
  machineName: string;
  /** The architecture in Docker's names (`amd64`, `arm64`, `ppc64le`), or `machine N` when unknown. */
  arch: string;
  /** Entry point, program header table offset, entry size and count; undefined when `bytes` stops before them. */
  entry?: number;
  phoff?: number;
  phentsize?: number;
  phnum?: number;
}

/** Reads an ELF file's header from its first bytes; what is wrong instead when they are not one. */
export function readElfHeader(
  bytes: Uint8Array,
): { ok: true; header: ElfHeader } | { ok: false; why: 'not-elf' | 'malformed' } {
  if (
    bytes.length < ELF_IDENT_BYTES ||
    bytes[0] !== 0x7f ||
    bytes[1] !== 0x45 ||
    bytes[2] !== 0x4c ||
    bytes[3] !== 0x46
  )
    return { ok: false, why: 'not-elf' };
  const cls = bytes[4];
  const data = bytes[5];
  if ((cls !== 1 && cls !== 2) || (data !== 1 && data !== 2) || bytes[6] !== 1) return { ok: false, why: 'malformed' };
  const is64 = cls === 2;
  const littleEndian = data === 1;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u16 = (o: number) => view.getUint16(o, littleEndian);
  const word = (o: number) => (is64 ? Number(view.getBigUint64(o, littleEndian)) : view.getUint32(o, littleEndian));
  const machine = u16(18);
  const known = MACHINES[machine];
  const header: ElfHeader = {
    is64,
    littleEndian,
    type: u16(16),
    machine,
    machineName: known?.name ?? `e_machine ${machine}`,
    arch: known?.arch(is64, littleEndian) ?? `machine ${machine}`,
  };
  if (bytes.length >= (is64 ? 64 : 52)) {
    header.entry = word(24);
    header.phoff = word(is64 ? 32 : 28);
    header.phentsize = u16(is64 ? 54 : 42);
    header.phnum = u16(is64 ? 56 : 44);
  }
  return { ok: true, header };
}

/**
 * What a machine runs, from Node's name of its architecture (`process.arch`) and its byte order:
 * Docker's name, the word size and a person's name; undefined for one this reader does not know.
 */
export function hostMachine(
  nodeArch: string = process.arch,
  littleEndian = endianness() === 'LE',
): { arch: string; is64: boolean; name: string } | undefined {
  const m = NODE_ARCHS[nodeArch];
  if (!m) return undefined;
  const known = MACHINES[m.machine]!;
  return { arch: known.arch(m.is64, littleEndian), is64: m.is64, name: known.name };
}
