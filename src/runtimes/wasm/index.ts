/**
 * WasmRuntime: WASI 0.2 command components (and preview1 modules, adapted with jco) run on a
 * pool of worker threads. PLACEHOLDER: the Foundation issue's Wasm work replaces the body.
 */
import { RuntimeUnavailableError } from '../../errors.js';
import type { FunctionSpec } from '../../types.js';
import type { Prepared, Runtime } from '../runtime.js';

/** Options of {@link WasmRuntime}. */
export interface WasmRuntimeOptions {
  /** Worker threads; default: the number of cores. */
  workers?: number;
  /** Where compiled artifacts are cached on disk; default `<os tmpdir>/nebula-faas-cache`. */
  cacheDir?: string;
  /** Instances kept ready per function in `warm` mode; default 2. */
  warmInstances?: number;
}

export class WasmRuntime implements Runtime {
  readonly kind = 'wasm' as const;
  constructor(readonly options: WasmRuntimeOptions = {}) {}
  async prepare(_fn: FunctionSpec): Promise<Prepared> {
    throw new RuntimeUnavailableError('WasmRuntime is not implemented yet');
  }
  async close(): Promise<void> {}
}
