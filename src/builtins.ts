/**
 * The built-in benchmark functions: one C source each, built by clang -O2 for wasm32-wasi and as
 * static Linux binaries per architecture; what each takes, and how every artifact was built. Which
 * artifact a runtime runs is its descriptor's to say (`runtimes/registry.ts`, `builtinFunctions`).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { functionsDir } from './paths.js';

/** Names of the built-in functions. */
export const BUILTIN_NAMES = ['fib', 'exponential', 'factorial', 'prime', 'hash', 'primecount'] as const;
export type BuiltinName = (typeof BUILTIN_NAMES)[number];

/** A built-in's input: n, or `{ n, repeat }` to compute the same result `repeat` times (1 to 10^9). */
export type BuiltinInput = number | { n: number; repeat?: number };

/** What a built-in computes and takes, and the inputs the bench tools give it. */
export interface BuiltinInfo {
  /** One line: what it computes, and its input. */
  description: string;
  /** The JSON type of its result. */
  output: 'number' | 'string';
  /** Smallest and largest n it accepts; anything else exits 2 with a message. */
  range: readonly [min: number, max: number];
  /** The input of experiments unless they name one (`Experiment`, `nebula bench`). */
  defaultInput: BuiltinInput;
  /** The input of `nebula bench --quick`: a run of well under a millisecond. */
  quickInput: BuiltinInput;
  /** An input that runs 100 ms or more natively on a 2-core x86-64 machine (`bench/wasm-vs-native.mjs`). */
  longInput: BuiltinInput;
}

/** The built-ins, in one place: descriptions, ranges and the inputs every tool uses. */
export const BUILTINS: Readonly<Record<BuiltinName, BuiltinInfo>> = {
  fib: {
    description: 'n-th Fibonacci number by naive recursion (input: n, 0..78)',
    output: 'number',
    range: [0, 78],
    defaultInput: 30,
    quickInput: 25,
    longInput: 38,
  },
  exponential: {
    description: 'e^n as a 64-bit float, Taylor series (input: n, -708..709)',
    output: 'number',
    range: [-708, 709],
    defaultInput: 500,
    quickInput: 100,
    longInput: { n: 709, repeat: 60000 },
  },
  factorial: {
    description: 'n! exactly, as a decimal string (input: n, 0..20)',
    output: 'string',
    range: [0, 20],
    defaultInput: 20,
    quickInput: 20,
    longInput: { n: 20, repeat: 15000000 },
  },
  prime: {
    description: 'n-th prime by brute-force trial division (input: n, 1..10000000)',
    output: 'number',
    range: [1, 10000000],
    defaultInput: 20000,
    quickInput: 2000,
    longInput: 100000,
  },
  hash: {
    description: 'SHA-256 over a generated buffer of n KiB (input: n, 0..1048576)',
    output: 'string',
    range: [0, 1048576],
    defaultInput: 1024,
    quickInput: 64,
    longInput: 40960,
  },
  primecount: {
    description: 'number of primes up to n, looked up in a 3 MiB sieve built at start-up (input: n, 0..33554431)',
    output: 'number',
    range: [0, 33554431],
    // Every run builds its table first (tens of ms) unless it starts from a snapshot taken after that.
    defaultInput: 1000000,
    quickInput: 1000,
    longInput: { n: 33554431, repeat: 40000000 },
  },
};

/** The largest `repeat` a built-in takes (`REPEAT_MAX` in functions/src/contract.h). */
const REPEAT_MAX = 1_000_000_000;

/**
 * Why a built-in would refuse `input` (exit 2 with this message), or undefined when it takes it:
 * an integer n in its range, or `{ "n": n, "repeat": 1 to 10^9 }` with no other key
 * (functions/src/contract.h reads stdin by the same rule).
 */
