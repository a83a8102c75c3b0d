/**
 * Reading a module from a file the host was pointed at (a `wasm` path, a cached artifact): only a
 * regular file, and only up to a size known before reading, so `/dev/zero`, a FIFO, a socket or a
 * file of many gigabytes can neither block the host nor fill its memory.
 */
import { constants, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';

/** What a non-regular file is, for messages. */
function kindOf(stat: Stats): string {
  if (stat.isDirectory()) return 'a directory';
  if (stat.isCharacterDevice()) return 'a character device';
  if (stat.isBlockDevice()) return 'a block device';
  if (stat.isFIFO()) return 'a FIFO (named pipe)';
  if (stat.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * The bytes of the regular file at `path`, at most `maxBytes` of them. Opened without blocking
 * (a FIFO with no writer would otherwise hang the open) and checked on the open descriptor, so
 * the file checked is the file read.
 * @throws Error saying why (not a regular file, too large, or the system's reason).
 */
export async function readFileCapped(path: string, maxBytes: number): Promise<Uint8Array> {
  const file = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const stat = await file.stat();
    if (!stat.isFile()) throw new Error(`it is ${kindOf(stat)}, not a regular file`);
    if (stat.size > maxBytes) throw new Error(`it is ${stat.size} bytes, over the ${maxBytes}-byte limit for a module`);
    const bytes = new Uint8Array(stat.size);
    let at = 0;
    while (at < bytes.length) {
      const { bytesRead } = await file.read(bytes, at, bytes.length - at, at);
      if (bytesRead === 0) break;
      at += bytesRead;
    }
    // A file that grew while read is not the file that was checked.
    const { bytesRead: more } = await file.read(new Uint8Array(1), 0, 1, at);
    if (more > 0 || at !== bytes.length) throw new Error('it changed while it was read');
    return bytes;
  } finally {
    await file.close();
  }
}
