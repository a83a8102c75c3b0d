/**
 * The CPU time of the thread that calls it, from the kernel's per-thread clock: what a Wasm run
 * used on its worker thread, with nothing of the other threads of the process in it.
 *
 * Node 23.9 and later have `process.threadCpuUsage()` (user and system, microseconds). Node 20
 * has no such call; its WASI implementation (uvwasi) is the one part of it that reads
 * `CLOCK_THREAD_CPUTIME_ID` (nanoseconds, exact to the moment of the call: the kernel brings the
 * running thread's count up to date first, where `/proc/thread-self/schedstat` lags by up to a
 * scheduler tick). A six-instruction module calls its `clock_time_get` for the thread clock.
 */
import { createRequire } from 'node:module';

/** Reads the calling thread's CPU time into `into`: [total, user, system] ms (user and system NaN when the clock does not split them). */
export type ThreadCpuClock = (into: Float64Array) => void;

/**
 * (module (import "wasi_snapshot_preview1" "clock_time_get" (func (param i32 i64 i32) (result i32)))
 *   (memory (export "memory") 1)
 *   (func (export "now") (result i64)
 *     (drop (call 0 (i32.const 3) (i64.const 1) (i32.const 0))) (i64.load (i32.const 0))))
 * Clock id 3 is WASI's thread_cputime_id.
 */
const THREAD_CLOCK_MODULE = new Uint8Array([
  0x00,
  0x61,
  0x73,
  0x6d,
  0x01,
  0x00,
  0x00,
  0x00,
  0x01,
  0x0c,
  0x02,
  0x60,
  0x03,
  0x7f,
  0x7e,
  0x7f,
  0x01,
  0x7f,
  0x60,
  0x00,
  0x01,
  0x7e,
  0x02,
  0x29,
  0x01,
  0x16,
  ...new TextEncoder().encode('wasi_snapshot_preview1'),
  0x0e,
  ...new TextEncoder().encode('clock_time_get'),
  0x00,
  0x00,
  0x03,
  0x02,
  0x01,
  0x01,
  0x05,
  0x03,
  0x01,
  0x00,
  0x01,
  0x07,
  0x10,
  0x02,
  0x06,
  ...new TextEncoder().encode('memory'),
  0x02,
  0x00,
  0x03,
  ...new TextEncoder().encode('now'),
  0x00,
  0x01,
  0x0a,
  0x12,
  0x01,
  0x10,
  0x00,
  0x41,
  0x03,
  0x42,
  0x01,
  0x41,
  0x00,
  0x10,
  0x00,
  0x1a,
  0x41,
  0x00,
  0x29,
  0x03,
  0x00,
  0x0b,
]);

interface WasiLike {
  wasiImport: WebAssembly.ModuleImports;
  initialize(instance: WebAssembly.Instance): void;
}

/** The thread's CPU clock, or why this Node cannot read one. */
export function threadCpuClock(): ThreadCpuClock | string {
  const p = process as { threadCpuUsage?: () => { user: number; system: number } };
  if (typeof p.threadCpuUsage === 'function')
    return (into) => {
      const u = p.threadCpuUsage!();
      into[1] = u.user / 1000;
      into[2] = u.system / 1000;
      into[0] = into[1] + into[2];
    };
  try {
    // Loading node:wasi warns that WASI is experimental; that is about running WASI programs,
    // not this one clock call, and the warning would reach the host's stderr: not shown.
    const warn = process.emitWarning.bind(process);
    let WASI: new (o: { version: string }) => WasiLike;
    process.emitWarning = () => undefined;
    try {
      ({ WASI } = createRequire(import.meta.url)('node:wasi') as { WASI: typeof WASI });
    } finally {
      process.emitWarning = warn;
    }
    const wasi = new WASI({ version: 'preview1' });
    const instance = new WebAssembly.Instance(new WebAssembly.Module(THREAD_CLOCK_MODULE), {
      wasi_snapshot_preview1: wasi.wasiImport,
    });
    wasi.initialize(instance);
    const now = instance.exports.now as () => bigint;
    if (!(now() > 0n)) return 'the thread CPU clock gave no reading';
    return (into) => {
      into[0] = Number(now()) / 1e6;
      into[1] = Number.NaN;
      into[2] = Number.NaN;
    };
  } catch (e) {
    return `this Node cannot read a thread's CPU clock (${e instanceof Error ? e.message : String(e)})`;
  }
}
