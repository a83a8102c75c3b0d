/**
 * The WASI host under hostile calls: imports are checked by signature at deploy (a `proc_exit(i64)`
 * used to crash its worker on every run), every preview1 call given an out-of-bounds pointer
 * answers EFAULT (never a host error such as a RangeError trap), and a WASI 0.2 component passing
 * an out-of-bounds pointer traps as the component model says, failing only its own invocation.
 * Real worker threads, real modules.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from '@bytecodealliance/jco';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Nebula } from '../../../src/index.js';
import { call, command, i32, T, wasmModule } from './module-builder.js';

let nebula: Nebula;
let cacheDir: string;

beforeAll(async () => {
  cacheDir = mkdtempSync(join(tmpdir(), 'nebula-wasm-cache-'));
  nebula = new Nebula({ builtins: true, wasm: { cacheDir, workers: 2 } });
  await nebula.prepare(['fib'], ['wasm']);
});
afterAll(async () => {
  await nebula.close();
  rmSync(cacheDir, { recursive: true, force: true });
});

describe('imports checked by signature', () => {
  const wrong: Array<[string, number[], number[]]> = [
    ['proc_exit', [T.i64], []],
    ['proc_exit', [T.i32], [T.i32]],
    ['fd_write', [T.i32, T.i32, T.i32, T.i64], [T.i32]],
    ['fd_write', [T.i32, T.i32, T.i32], [T.i32]],
    ['clock_time_get', [T.i32, T.i32, T.i32], [T.i32]],
    ['random_get', [T.f64, T.f64], [T.i32]],
    ['args_get', [T.i32, T.i32], [T.i64]],
    ['sched_yield', [], []],
    ['fd_read', [T.i32, T.i32, T.i32, T.externref], [T.i32]],
  ];

  it('refuses an import of a WASI function with another signature, naming both', async () => {
    for (const [fn, params, results] of wrong) {
      // Valid modules: the proc_exit(i64) is called as declared, the others are only imported.
      const body = fn === 'proc_exit' && params[0] === T.i64 ? [0x42, 0x03, ...call(0)] : [];
      const bytes = command(body, {
        types: [
          [[T.i32], []],
          [[], []],
          [params, results],
        ],
        imports: [
          ['wasi_snapshot_preview1', 'proc_exit', fn === 'proc_exit' ? 2 : 0],
          ...(fn === 'proc_exit' ? [] : [['wasi_snapshot_preview1', fn, 2] as [string, string, number]]),
        ],
        code: [],
      });
      const err = await nebula.deploy({ name: 'sig', wasm: bytes }).catch((e: unknown) => e);
      expect(err, fn).toMatchObject({ code: 'INVALID_FUNCTION' });
      expect((err as Error).message).toContain(`imports "wasi_snapshot_preview1.${fn}" as (`);
      expect((err as Error).message).toMatch(/but WASI preview1 defines it as \(/);
    }
    expect(nebula.has('sig')).toBe(false);
    expect((await nebula.invoke('fib', 20)).result).toBe(6765);
  });

  it('runs the same imports with their WASI signatures', async () => {
    const bytes = command([...i32(0), ...call(0)], {
      types: [
        [[T.i32], []],
        [[], []],
        [[T.i32, T.i32, T.i32, T.i32], [T.i32]],
        [[T.i32, T.i64, T.i32], [T.i32]],
      ],
      imports: [
        ['wasi_snapshot_preview1', 'proc_exit', 0],
        ['wasi_snapshot_preview1', 'fd_write', 2],
        ['wasi_snapshot_preview1', 'clock_time_get', 3],
      ],
    });
    await nebula.deploy({ name: 'sig-ok', wasm: bytes });
    expect((await nebula.invoke('sig-ok', null)).ok).toBe(true);
  });
});

/**
 * Each preview1 call that takes a pointer, by its arguments: `p` a pointer (its own 256 valid
 * bytes), `n` a length (4), `v` an iovec array (one iovec of 4 valid bytes) and `c` its count (1),
 * `f` a stdio descriptor (1), `z` zero, `I` an i64 zero, `s` a subscription count (1).
 */
