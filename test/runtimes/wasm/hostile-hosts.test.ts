/**
 * Hosts the Wasm runtime must survive: Node started with flags its worker threads must not
 * inherit (`--input-type`, code on stdin, an `--import` preload with side effects), and worker
 * threads that cannot start at all. Real child processes and real threads.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { Nebula, WasmRuntime } from '../../../src/index.js';
import { packageRoot } from '../../../src/paths.js';
import { tempDir } from '../../temp-dir.js';

const esmEntry = pathToFileURL(join(packageRoot(), 'dist', 'index.js')).href;
const cjsEntry = join(packageRoot(), 'dist', 'index.cjs');
const body = `
process.on('unhandledRejection', (e) => { console.log('UNHANDLED ' + e); process.exitCode = 9; });
const n = new Nebula();
const r = await n.invoke('fib', 20, { runtime: 'wasm' });
console.log(JSON.stringify({ ok: r.ok, result: r.result, code: r.ok ? null : r.error.code, message: r.ok ? null : r.error.message }));
await n.close();`;
const esm = `const { Nebula } = await import(${JSON.stringify(esmEntry)});${body}`;
const cjs = `const { Nebula } = require(${JSON.stringify(cjsEntry)}); (async () => {${body}})();`;

function node(args: string[], stdin?: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, args, { input: stdin ?? '', encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function expectFib(r: { status: number | null; stdout: string; stderr: string }): void {
  expect(r.stdout).not.toContain('UNHANDLED');
  const line = r.stdout.trim().split('\n').at(-1) ?? '';
  expect({ status: r.status, line: line && JSON.parse(line) }).toEqual({
    status: 0,
    line: { ok: true, result: 6765, code: null, message: null },
  });
}

describe('hosts started with flags the workers must not inherit', () => {
  it('runs under node --input-type=module -e', () => {
    expectFib(node(['--input-type=module', '-e', esm]));
  });

  it('runs under node --input-type=commonjs -e (the CommonJS build)', () => {
    expectFib(node(['--input-type=commonjs', '-e', cjs]));
  });

  it('runs ES module code given on stdin', () => {
    expectFib(node(['--input-type=module'], esm));
  });

  it('runs under an --import preload with side effects, which runs once (not again in every worker)', () => {
    const dir = tempDir('preload');
    const marker = join(dir, 'marker');
    writeFileSync(marker, '');
    writeFileSync(
      join(dir, 'preload.mjs'),
      `import { appendFileSync } from 'node:fs'; appendFileSync(${JSON.stringify(marker)}, 'loaded\\n');`,
    );
    writeFileSync(join(dir, 'main.mjs'), esm);
    expectFib(node(['--import', pathToFileURL(join(dir, 'preload.mjs')).href, join(dir, 'main.mjs')]));
    expect(readFileSync(marker, 'utf8')).toBe('loaded\n');
  });
});

describe('worker threads that cannot start', () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown) => unhandled.push(e);
  afterEach(() => {
    process.off('unhandledRejection', onUnhandled);
  });

  it('give RUNTIME_UNAVAILABLE with the reason, retry with back-off, and reject nothing unhandled', async () => {
    process.on('unhandledRejection', onUnhandled);
    // A JavaScript heap too small for Node's own start-up: a real worker that fails to start.
    const n = new Nebula({ runtimes: { wasm: new WasmRuntime({ workers: 2, workerHeapMiB: 1 }) } });
    const first = await n.invoke('fib', 10);
    expect(first.ok).toBe(false);
    expect(first.error).toMatchObject({ code: 'RUNTIME_UNAVAILABLE' });
    expect(first.error?.message).toContain('ERR_WORKER_OUT_OF_MEMORY');
    await new Promise((r) => setTimeout(r, 1000));
    const later = await n.invoke('fib', 10);
    expect(later.error?.code).toBe('RUNTIME_UNAVAILABLE');
    // Retries double their delay from 100 ms: a second holds a handful of attempts, not hundreds.
    const attempts = Number(/\((\d+) attempts?;/.exec(later.error?.message ?? '')?.[1]);
    expect(attempts).toBeGreaterThanOrEqual(1);
    expect(attempts).toBeLessThanOrEqual(6);
    await expect(
      n.deploy({ name: 'again', wasm: join(packageRoot(), 'functions', 'wasm', 'core', 'fib.wasm') }),
    ).rejects.toMatchObject({ code: 'RUNTIME_UNAVAILABLE' });
    await n.close();
    await new Promise((r) => setImmediate(r));
    expect(unhandled).toEqual([]);
  });
});
