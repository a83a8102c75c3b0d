/**
 * A WASI preview1 host made afresh for every instance: stdin is the invocation's input, stdout
 * and stderr go into capped buffers, args and env are only what the function spec grants, there
 * are no preopened directories and no sockets, and `proc_exit` throws a typed value instead of
 * ending the process. It holds no state outside the object it returns.
 */
import { randomFillSync } from 'node:crypto';

const ERRNO = { SUCCESS: 0, BADF: 8, INVAL: 28, NOSYS: 52, NOTCAPABLE: 76, SPIPE: 70 } as const;
const FILETYPE_CHARACTER_DEVICE = 2;
/** Rights of the stdio descriptors: fd_read (bit 1) or fd_write (bit 6), plus fd_fdstat_set_flags etc. */
const RIGHTS_READ = 0x2n;
const RIGHTS_WRITE = 0x40n;

/** Thrown by `proc_exit`; caught by the worker to read the exit code. */
export class ProcExit {
  constructor(readonly code: number) {}
}

/** The per-invocation state an instance's host functions read and write. */
export interface HostContext {
  stdin: Uint8Array;
  stdinPos: number;
  stdout: Uint8Array[];
  stderr: Uint8Array[];
  stdoutBytes: number;
  stderrBytes: number;
  truncated: boolean;
  args: string[];
  env: string[];
  maxOutputBytes: number;
  memory: WebAssembly.Memory | null;
}

export function newHostContext(args: string[], env: Record<string, string>, maxOutputBytes: number): HostContext {
  return {
    stdin: new Uint8Array(0),
    stdinPos: 0,
    stdout: [],
    stderr: [],
    stdoutBytes: 0,
    stderrBytes: 0,
    truncated: false,
    args,
    env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
    maxOutputBytes,
    memory: null,
  };
}

/** The preview1 functions this host provides; a module importing anything else is refused at deploy. */
export const PREVIEW1_FUNCTIONS = new Set([
  'args_get', 'args_sizes_get', 'environ_get', 'environ_sizes_get', 'clock_res_get', 'clock_time_get',
  'fd_advise', 'fd_allocate', 'fd_close', 'fd_datasync', 'fd_fdstat_get', 'fd_fdstat_set_flags',
  'fd_fdstat_set_rights', 'fd_filestat_get', 'fd_filestat_set_size', 'fd_filestat_set_times', 'fd_pread',
  'fd_prestat_get', 'fd_prestat_dir_name', 'fd_pwrite', 'fd_read', 'fd_readdir', 'fd_renumber', 'fd_seek',
  'fd_sync', 'fd_tell', 'fd_write', 'path_create_directory', 'path_filestat_get', 'path_filestat_set_times',
  'path_link', 'path_open', 'path_readlink', 'path_remove_directory', 'path_rename', 'path_symlink',
  'path_unlink_file', 'poll_oneoff', 'proc_exit', 'proc_raise', 'sched_yield', 'random_get', 'sock_accept',
  'sock_recv', 'sock_send', 'sock_shutdown',
]);

const encoder = new TextEncoder();

