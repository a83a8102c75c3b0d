/**
 * The WASI preview1 bindings, built once per worker over the context of the instance running
 * now (`host.ctx`): stdin is the invocation's input, stdout and stderr go to capped writers, args
 * and env are only what the function spec grants, there are no preopened directories and no
 * sockets, and `proc_exit` ends the run in a way the module cannot catch. Every pointer a call is
 * given (directly, or in an iovec) is checked against the memory before anything else: one out of
 * bounds gives EFAULT, never a host error. Work per call is bounded (at most 1024 iovecs, like
 * Linux's IOV_MAX) and nothing is allocated per byte written.
 */
import { randomFillSync } from 'node:crypto';
import type { HostContext } from './context.js';

const ERRNO = { SUCCESS: 0, BADF: 8, FAULT: 21, INVAL: 28, NOSYS: 52, SPIPE: 70, NOTCAPABLE: 76 } as const;
const FILETYPE_CHARACTER_DEVICE = 2;
/** Rights of the stdio descriptors: fd_read (bit 1) or fd_write (bit 6). */
const RIGHTS_READ = 0x2n;
const RIGHTS_WRITE = 0x40n;
const IOV_MAX = 1024;

/** Where the bindings find the instance they serve: set by the worker before it instantiates or runs one. */
export interface Host {
  ctx: HostContext;
}

/**
 * Every preview1 function with its signature as `params:results` (`i` i32, `I` i64), from
 * wasi_snapshot_preview1.witx. A module importing a name that is not here, or one of these with
 * another signature, is refused at deploy: the host never sees an argument of the wrong type.
 */
const SIGNATURES = {
  args_get: 'ii:i',
  args_sizes_get: 'ii:i',
  environ_get: 'ii:i',
  environ_sizes_get: 'ii:i',
  clock_res_get: 'ii:i',
  clock_time_get: 'iIi:i',
  fd_advise: 'iIIi:i',
  fd_allocate: 'iII:i',
  fd_close: 'i:i',
  fd_datasync: 'i:i',
  fd_fdstat_get: 'ii:i',
  fd_fdstat_set_flags: 'ii:i',
  fd_fdstat_set_rights: 'iII:i',
  fd_filestat_get: 'ii:i',
  fd_filestat_set_size: 'iI:i',
  fd_filestat_set_times: 'iIIi:i',
  fd_pread: 'iiiIi:i',
  fd_prestat_get: 'ii:i',
  fd_prestat_dir_name: 'iii:i',
  fd_pwrite: 'iiiIi:i',
  fd_read: 'iiii:i',
  fd_readdir: 'iiiIi:i',
  fd_renumber: 'ii:i',
  fd_seek: 'iIii:i',
  fd_sync: 'i:i',
  fd_tell: 'ii:i',
  fd_write: 'iiii:i',
  path_create_directory: 'iii:i',
  path_filestat_get: 'iiiii:i',
  path_filestat_set_times: 'iiiiIIi:i',
  path_link: 'iiiiiii:i',
  path_open: 'iiiiiIIii:i',
  path_readlink: 'iiiiii:i',
  path_remove_directory: 'iii:i',
  path_rename: 'iiiiii:i',
  path_symlink: 'iiiii:i',
  path_unlink_file: 'iii:i',
  poll_oneoff: 'iiii:i',
  proc_exit: 'i:',
  proc_raise: 'i:i',
  sched_yield: ':i',
  random_get: 'ii:i',
  sock_accept: 'iii:i',
  sock_recv: 'iiiiii:i',
  sock_send: 'iiiii:i',
  sock_shutdown: 'ii:i',
} as const;

type Preview1Name = keyof typeof SIGNATURES;

/** The preview1 functions this host provides, with their signatures as `module-info.ts` writes them (`7f,7e->7f`). */
export const PREVIEW1_SIGNATURES: ReadonlyMap<string, string> = new Map(
  Object.entries(SIGNATURES).map(([name, sig]) => {
    const [params, results] = sig.split(':') as [string, string];
    const types = (s: string) => [...s].map((c) => (c === 'i' ? '7f' : '7e')).join(',');
    return [name, `${types(params)}->${types(results)}`];
  }),
);

type Fn = (...args: never[]) => number;

