/**
 * The floor of the Wasm runtime's micro-benchmarks: the built-in fib's core module instantiated
 * and run on this thread over the runtime's own preview1 bindings, with no worker, pool or record.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { functionsDir } from '../../paths.js';
import type { MicroFloor } from '../runtime.js';
import { encodeGrants, HostContext, isStopSignal, OutputWriter, prepareStopSignal } from './host/context.js';
import { preview1Imports } from './host/preview1.js';

/** `new WebAssembly.Instance` + `_start` of fib with input 1, on this thread. */
export async function microFloor(): Promise<MicroFloor> {
  prepareStopSignal();
  const module = await WebAssembly.compile(await readFile(join(functionsDir(), 'wasm', 'core', 'fib.wasm')));
  const input = new TextEncoder().encode('1');
  const host = { ctx: new HostContext(encodeGrants(['fib'], {}), new OutputWriter(4096), new OutputWriter(4096)) };
  const imports = { wasi_snapshot_preview1: preview1Imports(host) };
  return {
    task: 'direct: new WebAssembly.Instance + _start, fib(1), this thread',
    covers:
      'a new instance of the compiled module with a newly mapped memory, and its _start, on the calling thread: no hand-over, no pooled memory, no record',
    invoke:
      'the hand-over to a worker that is already awake and polling, a fresh instance over a memory from the pool, zeroed rather than mapped anew, the run, the result and its record',
    run() {
      const { ctx } = host;
      ctx.beginRun(input, ctx.stdout, ctx.stderr);
      const instance = new WebAssembly.Instance(module, imports);
      ctx.memory = instance.exports.memory as WebAssembly.Memory;
      try {
        (instance.exports._start as () => void)();
      } catch (e) {
        if (!isStopSignal(e)) throw e;
      }
    },
  };
}
