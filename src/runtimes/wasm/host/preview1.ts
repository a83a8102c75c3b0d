/**
 * The WASI preview1 bindings, built once per worker over the context of the instance running
 * now (`host.ctx`): stdin is the invocation's input, stdout and stderr go to capped writers, args
 * and env are only what the function spec grants, there are no preopened directories and no
 * sockets, and `proc_exit` throws a typed value instead of ending the process. Work per call is
 * bounded (at most 1024 iovecs, like Linux's IOV_MAX) and nothing is allocated per byte written.
 */
import { randomFillSync } from 'node:crypto';
import { OutputLimitExit, ProcExit, type HostContext } from './context.js';

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

/** The preview1 functions this host provides; a module importing anything else is refused at deploy. */
export const PREVIEW1_FUNCTIONS = new Set([
  'args_get',
  'args_sizes_get',
  'environ_get',
  'environ_sizes_get',
  'clock_res_get',
  'clock_time_get',
  'fd_advise',
  'fd_allocate',
  'fd_close',
  'fd_datasync',
  'fd_fdstat_get',
  'fd_fdstat_set_flags',
  'fd_fdstat_set_rights',
  'fd_filestat_get',
  'fd_filestat_set_size',
  'fd_filestat_set_times',
  'fd_pread',
  'fd_prestat_get',
  'fd_prestat_dir_name',
  'fd_pwrite',
  'fd_read',
  'fd_readdir',
  'fd_renumber',
  'fd_seek',
  'fd_sync',
  'fd_tell',
  'fd_write',
  'path_create_directory',
  'path_filestat_get',
  'path_filestat_set_times',
  'path_link',
  'path_open',
  'path_readlink',
  'path_remove_directory',
  'path_rename',
  'path_symlink',
  'path_unlink_file',
  'poll_oneoff',
  'proc_exit',
  'proc_raise',
  'sched_yield',
  'random_get',
  'sock_accept',
  'sock_recv',
  'sock_send',
  'sock_shutdown',
]);

type Fn = (...args: never[]) => number;

