// The package as a user gets it: packed, installed by npm into an empty project, type-checked by
// that project's TypeScript with skipLibCheck off, and run as ESM and CJS under
// --disallow-code-generation-from-strings (nothing evaluates code from strings at load or on a
// Wasm invocation), and without the optional jco-transpile. Needs `dist/` built and the repository's `npm install` run (see consumer-project.ts).
import { execFile, execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from '@bytecodealliance/jco';
import { WAT } from '../runtimes/wasm/fixtures.js';
import { installConsumer, npm, packThisTree, repoRoot } from './consumer-project.js';

const NO_EVAL = '--disallow-code-generation-from-strings';
let work: string;
let tarball: string;
let project: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'nebula-pack-'));
  tarball = await packThisTree(work);
  project = await installConsumer(tarball);
  cpSync(join(repoRoot, 'test', 'package', 'consumer'), project, { recursive: true });
}, 600_000);

afterAll(() => {
  for (const dir of [work, project]) if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Runs node with `args` in the project and returns what it printed (stdout, stderr, exit code). */
async function node(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const r = await promisify(execFile)(process.execPath, args, {
      cwd: project,
      encoding: 'utf8',
      timeout: 170_000,
      env: { ...process.env, ...env },
    });
    return { ...r, code: 0 };
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; code?: number | string };
    return {
      stdout: err.stdout ?? '',
      stderr: err.stderr ?? String(e),
      code: typeof err.code === 'number' ? err.code : -1,
    };
  }
}