/** Builds the `wasi_snapshot_preview1` import object, reading `host.ctx` on every call. */
export function preview1Imports(host: Host): Record<string, Fn> {
  // i32 arguments arrive as signed numbers: pointers and lengths are read as unsigned (`>>> 0`).
  // The memory's size is read once per call (`memory.buffer` is a call into the engine).
  /** True when [ptr, ptr + len) lies in memory of `size` bytes. */
  const within = (size: number, ptr: number, len: number): boolean => (ptr >>> 0) + (len >>> 0) <= size;
  /** True when [ptr, ptr + len) lies in the memory. */
  const inside = (ptr: number, len: number): boolean => within(host.ctx.bytes().length, ptr, len);
  /** Checks an iovec array and its buffers: EFAULT out of bounds, EINVAL past IOV_MAX, else SUCCESS. */
  const checkIovecs = (v: DataView, iovs: number, count: number): number => {
    const size = v.byteLength;
    if (!within(size, iovs, (count >>> 0) * 8)) return ERRNO.FAULT;
    if (count >>> 0 > IOV_MAX) return ERRNO.INVAL;
    const at = iovs >>> 0;
    for (let i = 0; i < count; i++)
      if (!within(size, v.getUint32(at + i * 8, true), v.getUint32(at + i * 8 + 4, true))) return ERRNO.FAULT;
    return ERRNO.SUCCESS;
  };
  const iovecs = (iovs: number, count: number): number => checkIovecs(host.ctx.view(), iovs, count);
  const writeStrings = (list: Uint8Array[], ptrs: number, buf: number): number => {
    const size = list.reduce((n, s) => n + s.length + 1, 0);
    if (!inside(ptrs, list.length * 4) || !inside(buf, size)) return ERRNO.FAULT;
    const ctx = host.ctx;
    const v = ctx.view();
    const mem = ctx.bytes();
    let at = buf >>> 0;
    for (let i = 0; i < list.length; i++) {
      const data = list[i]!;
      v.setUint32((ptrs >>> 0) + i * 4, at, true);
      mem.set(data, at);
      mem[at + data.length] = 0;
      at += data.length + 1;
    }
    return ERRNO.SUCCESS;
  };
  const sizes = (list: Uint8Array[], countPtr: number, sizePtr: number): number => {
    if (!inside(countPtr, 4) || !inside(sizePtr, 4)) return ERRNO.FAULT;
    const v = host.ctx.view();
    v.setUint32(countPtr >>> 0, list.length, true);
    v.setUint32(
      sizePtr >>> 0,
      list.reduce((n, s) => n + s.length + 1, 0),
      true,
    );
    return ERRNO.SUCCESS;
  };
  const nowNs = (id: number): bigint =>
    id === 0 ? BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6)) : process.hrtime.bigint();
  const stdio = (fd: number) => fd >= 0 && fd <= 2;
  /** `then` for stdio descriptors, EBADF for any other. */
  const onStdio = (fd: number, then: number) => (stdio(fd) ? then : ERRNO.BADF);
  /** A call whose pointers lie at `regions` ([pointer, length] pairs): EFAULT if one is out of bounds, else `answer`. */
  const checked = (answer: number, ...regions: number[]): number => {
    for (let i = 0; i < regions.length; i += 2) if (!inside(regions[i]!, regions[i + 1]!)) return ERRNO.FAULT;
    return answer;
  };

  const imports: Record<Preview1Name, Fn> = {
    args_get: (argv: number, buf: number) => writeStrings(host.ctx.grants.args, argv, buf),
    args_sizes_get: (c: number, s: number) => sizes(host.ctx.grants.args, c, s),
    environ_get: (envp: number, buf: number) => writeStrings(host.ctx.grants.env, envp, buf),
    environ_sizes_get: (c: number, s: number) => sizes(host.ctx.grants.env, c, s),
    clock_res_get: (id: number, out: number) => {
      if (!inside(out, 8)) return ERRNO.FAULT;
      if (id >>> 0 > 3) return ERRNO.INVAL;
      host.ctx.view().setBigUint64(out >>> 0, 1000n, true);
      return ERRNO.SUCCESS;
    },
    clock_time_get: (id: number, _precision: bigint, out: number) => {
      if (!inside(out, 8)) return ERRNO.FAULT;
      if (id >>> 0 > 3) return ERRNO.INVAL;
      host.ctx.view().setBigUint64(out >>> 0, nowNs(id), true);
      return ERRNO.SUCCESS;
    },
    fd_read: (fd: number, iovs: number, iovsLen: number, nread: number) => {
      const ctx = host.ctx;
      const v = ctx.view();
      if (!within(v.byteLength, nread, 4)) return ERRNO.FAULT;
      const checkedIovs = checkIovecs(v, iovs, iovsLen);
      if (checkedIovs !== ERRNO.SUCCESS) return checkedIovs;
      if (fd !== 0) return ERRNO.BADF;
      const mem = ctx.bytes();
      let total = 0;
      for (let i = 0; i < iovsLen; i++) {
        const ptr = v.getUint32((iovs >>> 0) + i * 8, true);
        const len = v.getUint32((iovs >>> 0) + i * 8 + 4, true);
        const n = Math.min(len, ctx.stdin.length - ctx.stdinPos);
        if (n > 0) mem.set(ctx.stdin.subarray(ctx.stdinPos, ctx.stdinPos + n), ptr);
        ctx.stdinPos += n;
        total += n;
        if (n < len) break;
      }
      v.setUint32(nread >>> 0, total, true);
      return ERRNO.SUCCESS;
    },
    fd_write: (fd: number, iovs: number, iovsLen: number, nwritten: number) => {
      const ctx = host.ctx;
      const v = ctx.view();
      if (!within(v.byteLength, nwritten, 4)) return ERRNO.FAULT;
      const checkedIovs = checkIovecs(v, iovs, iovsLen);
      if (checkedIovs !== ERRNO.SUCCESS) return checkedIovs;
      if (fd !== 1 && fd !== 2) return ERRNO.BADF;
      const mem = ctx.bytes();
      const out = fd === 1 ? ctx.stdout : ctx.stderr;
      let total = 0;
      for (let i = 0; i < iovsLen; i++) {
        const ptr = v.getUint32((iovs >>> 0) + i * 8, true);
        const len = v.getUint32((iovs >>> 0) + i * 8 + 4, true);
        // Past the stdout cap the result is lost whatever follows: stop the function now.
        if (!out.write(mem, ptr, len) && fd === 1) ctx.outputFull();
        total += len;
      }
      v.setUint32(nwritten >>> 0, total, true);
      return ERRNO.SUCCESS;
    },
    fd_fdstat_get: (fd: number, out: number) => {
      const v = host.ctx.view();
      if (!within(v.byteLength, out, 24)) return ERRNO.FAULT;
      if (!stdio(fd)) return ERRNO.BADF;
      v.setUint8(out >>> 0, FILETYPE_CHARACTER_DEVICE);
      v.setUint8((out >>> 0) + 1, 0);
      v.setUint16((out >>> 0) + 2, 0, true);
      v.setUint32((out >>> 0) + 4, 0, true);
      v.setBigUint64((out >>> 0) + 8, fd === 0 ? RIGHTS_READ : RIGHTS_WRITE, true);
      v.setBigUint64((out >>> 0) + 16, 0n, true);
      return ERRNO.SUCCESS;
    },
    fd_filestat_get: (fd: number, out: number) => {
      if (!inside(out, 64)) return ERRNO.FAULT;
      if (!stdio(fd)) return ERRNO.BADF;
      const mem = host.ctx.bytes();
      mem.fill(0, out >>> 0, (out >>> 0) + 64);
      mem[(out >>> 0) + 16] = FILETYPE_CHARACTER_DEVICE;
      return ERRNO.SUCCESS;
    },
    fd_fdstat_set_flags: (fd: number) => onStdio(fd, ERRNO.SUCCESS),
    fd_close: (fd: number) => onStdio(fd, ERRNO.SUCCESS),
    fd_sync: (fd: number) => onStdio(fd, ERRNO.SUCCESS),
    fd_datasync: (fd: number) => onStdio(fd, ERRNO.SUCCESS),
    fd_seek: (fd: number, _offset: bigint, _whence: number, out: number) => checked(onStdio(fd, ERRNO.SPIPE), out, 8),
    fd_tell: (fd: number, out: number) => checked(onStdio(fd, ERRNO.SPIPE), out, 8),
    fd_pread: (fd: number, iovs: number, iovsLen: number, _offset: bigint, nread: number) =>
      checked(iovecs(iovs, iovsLen) || onStdio(fd, ERRNO.SPIPE), nread, 4),
    fd_pwrite: (fd: number, iovs: number, iovsLen: number, _offset: bigint, nwritten: number) =>
      checked(iovecs(iovs, iovsLen) || onStdio(fd, ERRNO.SPIPE), nwritten, 4),
    // No preopened directories: wasi-libc stops scanning at the first EBADF.
    fd_prestat_get: (_fd: number, out: number) => checked(ERRNO.BADF, out, 8),
    fd_prestat_dir_name: (_fd: number, path: number, len: number) => checked(ERRNO.BADF, path, len),
    fd_readdir: (_fd: number, buf: number, len: number, _cookie: bigint, used: number) =>
      checked(ERRNO.BADF, buf, len, used, 4),
    fd_advise: () => ERRNO.BADF,
    fd_allocate: () => ERRNO.BADF,
    fd_fdstat_set_rights: () => ERRNO.BADF,
    fd_filestat_set_size: () => ERRNO.BADF,
    fd_filestat_set_times: () => ERRNO.BADF,
    fd_renumber: () => ERRNO.BADF,
    // No directory was granted: every path operation is refused, after its pointers are checked.
    path_create_directory: (_fd: number, path: number, len: number) => checked(ERRNO.NOTCAPABLE, path, len),
    path_filestat_get: (_fd: number, _flags: number, path: number, len: number, out: number) =>
      checked(ERRNO.NOTCAPABLE, path, len, out, 64),
    path_filestat_set_times: (_fd: number, _flags: number, path: number, len: number) =>
      checked(ERRNO.NOTCAPABLE, path, len),
    path_link: (_fd: number, _flags: number, old: number, oldLen: number, _newFd: number, path: number, len: number) =>
      checked(ERRNO.NOTCAPABLE, old, oldLen, path, len),
    path_open: (
      _fd: number,
      _dirflags: number,
      path: number,
      len: number,
      _oflags: number,
      _base: bigint,
      _inheriting: bigint,
      _fdflags: number,
      opened: number,
    ) => checked(ERRNO.NOTCAPABLE, path, len, opened, 4),
    path_readlink: (_fd: number, path: number, len: number, buf: number, bufLen: number, used: number) =>
      checked(ERRNO.NOTCAPABLE, path, len, buf, bufLen, used, 4),
    path_remove_directory: (_fd: number, path: number, len: number) => checked(ERRNO.NOTCAPABLE, path, len),
    path_rename: (_fd: number, old: number, oldLen: number, _newFd: number, path: number, len: number) =>
      checked(ERRNO.NOTCAPABLE, old, oldLen, path, len),
    path_symlink: (old: number, oldLen: number, _fd: number, path: number, len: number) =>
      checked(ERRNO.NOTCAPABLE, old, oldLen, path, len),
    path_unlink_file: (_fd: number, path: number, len: number) => checked(ERRNO.NOTCAPABLE, path, len),
    // Subscriptions are 48 bytes, events 32.
    poll_oneoff: (subs: number, events: number, n: number, nevents: number) =>
      checked(ERRNO.NOSYS, subs, (n >>> 0) * 48, events, (n >>> 0) * 32, nevents, 4),
    proc_exit: (code: number) => host.ctx.exit(code),
    proc_raise: () => ERRNO.NOSYS,
    sched_yield: () => ERRNO.SUCCESS,
    random_get: (buf: number, len: number) => {
      if (!inside(buf, len)) return ERRNO.FAULT;
      randomFillSync(host.ctx.bytes(), buf >>> 0, len >>> 0);
      return ERRNO.SUCCESS;
    },
    sock_accept: (_fd: number, _flags: number, out: number) => checked(ERRNO.NOTCAPABLE, out, 4),
    sock_recv: (_fd: number, iovs: number, iovsLen: number, _flags: number, len: number, flags: number) =>
      checked(iovecs(iovs, iovsLen) || ERRNO.NOTCAPABLE, len, 4, flags, 2),
    sock_send: (_fd: number, iovs: number, iovsLen: number, _flags: number, len: number) =>
      checked(iovecs(iovs, iovsLen) || ERRNO.NOTCAPABLE, len, 4),
    sock_shutdown: () => ERRNO.NOTCAPABLE,
  };
  return imports;
}
