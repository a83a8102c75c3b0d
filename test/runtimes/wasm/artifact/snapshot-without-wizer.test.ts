/**
 * Deploy without Wizer installed (stood in for by a preinitialize that answers as loadWizer does):
 * `preinit: 'auto'` deploys the module as it is and says why, `true` is RUNTIME_UNAVAILABLE.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parse } from '@bytecodealliance/jco';
import { NebulaError } from '../../../../src/errors.js';
import { prepareArtifact } from '../../../../src/runtimes/wasm/artifact/prepare.js';

vi.mock('../../../../src/runtimes/wasm/artifact/preinit.js', async (original) => ({
  ...(await original<object>()),
  preinitialize: () =>
    Promise.reject(
      new NebulaError(
        'RUNTIME_UNAVAILABLE',
        'Pre-initialisation runs Wizer, and @bytecodealliance/wizer is not installed. Install it beside nebula-faas: npm install @bytecodealliance/wizer@10.0.0',
      ),
    ),
}));

let module: Uint8Array;
let cacheDir: string;
beforeAll(async () => {
  module = await parse(`(module (memory (export "memory") 1) (global $v (mut i32) (i32.const 0))
    (func (export "wizer.initialize") (global.set $v (i32.const 1))) (func (export "_start")))`);
  cacheDir = mkdtempSync(join(tmpdir(), 'nebula-no-wizer-cache-'));
});
afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

describe('without Wizer', () => {
  it("deploys a module with an initialiser as it is under 'auto', says why, and caches nothing", async () => {
    const options = { cacheDir, memoryMaxBytes: 64 << 20, maxModuleBytes: 1 << 30, preinit: { mode: 'auto' as const } };
    const artifact = await prepareArtifact('fn', module, options);
    expect(artifact.snapshot).toBeUndefined();
    expect(artifact.preinitNote).toBe(
      'its initialiser runs at each start: Pre-initialisation runs Wizer, and @bytecodealliance/wizer is not installed. Install it beside nebula-faas: npm install @bytecodealliance/wizer@10.0.0',
    );
    expect(artifact.module).toBeInstanceOf(WebAssembly.Module);
    expect(readdirSync(cacheDir)).toEqual([]);
    // Asked again, it tries again (Wizer may have been installed since): built anew, not from memory.
    expect((await prepareArtifact('fn', module, options)).built).toBe(true);
  });

  it('refuses preinit: true with RUNTIME_UNAVAILABLE naming the install command', async () => {
    await expect(
      prepareArtifact('fn', module, {
        cacheDir,
        memoryMaxBytes: 64 << 20,
        maxModuleBytes: 1 << 30,
        preinit: { mode: true },
      }),
    ).rejects.toMatchObject({
      code: 'RUNTIME_UNAVAILABLE',
      message: expect.stringContaining('npm install @bytecodealliance/wizer@10.0.0'),
    });
  });
});
