/** Deploy-time checks of a function's native binary, and where the helper binary lives. */
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { access, open, stat } from 'node:fs/promises';
import { endianness } from 'node:os';
import { join, resolve } from 'node:path';
import { NebulaError, RuntimeUnavailableError } from '../../errors.js';
import { packageRoot } from '../../paths.js';
import { ELF_IDENT_BYTES, hostMachine, readElfHeader } from '../elf.js';

/** A binary that passed the checks: absolute path, size in bytes, sha256 of its content. */
export interface CheckedBinary {
  path: string;
  sizeBytes: number;
  digest: string;
}

/**
 * Checks that `binary` is a regular, executable ELF file for this machine.
 * @throws NebulaError `INVALID_FUNCTION` saying what is wrong with it.
 */
export async function checkBinary(name: string, binary: string): Promise<CheckedBinary> {
  const path = resolve(binary);
  const refuse = (why: string, cause?: unknown) =>
    new NebulaError(
      'INVALID_FUNCTION',
      `Function "${name}": cannot run ${path} as a process: ${why}.`,
      cause ? { cause } : {},
    );
  const info = await stat(path).catch((e: NodeJS.ErrnoException) => {
    throw refuse(e.code === 'ENOENT' ? 'no such file' : (e.message ?? String(e)), e);
  });
  if (!info.isFile()) throw refuse('it is not a regular file');
  await access(path, constants.X_OK).catch((e: unknown) => {
    throw refuse('it is not executable (chmod +x it)', e);
  });
  const hash = createHash('sha256');
  const head = Buffer.alloc(ELF_IDENT_BYTES);
  const file = await open(path, 'r');
  try {
    let offset = 0;
    for await (const chunk of file.createReadStream({ autoClose: false }) as AsyncIterable<Buffer>) {
      if (offset < head.length) chunk.copy(head, offset, 0, head.length - offset);
      offset += chunk.length;
      hash.update(chunk);
    }
    const problem = elfProblem(offset >= head.length ? head : head.subarray(0, offset));
    if (problem) throw refuse(problem);
  } finally {
    await file.close();
  }
  return { path, sizeBytes: info.size, digest: `sha256:${hash.digest('hex')}` };
}

/** Linux architecture folder names, as the committed binaries are named (`linux-amd64`, ...). */
function archFolder(arch: string = process.arch): string {
  return `linux-${arch === 'x64' ? 'amd64' : arch}`;
}

/** The committed helper for this machine: `helper/linux-<arch>/nebula-exec` beside this file's sources. */
export function defaultHelperPath(): string {
  return join(packageRoot(), 'src', 'runtimes', 'process', 'helper', archFolder(), 'nebula-exec');
}

/**
 * Checks that the helper can run here.
 * @throws RuntimeUnavailableError `RUNTIME_UNAVAILABLE` off Linux, or when the helper is missing.
 */
export async function checkHelper(path: string): Promise<void> {
  if (process.platform !== 'linux')
    throw new RuntimeUnavailableError(
      `The process runtime runs on Linux only (this is ${process.platform}): its helper uses prctl, close_range and setrlimit.`,
    );
  try {
    await access(path, constants.X_OK);
  } catch (e) {
    throw new RuntimeUnavailableError(
      `The process runtime's helper ${path} is missing or not executable. Build it with ` +
        '`bash src/runtimes/process/helper/build.sh` (Debian: musl-tools), or pass `helperPath`.',
      { cause: e },
    );
  }
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
