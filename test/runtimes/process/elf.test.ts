import { describe, expect, it } from 'vitest';
import { elfProblem } from '../../../src/runtimes/process/binary.js';

/** An ELF header: class (1: 32-bit, 2: 64-bit), byte order (1: little, 2: big), e_type, e_machine. */
function header(bits: 1 | 2, order: 1 | 2, type: number, machine: number): Uint8Array {
  const b = new Uint8Array(64);
  b.set([0x7f, 0x45, 0x4c, 0x46, bits, order, 1]);
  const v = new DataView(b.buffer);
  v.setUint16(16, type, order === 1);
  v.setUint16(18, machine, order === 1);
  return b;
}

describe('ELF header check', () => {
  it('accepts executables and position-independent executables for this architecture', () => {
    expect(elfProblem(header(2, 1, 2, 62), 'x64', true)).toBeUndefined();
    expect(elfProblem(header(2, 1, 3, 183), 'arm64', true)).toBeUndefined();
    expect(elfProblem(header(1, 1, 2, 40), 'arm', true)).toBeUndefined();
  });

  it('refuses what is not ELF, too short, or malformed', () => {
    expect(elfProblem(new TextEncoder().encode('#!/bin/sh\necho hello, this is long enough\n'), 'x64')).toMatch(
      /not an ELF executable/,
    );
    expect(elfProblem(header(2, 1, 2, 62).subarray(0, 10), 'x64')).toMatch(/not an ELF executable/);
    expect(elfProblem(header(3 as 2, 1, 2, 62), 'x64')).toMatch(/malformed/);
  });

  it('refuses relocatable objects and core dumps', () => {
    expect(elfProblem(header(2, 1, 1, 62), 'x64', true)).toMatch(/type 1, not an executable/);
    expect(elfProblem(header(2, 1, 4, 62), 'x64', true)).toMatch(/type 4, not an executable/);
  });

  it('refuses another architecture, word size or byte order, naming both', () => {
    expect(elfProblem(header(2, 1, 2, 183), 'x64', true)).toBe(
      'it is built for AArch64 (64-bit, little-endian), but this machine is x86-64 (x64)',
    );
    expect(elfProblem(header(2, 1, 2, 62), 'arm64', true)).toMatch(/built for x86-64 .* this machine is AArch64/);
    expect(elfProblem(header(1, 1, 2, 3), 'x64', true)).toMatch(/built for x86 \(32-bit/);
    expect(elfProblem(header(2, 2, 2, 21), 'ppc64', true)).toMatch(/big-endian/);
    expect(elfProblem(header(2, 1, 2, 9999), 'x64', true)).toMatch(/e_machine 9999/);
  });
});
