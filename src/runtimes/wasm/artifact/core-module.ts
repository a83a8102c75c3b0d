/**
 * One core module from bytes to a compiled module the host can run without harm: read, planned
 * within the memory cap (linear memory and what an instance makes the host hold beside it),
 * rewritten (or only capped) and compiled. Every refusal is `INVALID_FUNCTION` saying whose fault
 * it is: the module's, or, when only the host's rewrite made it fail to compile, the rewrite's.
 */
import { DoesNotFit } from '../binary/host-memory.js';
import { rewriteModule, type Rewritten } from '../binary/module-rewrite.js';
import { Unsupported } from '../binary/codec.js';
import { compile, refuse } from './checks.js';

/**
 * Reads and plans a core module and rewrites it (`rewrite: false`: only its memory and table
 * maxima are written, as for jco's glue modules).
 * @throws NebulaError `INVALID_FUNCTION` for bytes that do not validate, a feature the host cannot
 * bound, or an instance that would not fit its memory cap.
 */
export async function planModule(
  name: string,
  bytes: Uint8Array,
  capBytes: number,
  rewrite = true,
): Promise<Rewritten> {
  try {
    return rewriteModule(bytes, capBytes, rewrite);
  } catch (e) {
    if (e instanceof DoesNotFit) throw refuse(name, e.message, e);
    if (!(e instanceof Unsupported)) throw e;
    // Malformed bytes: the engine says best what is wrong with them.
    await compile(name, bytes);
    throw refuse(
      name,
      `it uses a WebAssembly feature whose host memory the runtime cannot bound, so it cannot run here: ${e.message}.`,
      e,
    );
  }
}

/**
 * Compiles a planned module. Should the rewritten bytes not compile while the module's own do,
 * the module runs with only its maxima written; failing that, the message says the host's rewrite
 * is the cause.
 */
export async function compilePlanned(
  name: string,
  original: Uint8Array,
  planned: Rewritten,
  capBytes: number,
): Promise<{ module: WebAssembly.Module; planned: Rewritten }> {
  try {
    return { module: await compile(name, planned.bytes), planned };
  } catch (e) {
    await compile(name, original); // the module's own fault: the engine's message about its own bytes
    if (planned.facts.pooledMemory) {
      const capped = rewriteModule(original, capBytes, false);
      try {
        return { module: await compile(name, capped.bytes), planned: capped };
      } catch {
        // reported below
      }
    }
    throw refuse(
      name,
      `the module validates, but the runtime's own rewrite of it (memory and table maxima for limits.memoryMiB) does not: ${(e as Error).message.replace(/^Function "[^"]*": /, '')}. This is a fault of the runtime, not of the module.`,
      e,
    );
  }
}
