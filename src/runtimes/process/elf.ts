/** Reads just enough of an ELF header to tell whether this machine can execute the file. */
import { endianness } from 'node:os';

/** e_machine values (ELF gABI) for the architectures Node runs on, by `process.arch`. */
const MACHINES: Record<string, { machine: number; bits: 32 | 64; name: string }> = {
  x64: { machine: 62, bits: 64, name: 'x86-64' },
  arm64: { machine: 183, bits: 64, name: 'AArch64' },
  arm: { machine: 40, bits: 32, name: 'ARM' },
  ia32: { machine: 3, bits: 32, name: 'x86' },
  riscv64: { machine: 243, bits: 64, name: 'RISC-V' },
  ppc64: { machine: 21, bits: 64, name: 'PowerPC64' },
  s390x: { machine: 22, bits: 64, name: 'S/390' },
  loong64: { machine: 258, bits: 64, name: 'LoongArch' },
};

const ET_EXEC = 2;
const ET_DYN = 3;

/** Bytes of the header read: e_ident (16), e_type (2), e_machine (2). */
export const ELF_HEADER_BYTES = 20;

function machineName(machine: number): string {
  return Object.values(MACHINES).find((m) => m.machine === machine)?.name ?? `e_machine ${machine}`;
}

/**
 * Why a file starting with `head` cannot run on this machine, or `undefined` when it can: not ELF,
 * not an executable (a relocatable object or core dump), or built for another architecture,
 * word size or byte order.
 */
export function elfProblem(
  head: Uint8Array,
  arch: string = process.arch,
  littleEndian = endianness() === 'LE',
): string | undefined {
  if (head.length < ELF_HEADER_BYTES || head[0] !== 0x7f || head[1] !== 0x45 || head[2] !== 0x4c || head[3] !== 0x46)
    return 'it is not an ELF executable (no \\x7fELF magic): the process runtime runs native Linux binaries, not scripts';
  const bits = head[4] === 1 ? 32 : head[4] === 2 ? 64 : 0;
  const little = head[5] === 1 ? true : head[5] === 2 ? false : undefined;
  if (bits === 0 || little === undefined) return 'its ELF header is malformed (unknown class or byte order)';
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const type = view.getUint16(16, little);
  const machine = view.getUint16(18, little);
  if (type !== ET_EXEC && type !== ET_DYN) return `it is an ELF file of type ${type}, not an executable`;
  const want = MACHINES[arch];
  if (!want) return `this machine's architecture (${arch}) is not one the process runtime knows`;
  if (machine !== want.machine || bits !== want.bits || little !== littleEndian)
    return `it is built for ${machineName(machine)} (${bits}-bit, ${little ? 'little' : 'big'}-endian), but this machine is ${want.name} (${arch})`;
  return undefined;
}
