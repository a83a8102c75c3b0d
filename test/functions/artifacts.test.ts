import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUILTINS, BUILTIN_NAMES, builtinBinary, builtinBinaryArchs, builtinFunctions, builtinManifest, dockerArch } from '../../src/index.js';
import { builtinInputs } from '../../src/builtins.js';
import { functionsDir } from '../../src/paths.js';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const ELF_MACHINE: Record<string, number> = { amd64: 62, arm64: 183 };

/** The facts of an ELF64 little-endian header that say where and how a binary runs. */
function elf(bytes: Buffer) {
  expect([...bytes.subarray(0, 6)]).toEqual([0x7f, 0x45, 0x4c, 0x46, 2, 1]);
  const phoff = Number(bytes.readBigUInt64LE(32));
  const types = Array.from({ length: bytes.readUInt16LE(56) }, (_, i) => bytes.readUInt32LE(phoff + i * bytes.readUInt16LE(54)));
  return { type: bytes.readUInt16LE(16), machine: bytes.readUInt16LE(18), interp: types.includes(3), dynamic: types.includes(2) };
}

describe('the built-ins as committed artifacts', () => {
  const manifest = builtinManifest();

  it('were built from the sources in the tree: the manifest holds the sha256 of every source file', () => {
    const files = readdirSync(join(functionsDir(), 'src')).filter((f) => /\.[ch]$/.test(f));
    expect(Object.keys(manifest.sources).sort()).toEqual(files.map((f) => `src/${f}`).sort());
    for (const f of files) expect(manifest.sources[`src/${f}`], f).toBe(sha256(readFileSync(join(functionsDir(), 'src', f))));
  });

  it('match the manifest byte for byte', () => {
    for (const a of manifest.artifacts) {
      const bytes = readFileSync(join(functionsDir(), a.path));
      expect({ path: a.path, bytes: bytes.length, sha256: sha256(bytes) }).toEqual({ path: a.path, bytes: a.bytes, sha256: a.sha256 });
    }
  });

  it('give every built-in a preview1 module, a component and static binaries for amd64 and arm64', () => {
    expect(builtinBinaryArchs()).toEqual(['amd64', 'arm64']);
    for (const name of BUILTIN_NAMES) {
      const kinds = manifest.artifacts.filter((a) => a.function === name).map((a) => `${a.kind}:${a.arch}`);
      expect(kinds.sort()).toEqual(['native:amd64', 'native:arm64', 'wasm-component:wasm32', 'wasm-core:wasm32']);
      const core = readFileSync(join(functionsDir(), 'wasm', 'core', `${name}.wasm`));
      expect([...core.subarray(0, 8)]).toEqual([0, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
      const component = readFileSync(join(functionsDir(), 'wasm', `${name}.wasm`));
      expect([...component.subarray(0, 8)]).toEqual([0, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00]);
    }
  });

  it('compile wasm and native code with the same compiler and optimisation level', () => {
    const compiled = manifest.artifacts.filter((a) => a.kind !== 'wasm-component');
    expect(new Set(compiled.map((a) => a.compiler)).size).toBe(1);
    expect(compiled[0]!.compiler).toMatch(/^\S* ?clang version \d+/);
    for (const a of compiled) expect(a.flags.split(' '), a.path).toEqual(expect.arrayContaining(['-O2', `--target=${a.target}`]));
    for (const a of manifest.artifacts.filter((x) => x.kind === 'native')) expect(a.flags.split(' '), a.path).toContain('-static');
  });

  it('let every target vectorise with its baseline SIMD, and say which', () => {
    const simd: Record<string, string> = { wasm32: 'wasm simd128', amd64: 'SSE2', arm64: 'NEON' };
    for (const a of manifest.artifacts) expect(a.simd, a.path).toMatch(new RegExp(`^${simd[a.arch]} `));
    for (const a of manifest.artifacts.filter((x) => x.kind === 'wasm-core')) expect(a.flags.split(' '), a.path).toContain('-msimd128');
  });

  it('export a pre-initialiser from the wasm of a built-in with start-up work, and from no other', async () => {
    for (const name of BUILTIN_NAMES) {
      const module = await WebAssembly.compile(readFileSync(join(functionsDir(), 'wasm', 'core', `${name}.wasm`)));
      const exports = WebAssembly.Module.exports(module).map((e) => e.name);
      expect(exports, name).toContain('_start');
      expect(exports.includes('wizer.initialize'), name).toBe(name === 'primecount');
    }
  });

  it('ships static executables (no interpreter, no dynamic section) for the architecture their folder names', () => {
    for (const arch of ['amd64', 'arm64'])
      for (const name of BUILTIN_NAMES) {
        const path = builtinBinary(name, arch)!;
        expect(path).toBe(join(functionsDir(), 'bin', `linux-${arch}`, name));
        expect(elf(readFileSync(path)), path).toEqual({ type: 2, machine: ELF_MACHINE[arch], interp: false, dynamic: false });
      }
  });
});

describe('builtinBinary and builtinFunctions', () => {
  it('accept the architecture in Node, kernel or Docker spelling', () => {
    expect([dockerArch('x64'), dockerArch('x86_64'), dockerArch('amd64'), dockerArch('aarch64'), dockerArch('arm64')]).toEqual(['amd64', 'amd64', 'amd64', 'arm64', 'arm64']);
    expect(builtinBinary('fib', 'aarch64')).toBe(builtinBinary('fib', 'arm64'));
    expect(builtinBinary('fib', 'x64')).toBe(builtinBinary('fib', 'amd64'));
  });

  it('give null, and no process source, for a machine of an architecture with no binary', () => {
    expect(builtinBinary('fib', 'riscv64')).toBeNull();
    for (const spec of builtinFunctions('riscv64')) {
      expect(spec.process).toBeUndefined();
      // Docker keeps the binaries it has: an engine of another architecture gets RUNTIME_NOT_DEPLOYED naming it.
      expect(Object.keys((spec.docker as { binary: Record<string, string> }).binary).sort()).toEqual(['amd64', 'arm64']);
      expect(existsSync(spec.wasm as string)).toBe(true);
    }
  });

  it("give Docker every architecture's binary and the process runtime this machine's", () => {
    for (const spec of builtinFunctions('arm64')) {
      // Docker gets every architecture's binary; the engine's architecture picks one.
      expect(spec.docker).toEqual({ binary: { amd64: join(functionsDir(), 'bin', 'linux-amd64', spec.name), arm64: join(functionsDir(), 'bin', 'linux-arm64', spec.name) } });
      // The process runtime runs binaries of this machine's architecture only.
      expect(spec.process === undefined).toBe(dockerArch() !== 'arm64');
      expect(spec.description).toBe(BUILTINS[spec.name as keyof typeof BUILTINS].description);
    }
    expect(builtinFunctions()[0]!.process).toEqual({ binary: join(functionsDir(), 'bin', `linux-${dockerArch()}`, 'fib') });
  });

  it('keep every input of the table inside its range', () => {
    for (const which of ['default', 'quick', 'long'] as const) {
      const inputs = builtinInputs(which);
      expect(Object.keys(inputs)).toEqual([...BUILTIN_NAMES]);
      for (const name of BUILTIN_NAMES) {
        const input = inputs[name][0]!;
        const n = typeof input === 'number' ? input : input.n;
        const [lo, hi] = BUILTINS[name].range;
        expect(n, `${which} ${name}`).toBeGreaterThanOrEqual(lo);
        expect(n, `${which} ${name}`).toBeLessThanOrEqual(hi);
      }
    }
  });
});
