import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUILTIN_NAMES } from '../../src/index.js';
import { functionsDir } from '../../src/paths.js';
import { hashInput } from '../runtimes/runtime.contract.js';

const bin = (name: string) => join(functionsDir(), 'bin', 'linux-amd64', name);
function run(name: string, stdin: string) {
  const r = spawnSync(bin(name), { input: stdin, encoding: 'utf8' });
  return { code: r.status, out: r.stdout.trim(), err: r.stderr };
}

describe('built-in functions as committed static binaries', () => {
  it('ships a component, a preview1 module and a static binary for every built-in', () => {
    for (const name of BUILTIN_NAMES) {
      const component = readFileSync(join(functionsDir(), 'wasm', `${name}.wasm`));
      expect([...component.subarray(0, 8)]).toEqual([0, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00]);
      const core = readFileSync(join(functionsDir(), 'wasm', 'core', `${name}.wasm`));
      expect([...core.subarray(0, 8)]).toEqual([0, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
      expect([...readFileSync(bin(name)).subarray(0, 4)]).toEqual([0x7f, 0x45, 0x4c, 0x46]);
    }
  });

  it('computes the right answers', () => {
    expect(run('fib', '25')).toMatchObject({ code: 0, out: '75025' });
    expect(run('fib', ' {"n": 10} \n')).toMatchObject({ code: 0, out: '55' });
    const e1 = Number(run('exponential', '1').out);
    expect(Math.abs(e1 - Math.E) / Math.E).toBeLessThan(1e-12);
    for (const n of [10, 100, 709, -5]) {
      expect(Math.abs(Number(run('exponential', String(n)).out) / Math.exp(n) - 1)).toBeLessThan(1e-12);
    }
    expect(JSON.parse(run('factorial', '20').out)).toBe('2432902008176640000');
    expect(JSON.parse(run('factorial', '0').out)).toBe('1');
    expect(run('prime', '1').out).toBe('2');
    expect(run('prime', '1000').out).toBe('7919');
    for (const kib of [0, 1, 64]) {
      expect(JSON.parse(run('hash', String(kib)).out)).toBe(createHash('sha256').update(hashInput(kib)).digest('hex'));
    }
  });

  it('refuses bad input with exit code 2 and a message naming the function', () => {
    const bad: Array<[string, string]> = [
      ['fib', 'abc'], ['fib', '-1'], ['fib', '1.5'], ['fib', '79'], ['fib', ''], ['fib', '{"n": "x"}'],
      ['fib', '1e3'], ['fib', '"10"'], ['fib', '10 11'], ['factorial', '21'], ['prime', '0'], ['exponential', '710'],
      ['hash', '-3'],
    ];
    for (const [name, input] of bad) {
      const r = run(name, input);
      expect(r.code, `${name} ${input}`).toBe(2);
      expect(r.err).toContain(`${name}:`);
      expect(r.out).toBe('');
    }
    expect(run('factorial', '21').err).toContain('largest supported n is 20');
  });
});