/** Builds the `wasi_snapshot_preview1` import object bound to `ctx`. */
export function preview1Imports(ctx: HostContext): Record<string, (...args: never[]) => number> {
  const view = () => new DataView(ctx.memory!.buffer);
  const bytes = () => new Uint8Array(ctx.memory!.buffer);

  const writeStrings = (list: string[], ptrs: number, buf: number): number => {
    const v = view();
    const mem = bytes();
    let at = buf;
    list.forEach((s, i) => {
      v.setUint32(ptrs + i * 4, at, true);
      const data = encoder.encode(s);
      mem.set(data, at);
      mem[at + data.length] = 0;
      at += data.length + 1;
    });
    return ERRNO.SUCCESS;
  };
  const sizes = (list: string[], countPtr: number, sizePtr: number): number => {
    const v = view();
    v.setUint32(countPtr, list.length, true);
    v.setUint32(sizePtr, list.reduce((n, s) => n + encoder.encode(s).length + 1, 0), true);
    return ERRNO.SUCCESS;
  };
  const output = (fd: number, data: Uint8Array): void => {
    const isOut = fd === 1;
    const used = isOut ? ctx.stdoutBytes : ctx.stderrBytes;
    const room = ctx.maxOutputBytes - used;
    const kept = data.length <= room ? data.slice() : data.slice(0, Math.max(0, room));
    if (kept.length < data.length) ctx.truncated = true;
    if (isOut) {
      ctx.stdout.push(kept);
      ctx.stdoutBytes += kept.length;
    } else {
      ctx.stderr.push(kept);
      ctx.stderrBytes += kept.length;
    }
  };
  /** Walks an iovec array; `fn` returns the bytes it moved, and a short move ends the walk. */
  const eachIovec = (iovs: number, count: number, fn: (ptr: number, len: number) => number): number => {
    const v = view();
    let total = 0;
    for (let i = 0; i < count; i++) {
      const len = v.getUint32(iovs + i * 8 + 4, true);
      const moved = fn(v.getUint32(iovs + i * 8, true), len);
      total += moved;
      if (moved < len) break;
    }
    return total;
  };
  const nowNs = (id: number): bigint =>
    id === 0 ? BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6)) : process.hrtime.bigint();

  const notCapable = () => ERRNO.NOTCAPABLE;
  const badf = () => ERRNO.BADF;
  const nosys = () => ERRNO.NOSYS;
  const stdioOnly = (fd: number, ok: () => number) => (fd >= 0 && fd <= 2 ? ok() : ERRNO.BADF);

  return {
    args_get: ((argv: number, buf: number) => writeStrings(ctx.args, argv, buf)) as never,
    args_sizes_get: ((c: number, s: number) => sizes(ctx.args, c, s)) as never,
    environ_get: ((envp: number, buf: number) => writeStrings(ctx.env, envp, buf)) as never,
    environ_sizes_get: ((c: number, s: number) => sizes(ctx.env, c, s)) as never,
    clock_res_get: ((id: number, out: number) => {
      if (id > 3) return ERRNO.INVAL;
      view().setBigUint64(out, 1000n, true);
      return ERRNO.SUCCESS;
    }) as never,
    clock_time_get: ((id: number, _precision: bigint, out: number) => {
      if (id > 3) return ERRNO.INVAL;
      view().setBigUint64(out, nowNs(id), true);
      return ERRNO.SUCCESS;
    }) as never,
    fd_read: ((fd: number, iovs: number, iovsLen: number, nread: number) => {
      if (fd !== 0) return ERRNO.BADF;
      const mem = bytes();
      const total = eachIovec(iovs, iovsLen, (ptr, len) => {
        const chunk = ctx.stdin.subarray(ctx.stdinPos, ctx.stdinPos + len);
        mem.set(chunk, ptr);
        ctx.stdinPos += chunk.length;
        return chunk.length;
      });
      view().setUint32(nread, total, true);
      return ERRNO.SUCCESS;
    }) as never,
    fd_write: ((fd: number, iovs: number, iovsLen: number, nwritten: number) => {
      if (fd !== 1 && fd !== 2) return ERRNO.BADF;
      const mem = bytes();
      const total = eachIovec(iovs, iovsLen, (ptr, len) => {
        output(fd, mem.subarray(ptr, ptr + len));
        return len;
      });
      view().setUint32(nwritten, total, true);
      return ERRNO.SUCCESS;
    }) as never,
    fd_fdstat_get: ((fd: number, out: number) =>
      stdioOnly(fd, () => {
        const v = view();
        v.setUint8(out, FILETYPE_CHARACTER_DEVICE);
        v.setUint16(out + 2, 0, true);
        v.setBigUint64(out + 8, fd === 0 ? RIGHTS_READ : RIGHTS_WRITE, true);
        v.setBigUint64(out + 16, 0n, true);
        return ERRNO.SUCCESS;
      })) as never,
    fd_fdstat_set_flags: ((fd: number) => stdioOnly(fd, () => ERRNO.SUCCESS)) as never,
    fd_close: ((fd: number) => stdioOnly(fd, () => ERRNO.SUCCESS)) as never,
    fd_seek: ((fd: number) => stdioOnly(fd, () => ERRNO.SPIPE)) as never,
    fd_tell: ((fd: number) => stdioOnly(fd, () => ERRNO.SPIPE)) as never,
    fd_pread: ((fd: number) => stdioOnly(fd, () => ERRNO.SPIPE)) as never,
    fd_pwrite: ((fd: number) => stdioOnly(fd, () => ERRNO.SPIPE)) as never,
    fd_sync: ((fd: number) => stdioOnly(fd, () => ERRNO.SUCCESS)) as never,
    fd_datasync: ((fd: number) => stdioOnly(fd, () => ERRNO.SUCCESS)) as never,
    fd_filestat_get: ((fd: number, out: number) =>
      stdioOnly(fd, () => {
        new Uint8Array(ctx.memory!.buffer, out, 64).fill(0);
        view().setUint8(out + 16, FILETYPE_CHARACTER_DEVICE);
        return ERRNO.SUCCESS;
      })) as never,
    // No preopened directories: wasi-libc stops scanning at the first EBADF.
    fd_prestat_get: badf as never,
    fd_prestat_dir_name: badf as never,
    fd_advise: badf as never,
    fd_allocate: badf as never,
    fd_fdstat_set_rights: badf as never,
    fd_filestat_set_size: badf as never,
    fd_filestat_set_times: badf as never,
    fd_readdir: badf as never,
    fd_renumber: badf as never,
    path_create_directory: notCapable as never,
    path_filestat_get: notCapable as never,
    path_filestat_set_times: notCapable as never,
    path_link: notCapable as never,
    path_open: notCapable as never,
    path_readlink: notCapable as never,
    path_remove_directory: notCapable as never,
    path_rename: notCapable as never,
    path_symlink: notCapable as never,
    path_unlink_file: notCapable as never,
    poll_oneoff: nosys as never,
    proc_exit: ((code: number) => {
      throw new ProcExit(code);
    }) as never,
    proc_raise: nosys as never,
    sched_yield: (() => ERRNO.SUCCESS) as never,
    random_get: ((buf: number, len: number) => {
      randomFillSync(bytes(), buf, len);
      return ERRNO.SUCCESS;
    }) as never,
    sock_accept: notCapable as never,
    sock_recv: notCapable as never,
    sock_send: notCapable as never,
    sock_shutdown: notCapable as never,
  };
}
