/** Whether this machine can execute a file, from its ELF header (read by the runtimes' one ELF reader). */
import { endianness } from 'node:os';
import { ELF_IDENT_BYTES, hostMachine, readElfHeader } from '../elf.js';

/** Bytes of the file read: the identification, e_type and e_machine. */
export const ELF_HEADER_BYTES = ELF_IDENT_BYTES;

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
  const read = readElfHeader(head);
  if (!read.ok)
    return read.why === 'not-elf'
      ? 'it is not an ELF executable (no \\x7fELF magic): the process runtime runs native Linux binaries, not scripts'
      : 'its ELF header is malformed (unknown class or byte order)';
  const h = read.header;
  if (h.type !== 2 && h.type !== 3) return `it is an ELF file of type ${h.type}, not an executable`;
  const here = hostMachine(arch, littleEndian);
  if (!here) return `this machine's architecture (${arch}) is not one the process runtime knows`;
  if (h.arch !== here.arch || h.is64 !== here.is64 || h.littleEndian !== littleEndian)
    return `it is built for ${h.machineName} (${h.is64 ? 64 : 32}-bit, ${h.littleEndian ? 'little' : 'big'}-endian), but this machine is ${here.name} (${arch})`;
  return undefined;
}
