/**
 * A tiny WASI command every worker runs through its own run path while it starts, so the first
 * real invocation does not pay for compiling the host's JavaScript (start-up work, never counted
 * in an invocation). It echoes stdin to stdout and asks for no memory; its text form:
 *
 * (module
 *   (import "wasi_snapshot_preview1" "fd_read" (func $read (param i32 i32 i32 i32) (result i32)))
 *   (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
 *   (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
 *   (memory (export "memory") 1)
 *   (func (export "_start")
 *     (i32.store (i32.const 0) (i32.const 64)) (i32.store (i32.const 4) (i32.const 64))
 *     (drop (call $read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 16)))
 *     (i32.store (i32.const 4) (i32.load (i32.const 16)))
 *     (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 20)))
 *     (drop (memory.grow (i32.const 0)))
 *     (call $exit (i32.const 0))))
 */
import { rewriteModule } from '../binary/module-rewrite.js';

/** The id the self-test function has in every worker (real functions start at 1). */
export const SELF_TEST_FN = 0;

const BYTES =
  'AGFzbQEAAAABEANgBH9/f38Bf2ABfwBgAAACZwMWd2FzaV9zbmFwc2hvdF9wcmV2aWV3MQdmZF9yZWFkAAAWd2FzaV9zbmFwc2hvdF9wcmV2aWV3MQhmZF93cml0ZQAAFndhc2lfc25hcHNob3RfcHJldmlldzEJcHJvY19leGl0AAEDAgECBQMBAAEHEwIGbWVtb3J5AgAGX3N0YXJ0AAMKPQE7AEEAQcAANgIAQQRBwAA2AgBBAEEAQQFBEBAAGkEEQRAoAgA2AgBBAUEAQQFBFBABGkEAQAAaQQAQAgsAGwRuYW1lARQDAARyZWFkAQV3cml0ZQIEZXhpdA==';

/** The self-test module, rewritten like any function's, and what the rewrite found. */
export function selfTestModule(): { module: WebAssembly.Module; facts: ReturnType<typeof rewriteModule>['facts'] } {
  const { bytes, facts } = rewriteModule(Buffer.from(BYTES, 'base64'), 1 << 20);
  return { module: new WebAssembly.Module(bytes as BufferSource), facts };
}
