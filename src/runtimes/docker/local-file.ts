/**
 * Files a function's spec names on this machine (a `{ binary }`, a `{ tarball }`): only regular
 * files are read, and never more than their size, checked against a cap before the first byte.
 * A device (`/dev/zero`), a FIFO or a directory is refused without blocking on it.
 */
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { NebulaError } from '../../errors.js';

/** A regular file opened for reading, with the size it had when opened. */
export interface LocalFile {
  handle: FileHandle;
  sizeBytes: number;
}

/**
 * Opens `path` when it is a regular file of at most `maxBytes`; whoever gets it closes it.
 * @throws NebulaError `INVALID_FUNCTION` naming the function, what the file is for, and why.
 */
export async function openLocalFile(name: string, what: string, path: string, maxBytes: number): Promise<LocalFile> {
  const refuse = (why: string, cause?: unknown) =>
    new NebulaError('INVALID_FUNCTION', `Function "${name}": ${what} ${path} ${why}`, cause ? { cause } : {});
  let handle: FileHandle;
  try {
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw refuse(code === 'ENOENT' ? 'does not exist.' : `cannot be read: ${(e as Error).message}`, e);
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) {
      const kind = info.isDirectory()
        ? 'a directory'
        : info.isFIFO()
          ? 'a FIFO'
          : info.isCharacterDevice() || info.isBlockDevice()
            ? 'a device'
            : info.isSocket()
              ? 'a socket'
              : 'not a regular file';
      throw refuse(`is ${kind}: only a regular file is read.`);
    }
    if (info.size > maxBytes) throw refuse(`is ${info.size} bytes, over the ${maxBytes}-byte cap.`);
    return { handle, sizeBytes: info.size };
  } catch (e) {
    await handle.close();
    throw e instanceof NebulaError ? e : refuse(`cannot be read: ${(e as Error).message}`, e);
  }
}

/** Reads the whole file (no more than the size it had when opened), then closes it. */
export async function readLocalFile(file: LocalFile): Promise<Buffer> {
  try {
    const bytes = Buffer.alloc(file.sizeBytes);
    let at = 0;
    while (at < bytes.length) {
      const { bytesRead } = await file.handle.read(bytes, at, bytes.length - at, at);
      if (bytesRead === 0) break;
      at += bytesRead;
    }
    return at === bytes.length ? bytes : bytes.subarray(0, at);
  } finally {
    await file.handle.close();
  }
}
