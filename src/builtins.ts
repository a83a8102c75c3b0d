/** The built-in benchmark functions: one C source each, built for wasm32-wasi and as a static Linux binary. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { functionsDir } from './paths.js';
import type { FunctionSpec } from './types.js';

/** Names of the built-in functions. */
export const BUILTIN_NAMES = ['fib', 'exponential', 'factorial', 'prime', 'hash'] as const;
export type BuiltinName = (typeof BUILTIN_NAMES)[number];

const DESCRIPTIONS: Record<BuiltinName, string> = {
  fib: 'n-th Fibonacci number by naive recursion (input: n, 0..78)',
  exponential: 'e^n as a 64-bit float, Taylor series (input: n, -708..709)',
  factorial: 'n! exactly, as a decimal string (input: n, 0..20)',
  prime: 'n-th prime by brute-force trial division (input: n, 1..10000000)',
  hash: 'SHA-256 over a generated buffer of n KiB (input: n, 0..1048576)',
};

/** Linux architecture name of this host as Docker spells it. */
export function dockerArch(arch: string = process.arch): string {
  return arch === 'x64' ? 'amd64' : arch;
}

/**
 * The built-in functions as deployable specs: the committed wasm components in
 * `functions/wasm/` and the static binaries in `functions/bin/linux-<arch>/`, run in a container
 * and, on Linux where the binary for this machine exists, as a plain process.
 */
export function builtinFunctions(): FunctionSpec[] {
  const dir = functionsDir();
  const arch = dockerArch();
  return BUILTIN_NAMES.map((name) => {
    const binary = join(dir, 'bin', `linux-${arch}`, name);
    return {
      name,
      description: DESCRIPTIONS[name],
      builtin: true,
      wasm: join(dir, 'wasm', `${name}.wasm`),
      docker: { binary },
      ...(process.platform === 'linux' && existsSync(binary) ? { process: { binary } } : {}),
    };
  });
}