/** Builds the `wasi_snapshot_preview1` import object, reading `host.ctx` on every call. */
export function preview1Imports(host: Host): Record<string, Fn> {
  const writeStrings = (list: Uint8Array[], ptrs: number, buf: number): number => {
    const ctx = host.ctx;
    const v = ctx.view();
    const mem = ctx.bytes();
    let at = buf;
    for (let i = 0; i < list.length; i++) {
      const data = list[i]!;
      if (at + data.length + 1 > mem.length) return ERRNO.FAULT;
      v.setUint32(ptrs + i * 4, at, true);
      mem.set(data, at);
      mem[at + data.length] = 0;
      at += data.length + 1;
    }
    return ERRNO.SUCCESS;
  };
  const sizes = (list: Uint8Array[], countPtr: number, sizePtr: number): number => {
    const v = host.ctx.view();
    v.setUint32(countPtr, list.length, true);
    v.setUint32(
      sizePtr,
      list.reduce((n, s) => n + s.length + 1, 0),
      true,
    );
    return ERRNO.SUCCESS;
  };
  const nowNs = (id: number): bigint =>
    id === 0 ? BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6)) : process.hrtime.bigint();
  const notCapable = () => ERRNO.NOTCAPABLE;
  const badf = () => ERRNO.BADF;
  const nosys = () => ERRNO.NOSYS;
  const stdioOnly = (fd: number, ok: () => number) => (fd >= 0 && fd <= 2 ? ok() : ERRNO.BADF);

  const imports: Record<string, (...args: never[]) => number> = {
    args_get: (argv: number, buf: number) => writeStrings(host.ctx.grants.args, argv, buf),
    args_sizes_get: (c: number, s: number) => sizes(host.ctx.grants.args, c, s),
    environ_get: (envp: number, buf: number) => writeStrings(host.ctx.grants.env, envp, buf),
    environ_sizes_get: (c: number, s: number) => sizes(host.ctx.grants.env, c, s),
    clock_res_get: (id: number, out: number) => {
      if (id > 3) return ERRNO.INVAL;
      host.ctx.view().setBigUint64(out, 1000n, true);
      return ERRNO.SUCCESS;
    },
    clock_time_get: (id: number, _precision: bigint, out: number) => {
      if (id > 3) return ERRNO.INVAL;
      host.ctx.view().setBigUint64(out, nowNs(id), true);
      return ERRNO.SUCCESS;
    },
    fd_read: (fd: number, iovs: number, iovsLen: number, nread: number) => {
      if (fd !== 0) return ERRNO.BADF;
      if (iovsLen > IOV_MAX) return ERRNO.INVAL;
      const ctx = host.ctx;
      const v = ctx.view();
      const mem = ctx.bytes();
      let total = 0;
      for (let i = 0; i < iovsLen; i++) {
        const ptr = v.getUint32(iovs + i * 8, true);
        const len = v.getUint32(iovs + i * 8 + 4, true);
        if (ptr + len > mem.length) return ERRNO.FAULT;
        const n = Math.min(len, ctx.stdin.length - ctx.stdinPos);
        if (n > 0) mem.set(ctx.stdin.subarray(ctx.stdinPos, ctx.stdinPos + n), ptr);
        ctx.stdinPos += n;
        total += n;
        if (n < len) break;
      }
      v.setUint32(nread, total, true);
      return ERRNO.SUCCESS;
    },
    fd_write: (fd: number, iovs: number, iovsLen: number, nwritten: number) => {
      if (fd !== 1 && fd !== 2) return ERRNO.BADF;
      if (iovsLen > IOV_MAX) return ERRNO.INVAL;
      const ctx = host.ctx;
      const v = ctx.view();
      const mem = ctx.bytes();
      const out = fd === 1 ? ctx.stdout : ctx.stderr;
      let total = 0;
      for (let i = 0; i < iovsLen; i++) {
        const ptr = v.getUint32(iovs + i * 8, true);
        const len = v.getUint32(iovs + i * 8 + 4, true);
        if (ptr + len > mem.length) return ERRNO.FAULT;
        // Past the stdout cap the result is lost whatever follows: stop the function now.
        if (!out.write(mem, ptr, len) && fd === 1) throw new OutputLimitExit();
        total += len;
      }
      v.setUint32(nwritten, total, true);
      return ERRNO.SUCCESS;
    },
    fd_fdstat_get: (fd: number, out: number) =>
      stdioOnly(fd, () => {
        const v = host.ctx.view();
        v.setUint8(out, FILETYPE_CHARACTER_DEVICE);
        v.setUint16(out + 2, 0, true);
        v.setBigUint64(out + 8, fd === 0 ? RIGHTS_READ : RIGHTS_WRITE, true);
        v.setBigUint64(out + 16, 0n, true);
        return ERRNO.SUCCESS;
      }),
    fd_fdstat_set_flags: (fd: number) => stdioOnly(fd, () => ERRNO.SUCCESS),
    fd_close: (fd: number) => stdioOnly(fd, () => ERRNO.SUCCESS),
    fd_seek: (fd: number) => stdioOnly(fd, () => ERRNO.SPIPE),
    fd_tell: (fd: number) => stdioOnly(fd, () => ERRNO.SPIPE),
    fd_pread: (fd: number) => stdioOnly(fd, () => ERRNO.SPIPE),
    fd_pwrite: (fd: number) => stdioOnly(fd, () => ERRNO.SPIPE),
    fd_sync: (fd: number) => stdioOnly(fd, () => ERRNO.SUCCESS),
    fd_datasync: (fd: number) => stdioOnly(fd, () => ERRNO.SUCCESS),
    fd_filestat_get: (fd: number, out: number) =>
      stdioOnly(fd, () => {
        const mem = host.ctx.bytes();
        if (out + 64 > mem.length) return ERRNO.FAULT;
        mem.fill(0, out, out + 64);
        mem[out + 16] = FILETYPE_CHARACTER_DEVICE;
        return ERRNO.SUCCESS;
      }),
    // No preopened directories: wasi-libc stops scanning at the first EBADF.
    fd_prestat_get: badf,
    fd_prestat_dir_name: badf,
    fd_advise: badf,
    fd_allocate: badf,
    fd_fdstat_set_rights: badf,
    fd_filestat_set_size: badf,
    fd_filestat_set_times: badf,
    fd_readdir: badf,
    fd_renumber: badf,
    poll_oneoff: nosys,
    proc_exit: (code: number) => {
      throw new ProcExit(code);
    },
    proc_raise: nosys,
    sched_yield: () => ERRNO.SUCCESS,
    random_get: (buf: number, len: number) => {
      const mem = host.ctx.bytes();
      if (buf + len > mem.length) return ERRNO.FAULT;
      randomFillSync(mem, buf, len);
      return ERRNO.SUCCESS;
    },
  };
  for (const name of PREVIEW1_FUNCTIONS)
    imports[name] ??= name.startsWith('path_') || name.startsWith('sock_') ? notCapable : nosys;
  return imports;
}
