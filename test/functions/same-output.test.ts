/**
 * Every built-in gives the same stdout, exit code and stderr for the same stdin on every target:
 * the static binary of this machine's architecture run directly, the other architecture's under
 * qemu-user (run as `qemu-<arch>-static <binary>`), and the wasm module on the Wasm runtime.
 * With NEBULA_REQUIRE_QEMU=1 (CI) a missing qemu-user fails the suite instead of skipping a target.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILTIN_NAMES, WasmRuntime, builtinBinary, builtinBinaryArchs, builtinFunctions, dockerArch, type BuiltinName, type Prepared } from '../../src/index.js';
import { hashInput } from '../runtimes/runtime.contract.js';

interface Output {
  code: number | null;
  out: string;
  err: string;
}

const host = dockerArch();
const KERNEL_ARCH: Record<string, string> = { amd64: 'x86_64', arm64: 'aarch64' };

/** The command prefix that runs a static binary of `arch` here, or null when qemu-user is missing. */
function launcher(arch: string): string[] | null {
  if (arch === host) return [];
  for (const qemu of [`qemu-${KERNEL_ARCH[arch]}-static`, `qemu-${KERNEL_ARCH[arch]}`]) {
    try {
      execFileSync('which', [qemu], { stdio: 'ignore' });
      return [qemu];
    } catch {
      // try the next name
    }
  }
  return null;
}

const natives = builtinBinaryArchs().flatMap((arch) => {
  const prefix = launcher(arch);
  if (prefix) return [{ arch, prefix }];
  const why = `no qemu-user for ${arch} (qemu-${KERNEL_ARCH[arch]}-static, Debian package qemu-user-static)`;
  if (process.env.NEBULA_REQUIRE_QEMU === '1') throw new Error(`NEBULA_REQUIRE_QEMU=1 but ${why}.`);
  console.warn(`The linux-${arch} binaries are not run: ${why}. Set NEBULA_REQUIRE_QEMU=1 to make this an error.`);
  return [];
});