const CALLS: Record<string, string> = {
  args_get: 'pp',
  args_sizes_get: 'pp',
  environ_get: 'pp',
  environ_sizes_get: 'pp',
  clock_res_get: 'zp',
  clock_time_get: 'zIp',
  fd_fdstat_get: 'fp',
  fd_filestat_get: 'fp',
  fd_pread: 'fvcIp',
  fd_prestat_get: 'fp',
  fd_prestat_dir_name: 'fpn',
  fd_pwrite: 'fvcIp',
  fd_read: 'zvcp',
  fd_readdir: 'fpnIp',
  fd_seek: 'fIzp',
  fd_tell: 'fp',
  fd_write: 'fvcp',
  path_create_directory: 'fpn',
  path_filestat_get: 'fzpnp',
  path_filestat_set_times: 'fzpnIIz',
  path_link: 'fzpnfpn',
  path_open: 'fzpnzIIzp',
  path_readlink: 'fpnpnp',
  path_remove_directory: 'fpn',
  path_rename: 'fpnfpn',
  path_symlink: 'pnfpn',
  path_unlink_file: 'fpn',
  poll_oneoff: 'ppsp',
  random_get: 'pn',
  sock_accept: 'fzp',
  sock_recv: 'fvczpp',
  sock_send: 'fvczp',
};
const OOB = -16; // 0xfffffff0: 16 bytes below 4 GiB, far past one page
const ARGS_AT = 4096;
const IOVEC_AT = 1024;
const BAD_IOVEC_AT = 1040;
const RESULTS_AT = 2048;

/** The argument `k` of a call: valid, or out of bounds when `bad` is its index ('iov': the iovec's own buffer). */
function argument(role: string, k: number, bad: number | 'iov'): number[] {
  if (role === 'I') return [0x42, 0x00];
  if (k === bad) return i32(role === 'v' ? OOB : role === 'p' ? OOB : 0);
  if (role === 'p') return i32(ARGS_AT + k * 256);
  if (role === 'v') return i32(bad === 'iov' ? BAD_IOVEC_AT : IOVEC_AT);
  if (role === 'n') return i32(4);
  if (role === 'c' || role === 's' || role === 'f') return i32(1);
  return i32(0);
}