export function builtinInputProblem(name: BuiltinName, input: unknown): string | undefined {
  const [lo, hi] = BUILTINS[name].range;
  const inRange = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= lo && (v as number) <= hi;
  if (inRange(input)) return undefined;
  if (typeof input === 'object' && input !== null && !Array.isArray(input)) {
    const { n, repeat, ...rest } = input as { n?: unknown; repeat?: unknown };
    const repeatOk =
      repeat === undefined ||
      (Number.isSafeInteger(repeat) && (repeat as number) >= 1 && (repeat as number) <= REPEAT_MAX);
    if (inRange(n) && repeatOk && Object.keys(rest).length === 0) return undefined;
  }
  return `${name}: input must be an integer from ${lo} to ${hi} (or {"n": <integer>, "repeat": <1 to ${REPEAT_MAX}>})`;
}

/** One input per built-in as experiments take them (`{ fib: [30], ... }`), for `default`, `quick` or `long` runs. */
export function builtinInputs(which: 'default' | 'quick' | 'long'): Record<BuiltinName, BuiltinInput[]> {
  const key = `${which}Input` as const;
  return Object.fromEntries(BUILTIN_NAMES.map((name) => [name, [BUILTINS[name][key]]])) as Record<
    BuiltinName,
    BuiltinInput[]
  >;
}

/**
 * Docker's name for a Linux architecture: `amd64` for Node's `x64` or the kernel's `x86_64`,
 * `arm64` for `aarch64`; other names pass through.
 */
export function dockerArch(arch: string = process.arch): string {
  if (arch === 'x64' || arch === 'x86_64') return 'amd64';
  if (arch === 'aarch64') return 'arm64';
  return arch;
}

/** How one committed artifact was built (`functions/manifest.json`, written by `functions/build.sh`). */
export interface BuiltinArtifact {
  /** Path inside `functions/`, e.g. `bin/linux-arm64/fib`. */
  path: string;
  function: BuiltinName;
  /** A WASI preview1 module, the WASI 0.2 component made from it, or a static Linux binary. */
  kind: 'wasm-core' | 'wasm-component' | 'native';
  /** The compiler's target triple, e.g. `aarch64-linux-gnu`. */
  target: string;
  /** `wasm32`, or Docker's name of the binary's architecture. */
  arch: string;
  /** Compiler and linker versions, e.g. `Debian clang version 14.0.6; Debian LLD 14.0.6 ...`. */
  compiler: string;
  /** The flags that decide the code (warnings left out). */
  flags: string;
  /** The C library linked in, with its Debian package version. */
  libc: string;
  /** The vector instructions the compiler may use: wasm simd128, SSE2 (x86-64) or NEON (arm64). */
  simd: string;
  bytes: number;
  sha256: string;
}

/** The committed record of how the built-ins were built. */
export interface BuiltinManifest {
  /** sha256 of each source file (`src/fib.c`, `src/contract.h`, ...) the artifacts were built from. */
  sources: Record<string, string>;
  artifacts: BuiltinArtifact[];
}

let manifest: BuiltinManifest | undefined;

/** How each committed artifact was built: compiler, flags, target, libc and sha256 (for reports). */
export function builtinManifest(): BuiltinManifest {
  manifest ??= JSON.parse(readFileSync(join(functionsDir(), 'manifest.json'), 'utf8')) as BuiltinManifest;
  return manifest;
}

/** The architectures (Docker's names) the built-ins have static Linux binaries for: `amd64`, `arm64`. */
export function builtinBinaryArchs(): string[] {
  return [
    ...new Set(
      builtinManifest()
        .artifacts.filter((a) => a.kind === 'native')
        .map((a) => a.arch),
    ),
  ].sort();
}

/**
 * The path of a built-in's static Linux binary for `arch` (Node's, the kernel's or Docker's name;
 * default this machine's), or null when nebula-faas ships none for that architecture.
 */
export function builtinBinary(name: BuiltinName, arch: string = process.arch): string | null {
  const a = dockerArch(arch);
  const found = builtinManifest().artifacts.find((x) => x.kind === 'native' && x.function === name && x.arch === a);
  return found ? join(functionsDir(), found.path) : null;
}
