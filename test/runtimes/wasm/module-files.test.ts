/**
 * How a module's bytes enter the host: only a regular file is read, and only up to a size known
 * before reading (`--wasm x=/dev/zero` used to read until the host ran out of memory, a FIFO
 * without a writer blocked it); bytes handed over directly meet the same size limit, and a cached
 * artifact replaced by something else is made again. Real files, FIFOs and devices.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, truncateSync, writeFileSync, closeSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Nebula } from '../../../src/index.js';
import { packageRoot } from '../../../src/paths.js';
import { call, command, i32 } from './module-builder.js';

let dir: string;
let cacheDir: string;
let nebula: Nebula;
const exit0 = command([...i32(0), ...call(0)]);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'nebula-module-files-'));
  cacheDir = join(dir, 'cache');
  nebula = new Nebula({ builtins: true, wasm: { cacheDir, workers: 1, maxModuleBytes: 1 << 20 } });
  await nebula.prepare(['fib'], ['wasm']);
});
afterAll(async () => {
  await nebula.close();
  rmSync(dir, { recursive: true, force: true });
});

async function refusal(wasm: string | Uint8Array): Promise<string> {
  const err = await nebula.deploy({ name: 'f', wasm }).catch((e: unknown) => e);
  expect(err).toMatchObject({ code: 'INVALID_FUNCTION' });
  return (err as Error).message;
}

describe('files a module is read from', () => {
  it('refuses /dev/zero, a FIFO with no writer, a directory and /dev/null at once, saying what they are', async () => {
    const fifo = join(dir, 'fifo.wasm');
    execFileSync('mkfifo', [fifo]);
    expect(await refusal('/dev/zero')).toMatch(/cannot read \/dev\/zero: it is a character device, not a regular file/);
    expect(await refusal(fifo)).toMatch(/it is a FIFO \(named pipe\), not a regular file/);
    expect(await refusal(dir)).toMatch(/it is a directory, not a regular file/);
    expect(await refusal('/dev/null')).toMatch(/it is a character device/);
    expect((await nebula.invoke('fib', 20)).result).toBe(6765);
  });

  it('refuses a file over maxModuleBytes before reading it (a sparse file of 4 GiB)', async () => {
    const big = join(dir, 'big.wasm');
    closeSync(openSync(big, 'w'));
    truncateSync(big, 4 * 1024 ** 3);
    expect(await refusal(big)).toMatch(/it is 4294967296 bytes, over the 1048576-byte limit for a module/);
  });

  it('refuses bytes over maxModuleBytes given directly, and reads a regular file within it', async () => {
    const bytes = new Uint8Array((1 << 20) + 1);
    bytes.set(exit0);
    expect(await refusal(bytes)).toMatch(/its wasm is 1048577 bytes, over the 1048576-byte limit \(maxModuleBytes\)/);
    const file = join(dir, 'ok.wasm');
    writeFileSync(file, exit0);
    await nebula.deploy({ name: 'ok', wasm: file });
    expect((await nebula.invoke('ok', null)).ok).toBe(true);
  });

  it('makes a cached artifact again when a FIFO has taken its place (in a fresh process)', async () => {
    const file = join(dir, 'exit3.wasm');
    writeFileSync(file, command([...i32(3), ...call(0)]));
    const entry = pathToFileURL(join(packageRoot(), 'dist', 'index.js')).href;
    const script = `const { Nebula } = await import(${JSON.stringify(entry)});
const n = new Nebula({ builtins: false, wasm: { cacheDir: ${JSON.stringify(cacheDir)}, workers: 1 } });
await n.deploy({ name: 'cached', wasm: ${JSON.stringify(file)} });
const r = await n.invoke('cached', null);
console.log(JSON.stringify(r.error));
await n.close();`;
    const run = () => {
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
        encoding: 'utf8',
        timeout: 60_000,
      });
      return JSON.parse(r.stdout.trim().split('\n').at(-1) ?? 'null') as { exitCode?: number } | null;
    };
    expect(run()?.exitCode).toBe(3);
    const cached = readdirSync(cacheDir).filter((f) => f.endsWith('.wasm'));
    expect(cached.length).toBeGreaterThan(0);
    for (const f of cached) {
      rmSync(join(cacheDir, f));
      execFileSync('mkfifo', [join(cacheDir, f)]);
    }
    expect(run()?.exitCode).toBe(3);
  });
});