function runNative(prefix: string[], path: string, stdin: string): Output {
  const [cmd, ...args] = [...prefix, path];
  const r = spawnSync(cmd, args, { input: stdin, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const sha = (kib: number) => createHash('sha256').update(hashInput(kib)).digest('hex');
const rel = (text: string, want: number) => Math.abs(Number(text) / want - 1);
const INPUT_ERROR = (fn: string) => `${fn}: input must be an integer from`;

/** [function, stdin, check of the reference output]; every other target must then match it exactly. */
const cases: Array<[BuiltinName, string, (o: Output) => void]> = [];
const ok = (fn: BuiltinName, stdin: string, out: string | ((text: string) => void)) =>
  cases.push([fn, stdin, (o) => {
    expect(o.code).toBe(0);
    expect(o.err).toBe('');
    if (typeof out === 'string') expect(o.out).toBe(`${out}\n`);
    else out(o.out.trim());
  }]);
const bad = (fn: BuiltinName, stdin: string, message = INPUT_ERROR(fn)) =>
  cases.push([fn, stdin, (o) => {
    expect(o.code).toBe(2);
    expect(o.out).toBe('');
    expect(o.err).toContain(message);
    expect(o.err.endsWith('\n') && o.err.indexOf('\n') === o.err.length - 1).toBe(true);
  }]);

ok('fib', '0', '0');
ok('fib', '1', '1');
ok('fib', '-0', '0');
ok('fib', '30', '832040');
ok('fib', ' {"n": 10} \n', '55');
ok('fib', '{"repeat": 3, "n": 20}', '6765');
for (const input of ['79', '-1', '1.5', '1e3', '10.0', '"10"', '10 11', '', '  \n', 'abc', 'null', '[5]', '{"n": "x"}', '{"n": 5', '{"n": 5,}', '{"m": 5}', '{"n": 5, "n": 6}', '{"n": 10, "repeat": 0}', '{"n": 10, "repeat": -2}', '{"n": 10, "repeat": 1000000001}', '{"n": 10, "repeat": 1.5}', '10\u00005'])
  bad('fib', input);
ok('exponential', '0', '1');
ok('exponential', '1', (t) => expect(rel(t, Math.E)).toBeLessThan(1e-15));
ok('exponential', '-708', (t) => expect(rel(t, Math.exp(-708))).toBeLessThan(1e-12));
ok('exponential', '709', (t) => expect(rel(t, Math.exp(709))).toBeLessThan(1e-12));
ok('exponential', '{"n": 709, "repeat": 1000}', (t) => expect(rel(t, Math.exp(709))).toBeLessThan(1e-12));
bad('exponential', '710');
bad('exponential', '-709');
bad('exponential', '2.5');
ok('factorial', '0', '"1"');
ok('factorial', '20', '"2432902008176640000"');
ok('factorial', '{"n": 20, "repeat": 100000}', '"2432902008176640000"');
bad('factorial', '21', 'factorial: 21! does not fit in an unsigned 64-bit integer; the largest supported n is 20');
bad('factorial', '1000000', 'largest supported n is 20');
bad('factorial', '-1');
bad('factorial', '20.0');
ok('prime', '1', '2');
ok('prime', '1000', '7919');
ok('prime', '100000', '1299709');
bad('prime', '0');
bad('prime', '-5');
bad('prime', '10000001');
ok('hash', '0', `"${sha(0)}"`);
ok('hash', '1', `"${sha(1)}"`);
ok('hash', '{"n": 1, "repeat": 3}', `"${sha(1)}"`);
ok('hash', '1024', `"${sha(1024)}"`);
bad('hash', '-3');
bad('hash', '1048577');
// pi(n) against a sieve written here (to 2^20), and known values beyond: pi(10^6) = 78498,
// pi(2^25) = 2063689 (2^25 itself is not prime), and pi(prime(k)) = k for the values of prime above.
const sieveLimit = 1 << 20;
const isComposite = new Uint8Array(sieveLimit + 1).fill(1, 0, 2);
for (let p = 2; p * p <= sieveLimit; p++) if (!isComposite[p]) for (let m = p * p; m <= sieveLimit; m += p) isComposite[m] = 1;
const piUpTo = (n: number) => isComposite.subarray(0, n + 1).reduce((count, c) => count + (c ? 0 : 1), 0);
for (const n of [0, 1, 2, 3, 4, 127, 128, 129, 8191, 65535, 999983, sieveLimit]) ok('primecount', String(n), String(piUpTo(n)));
ok('primecount', '7919', '1000');
ok('primecount', '1299709', '100000');
ok('primecount', '1000000', '78498');
ok('primecount', '33554431', '2063689');
ok('primecount', '{"n": 1000000, "repeat": 1000}', '78498');
bad('primecount', '33554432');
bad('primecount', '-1');
bad('primecount', '2.5');
bad('primecount', 'abc');

describe('the built-ins give the same output on every target', () => {
  const wasm = new WasmRuntime({ workers: 1 });
  const prepared = new Map<string, Prepared>();
  beforeAll(async () => {
    for (const spec of builtinFunctions()) prepared.set(spec.name, await wasm.prepare(spec));
  });
  afterAll(() => wasm.close());

  async function runWasm(fn: BuiltinName, stdin: string): Promise<Output> {
    const o = await prepared.get(fn)!.run(stdin, { mode: 'cold', timeoutMs: 60_000, requestAt: Date.now(), deadlineAt: Date.now() + 60_000 });
    expect(o.error, `${fn} ${JSON.stringify(stdin)}`).toBeUndefined();
    return { code: o.exitCode, out: o.stdout, err: o.stderr };
  }

  it('runs every target it is asked to: this machine and the other architecture', () => {
    expect(natives.map((n) => n.arch)).toContain(host);
    if (process.env.NEBULA_REQUIRE_QEMU === '1') expect(natives.map((n) => n.arch).sort()).toEqual(builtinBinaryArchs());
  });

  for (const name of BUILTIN_NAMES) {
    it(`${name}: right answers and clear errors, identical on ${natives.map((n) => `linux-${n.arch}`).join(', ')} and wasm`, async () => {
      for (const [fn, stdin, check] of cases.filter((c) => c[0] === name)) {
        const label = `${fn} ${JSON.stringify(stdin)}`;
        const reference = runNative([], builtinBinary(fn)!, stdin);
        check(reference);
        for (const { arch, prefix } of natives) expect(runNative(prefix, builtinBinary(fn, arch)!, stdin), `${label} on linux-${arch}`).toEqual(reference);
        expect(await runWasm(fn, stdin), `${label} on wasm`).toEqual(reference);
      }
    });
  }
});
