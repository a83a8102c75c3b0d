import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { dockerArch } from '../../../src/builtins.js';
import { checkStaticElf } from '../../../src/runtimes/docker/static-binary.js';
import { supervisorBinary } from '../../../src/runtimes/docker/supervisor-volume.js';
import { compile } from './engine.js';

/** This machine's architecture, and another one a binary can be built for. */
const HOST = dockerArch();
const OTHER = HOST === 'amd64' ? 'arm64' : 'amd64';
const HELLO = '#include <stdio.h>\nint main(void){puts("hi");return 0;}\n';

describe('checkStaticElf: can this binary run alone in a FROM scratch image?', () => {
  let bins: Record<string, string>;
  beforeAll(() => {
    // musl-gcc's wrapper cannot link static-pie (it adds an interpreter); gcc with glibc can.
    bins = { ...compile({ static: HELLO }), ...compile({ pie: HELLO }, ['-static-pie'], 'gcc') };
    const dir = dirname(bins.static!);
    execFileSync('musl-gcc', ['-c', join(dir, 'static.c'), '-o', join(dir, 'static.o')]);
    execFileSync('musl-gcc', ['-shared', '-fPIC', join(dir, 'static.c'), '-o', join(dir, 'lib.so')]);
    bins.object = join(dir, 'static.o');
    bins.shared = join(dir, 'lib.so');
  });

  it('accepts a static executable and a static-pie one for the engine architecture', () => {
    expect(checkStaticElf(readFileSync(bins.static!), HOST)).toMatchObject({
      ok: true,
      facts: { arch: HOST, is64: true, type: 'executable' },
    });
    expect(checkStaticElf(readFileSync(bins.pie!), HOST)).toMatchObject({
      ok: true,
      facts: { type: 'position-independent' },
    });
  });

  it('refuses a dynamically linked program, naming its loader', () => {
    const r = checkStaticElf(readFileSync('/bin/ls'), HOST);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.why).toMatch(/dynamically linked: it needs the loader \/lib.*ld-linux/);
    const pieWithLoader = compile({ p: HELLO }, ['-static-pie', '-fPIE']).p!;
    expect(checkStaticElf(readFileSync(pieWithLoader), HOST)).toMatchObject({
      ok: false,
      why: expect.stringMatching(/ld-musl/),
    });
  });

  it('refuses four bytes of ELF magic, a file cut after its header, and a file that is not ELF', () => {
    expect(checkStaticElf(Buffer.from('\x7fELF', 'latin1'), HOST)).toMatchObject({
      ok: false,
      why: expect.stringMatching(/too short/),
    });
    const cut = readFileSync(bins.static!).subarray(0, 200);
    expect(checkStaticElf(cut, HOST)).toMatchObject({ ok: false, why: expect.stringMatching(/truncated/) });
    expect(checkStaticElf(Buffer.from('#!/bin/sh\necho hi\n'), HOST)).toMatchObject({
      ok: false,
      why: expect.stringMatching(/not a Linux \(ELF\) binary/),
    });
  });

  it('refuses a binary for another architecture, saying which', () => {
    // The committed supervisor binaries: static, one per architecture.
    const foreign = readFileSync(supervisorBinary(OTHER));
    expect(checkStaticElf(foreign, HOST)).toMatchObject({
      ok: false,
      why: expect.stringContaining(`built for ${OTHER}, but the Docker engine runs ${HOST}`),
    });
    expect(checkStaticElf(foreign, OTHER)).toMatchObject({ ok: true });
  });

  it('refuses an object file and a shared library', () => {
    expect(checkStaticElf(readFileSync(bins.object!), HOST)).toMatchObject({
      ok: false,
      why: expect.stringMatching(/relocatable object/),
    });
    expect(checkStaticElf(readFileSync(bins.shared!), HOST)).toMatchObject({ ok: false });
  });
});