describe('preview1 calls given out-of-bounds pointers', () => {
  it('answers EFAULT for every pointer of every call, directly or in an iovec, and never traps', async () => {
    const names = Object.keys(CALLS);
    const types: Array<[number[], number[]]> = [
      [[T.i32], []],
      [[], []],
    ];
    const imports: Array<[string, string, number]> = [['wasi_snapshot_preview1', 'proc_exit', 0]];
    for (const fn of names) {
      types.push([[...CALLS[fn]!].map((r) => (r === 'I' ? T.i64 : T.i32)), [T.i32]]);
      imports.push(['wasi_snapshot_preview1', fn, types.length - 1]);
    }
    const cases: Array<{ fn: string; bad: number | 'iov' }> = [];
    for (const fn of names) {
      const roles = [...CALLS[fn]!];
      roles.forEach((r, k) => {
        if (r === 'p' || r === 'v') cases.push({ fn, bad: k });
      });
      if (roles.includes('v')) cases.push({ fn, bad: 'iov' });
    }
    const body: number[] = [
      // The valid iovec at IOVEC_AT: 4 bytes at 8192; the bad one at BAD_IOVEC_AT: 16 bytes at OOB.
      ...i32(IOVEC_AT),
      ...i32(8192),
      0x36,
      0x02,
      0x00,
      ...i32(IOVEC_AT + 4),
      ...i32(4),
      0x36,
      0x02,
      0x00,
      ...i32(BAD_IOVEC_AT),
      ...i32(OOB),
      0x36,
      0x02,
      0x00,
      ...i32(BAD_IOVEC_AT + 4),
      ...i32(16),
      0x36,
      0x02,
      0x00,
    ];
    cases.forEach(({ fn, bad }, i) => {
      // results[i] = '0' + errno
      body.push(...i32(RESULTS_AT + i));
      [...CALLS[fn]!].forEach((role, k) => body.push(...argument(role, k, bad)));
      body.push(...call(1 + names.indexOf(fn)), ...i32(0x30), 0x6a, 0x3a, 0x00, 0x00);
    });
    // fd_write(1, iovec at 0 = (RESULTS_AT, cases.length), 1, 8): print the results, then exit 0.
    const write = 1 + names.indexOf('fd_write');
    body.push(...i32(0), ...i32(RESULTS_AT), 0x36, 0x02, 0x00, ...i32(4), ...i32(cases.length), 0x36, 0x02, 0x00);
    body.push(...i32(1), ...i32(0), ...i32(1), ...i32(8), ...call(write), 0x1a, ...i32(0), ...call(0));
    const bytes = wasmModule({
      types,
      imports,
      funcs: [1],
      memories: [[0x00, 1]],
      exports: [
        ['memory', 2, 0],
        ['_start', 0, imports.length],
      ],
      code: [[0x00, ...body, 0x0b]],
    });
    await nebula.deploy({ name: 'oob', wasm: bytes });
    for (const mode of ['cold', 'prewarmed', 'warm'] as const) {
      const rec = await nebula.invoke('oob', null, { mode });
      expect(rec.error).toBeUndefined();
      const errnos = [...String(rec.result)].map((c) => c.charCodeAt(0) - 0x30);
      const answers = Object.fromEntries(cases.map((c, i) => [`${c.fn}#${String(c.bad)}`, errnos[i]]));
      expect(answers).toEqual(Object.fromEntries(cases.map((c) => [`${c.fn}#${String(c.bad)}`, 21])));
    }
  });

  it('answers EFAULT for a region that starts inside the memory and runs past its end', async () => {
    // clock_time_get(0, 0, 65532): 8 bytes from 4 bytes before the end; random_get(65535, 2).
    const bytes = command(
      [...i32(0), 0x42, 0x00, ...i32(65532), ...call(1), ...i32(65535), ...i32(2), ...call(2), 0x6a, ...call(0)],
      {
        types: [
          [[T.i32], []],
          [[], []],
          [[T.i32, T.i64, T.i32], [T.i32]],
          [[T.i32, T.i32], [T.i32]],
        ],
        imports: [
          ['wasi_snapshot_preview1', 'proc_exit', 0],
          ['wasi_snapshot_preview1', 'clock_time_get', 2],
          ['wasi_snapshot_preview1', 'random_get', 3],
        ],
      },
    );
    await nebula.deploy({ name: 'edge', wasm: bytes });
    const rec = await nebula.invoke('edge', null);
    expect(rec.error).toMatchObject({ code: 'FUNCTION_FAILED', exitCode: 42 });
  });
});

describe('WASI 0.2 calls given out-of-bounds pointers', () => {
  it("traps the component's own invocation (the canonical ABI's answer), and nothing else fails", async () => {
    // get-random-bytes returns a list through a return pointer: -16 lies past the memory.
    const component = await parse(`(component
      (import "wasi:random/random@0.2.0" (instance $r (export "get-random-bytes" (func (param "len" u64) (result (list u8))))))
      (core module $Mem (memory (export "mem") 1) (func (export "realloc") (param i32 i32 i32 i32) (result i32) i32.const 1024))
      (core instance $mem (instantiate $Mem))
      (alias export $r "get-random-bytes" (func $grb))
      (core func $lowered (canon lower (func $grb) (memory (core memory $mem "mem")) (realloc (core func $mem "realloc"))))
      (core module $Main
        (import "host" "grb" (func $grb (param i64 i32)))
        (func (export "run") (result i32) (call $grb (i64.const 4) (i32.const ${OOB})) i32.const 0))
      (core instance $main (instantiate $Main (with "host" (instance (export "grb" (func $lowered))))))
      (func $run (result (result)) (canon lift (core func $main "run")))
      (instance $inst (export "run" (func $run)))
      (export "wasi:cli/run@0.2.0" (instance $inst)))`);
    await nebula.deploy({ name: 'oob-p2', wasm: component });
    const [rec, others] = await Promise.all([
      nebula.invoke('oob-p2', null),
      Promise.all(Array.from({ length: 8 }, () => nebula.invoke('fib', 15))),
    ]);
    expect(rec.error).toMatchObject({ code: 'FUNCTION_FAILED' });
    expect(rec.error?.message).toMatch(/trapped/);
    expect(others.every((r) => r.result === 610)).toBe(true);
  });
});
