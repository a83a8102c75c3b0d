/** The built-in benchmark functions: one C source each, built for wasm32-wasi and as a static Linux binary. */
import { join } from 'node:path';
import { functionsDir } from './paths.js';
import type { FunctionSpec } from './types.js';

/** Names of the built-in functions. */
export const BUILTIN_NAMES = ['fib', 'exponential', 'factorial', 'prime', 'hash'] as const;
export type BuiltinName = (typeof BUILTIN_NAMES)[number];

const DESCRIPTIONS: Record<BuiltinName, string> = {
  fib: 'n-th Fibonacci number, naive recursion (input: n, 0..92)',
  exponential: 'e^n as a 64-bit float (input: n)',
  factorial: 'n! exactly, as an unsigned 64-bit integer (input: n, 0..20)',
  prime: 'n-th prime number by brute-force trial division (input: n >= 1)',
  hash: 'SHA-256 over a generated buffer of n KiB (input: n)',
};

/** Linux architecture name of this host as Docker spells it. */
export function dockerArch(arch: string = process.arch): string {
  return arch === 'x64' ? 'amd64' : arch;
}

/**
 * The built-in functions as deployable specs: the committed wasm components in
 * `functions/wasm/` and the static binaries in `functions/bin/linux-<arch>/`.
 */
export function builtinFunctions(): FunctionSpec[] {
  const dir = functionsDir();
  const arch = dockerArch();
  return BUILTIN_NAMES.map((name) => ({
    name,
    description: DESCRIPTIONS[name],
    builtin: true,
    wasm: join(dir, 'wasm', `${name}.wasm`),
    docker: { binary: join(dir, 'bin', `linux-${arch}`, name), arch },
  }));
}