/** Runs a script of the project with a fresh artifact cache (so jco transpiles there) and returns its stdout. */
async function run(args: string[]): Promise<string> {
  const cache = mkdtempSync(join(tmpdir(), 'nebula-consumer-cache-'));
  try {
    const r = await node(args, { XDG_CACHE_HOME: cache });
    if (r.code !== 0) throw new Error(`node ${args.join(' ')} exited ${r.code}:\n${r.stderr}`);
    return r.stdout;
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
}

async function tsc(config: string): Promise<void> {
  const r = await node([join(project, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', config]);
  expect(r.stdout + r.stderr, `tsc -p ${config}`).toBe('');
  expect(r.code).toBe(0);
}

describe('the packed package', () => {
  it('holds the files loaded by path, what the README links, and no source maps', () => {
    const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map((f) => f.replace(/^package\//, ''));
    for (const f of [
      'dist/index.js',
      'dist/index.cjs',
      'dist/index.d.ts',
      'dist/index.d.cts',
      ...['experiment', 'server', 'gude', 'stats'].flatMap((entry) =>
        ['js', 'cjs', 'd.ts', 'd.cts'].map((ext) => `dist/${entry}.${ext}`),
      ),
      'dist/cli/main.js',
      'dist/runtimes/wasm/worker.js',
      'functions/wasm/fib.wasm',
      // The process runtime's static helper, run by path.
      `src/runtimes/process/helper/linux-${process.arch === 'x64' ? 'amd64' : process.arch}/nebula-exec`,
      `src/runtimes/docker/supervisor/linux-${process.arch === 'x64' ? 'amd64' : process.arch}/nebula-supervisor`,
    ])
      expect(files).toContain(f);
    // Sources never ship; the static helper binaries built beside their C source are the one exception.
    const helper = /^src\/runtimes\/[a-z]+\/[a-z]+\/linux-[a-z0-9]+\/nebula-[a-z]+$/;
    expect(
      files.filter(
        (f) =>
          f.endsWith('.map') ||
          (f.startsWith('src/') && !helper.test(f)) ||
          f.startsWith('test/') ||
          f.startsWith('bench/'),
      ),
    ).toEqual([]);
    // Every relative link of the README (docs, examples, changelog) points into the package.
    const links = [...readFileSync(join(repoRoot, 'README.md'), 'utf8').matchAll(/\]\(([^)#:]+)\)/g)].map((m) =>
      m[1]!.replace(/\/$/, ''),
    );
    expect(links.length).toBeGreaterThan(5);
    for (const link of links)
      expect(
        files.some((f) => f === link || f.startsWith(`${link}/`)),
        link,
      ).toBe(true);
  });

  it('asks for jco-transpile and Wizer only as optional peer dependencies', () => {
    const pkg = JSON.parse(
      execFileSync('tar', ['-xzOf', tarball, 'package/package.json'], { encoding: 'utf8' }),
    ) as Record<string, Record<string, unknown>>;
    expect(Object.keys(pkg.dependencies!)).not.toContain('@bytecodealliance/jco-transpile');
    expect(Object.keys(pkg.dependencies!)).not.toContain('@bytecodealliance/wizer');
    expect(pkg.peerDependencies).toMatchObject({
      '@bytecodealliance/jco-transpile': expect.any(String),
      '@bytecodealliance/wizer': '10.0.0',
    });
    expect(pkg.peerDependenciesMeta).toEqual({
      '@bytecodealliance/jco-transpile': { optional: true },
      '@bytecodealliance/wizer': { optional: true },
    });
  });
});

describe('a consumer project with the package installed', () => {
  it('type-checks with skipLibCheck off, under moduleResolution node16 and bundler', async () => {
    await Promise.all([tsc('tsconfig.json'), tsc('tsconfig.bundler.json')]);
  }, 180_000);

  it('imports it as ESM under --disallow-code-generation-from-strings and invokes a Wasm function', async () => {
    expect(existsSync(join(project, 'out', 'consumer.mjs'))).toBe(true);
    const out = JSON.parse(await run([NO_EVAL, 'out/consumer.mjs']));
    expect(out).toEqual({
      fib20: 6765,
      failed: 'FUNCTION_FAILED',
      entry: expect.stringMatching(/\/node_modules\/nebula-faas\/dist\/index\.js$/),
    });
  }, 180_000);

  it('requires it as CJS under --disallow-code-generation-from-strings and invokes a Wasm function', async () => {
    const out = JSON.parse(await run([NO_EVAL, 'out/consumer.cjs']));
    expect(out).toEqual({
      prime10: 29,
      wrong: 'number',
      entry: expect.stringMatching(/\/node_modules\/nebula-faas\/dist\/index\.cjs$/),
    });
  }, 180_000);

  it("imports every subpath export as ESM and CJS, typed, sharing the root's classes", async () => {
    const esm = JSON.parse(await run([NO_EVAL, 'out/subpaths.mjs']));
    expect(esm).toEqual({
      csv: true,
      functions: ['fib'],
      median: 2.5,
      powerW: 42,
      outlet1: 0x3a00,
      simulator: true,
      shared: true,
    });
    const cjs = JSON.parse(await run([NO_EVAL, 'out/subpaths.cjs']));
    expect(cjs).toEqual({
      quick: true,
      registers: 26,
      p50: 2,
      shared: true,
      entry: expect.stringMatching(/\/node_modules\/nebula-faas\/dist\/experiment\.cjs$/),
    });
  }, 180_000);

  it('loads dockerode only for the Docker runtime, which says why it cannot run under the flag', async () => {
    const plain = JSON.parse(await run(['out/docker-load.mjs']));
    expect(plain).toEqual({
      code: 'RUNTIME_UNAVAILABLE',
      message: expect.stringContaining('No Docker engine answers at /nonexistent/docker.sock'),
    });
    const noEval = JSON.parse(await run([NO_EVAL, 'out/docker-load.mjs']));
    expect(noEval).toEqual({
      code: 'RUNTIME_UNAVAILABLE',
      message: expect.stringMatching(/dockerode\) cannot be loaded: Code generation from strings disallowed/),
    });
  }, 180_000);

  it('registers a runtime and a meter of its own, typed by declaration merging, and invokes through them', async () => {
    expect(JSON.parse(await run([NO_EVAL, 'out/extension.mjs']))).toEqual({
      result: 42,
      runtime: 'inline',
      powerW: expect.closeTo(12, 9),
      unknown: 'nope',
    });
  }, 180_000);

  it('runs the nebula command from node_modules/.bin', async () => {
    expect((await run([NO_EVAL, 'node_modules/.bin/nebula', 'invoke', 'fib', '10', '--runtime', 'wasm'])).trim()).toBe(
      '55',
    );
  }, 180_000);

  it('runs a shipped example that deploys a preview1 module', async () => {
    const out = await run([NO_EVAL, 'node_modules/nebula-faas/examples/deploy-component.mjs']);
    expect(out).toContain('result: 541');
    expect(out).toMatch(/refused as expected: INVALID_FUNCTION/);
  }, 180_000);

  it("runs the README's code example as written", async () => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    const code = /## Use it from code\n\n```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(code).toContain("from 'nebula-faas'");
    writeFileSync(join(project, 'readme.mjs'), code!);
    const lines = (await run([NO_EVAL, 'readme.mjs'])).trim().split('\n');
    expect(lines[0]).toBe('832040');
    expect(lines.join(' ')).toMatch(/\{\s+prepareMs: [\d.]+,\s+startupMs: [\d.]+,\s+execMs: [\d.]+\s+\}/);
    expect(lines.at(-1)).toMatch(/^[\d.e-]+ (estimate|rapl\S*)$/);
  }, 180_000);

  it('runs every built-in on Wasm without jco-transpile, refuses a native WASI 0.2 component naming the install command, and runs it once that command has run', async () => {
    expect(existsSync(join(project, 'node_modules', '@bytecodealliance', 'jco-transpile'))).toBe(false);
    expect(existsSync(join(project, 'node_modules', 'binaryen'))).toBe(false);
    const native = join(project, 'native.wasm');
    writeFileSync(native, await parse(WAT.nativeOk));
    const without = JSON.parse(await run(['out/without-jco.mjs', native])) as { builtins: Record<string, unknown> };
    expect(without).toMatchObject({
      builtins: { fib: 6765, factorial: '3628800', prime: 29, hash: expect.stringMatching(/^[0-9a-f]{64}$/) },
      jcoTranspile: 'ERR_MODULE_NOT_FOUND',
      native: {
        code: 'RUNTIME_UNAVAILABLE',
        message: expect.stringContaining(
          'is not installed. Install it beside nebula-faas: npm install @bytecodealliance/jco-transpile',
        ),
      },
    });
    expect(without.builtins.exponential).toBeCloseTo(Math.E, 12);

    // The command the message names, at the version this repository locks.
    const lock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { version: string }>;
    };
    const version = lock.packages['node_modules/@bytecodealliance/jco-transpile']!.version;
    await npm(project, [
      'install',
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      '--ignore-scripts',
      `@bytecodealliance/jco-transpile@${version}`,
    ]);
    const withJco = JSON.parse(await run(['out/without-jco.mjs', native]));
    expect(withJco).toMatchObject({ jcoTranspile: 'resolved', native: { deployed: true, ok: true } });
  }, 600_000);
});
