/**
 * A runtime from outside the package (test/fixtures/js-runtime: ES modules run in worker threads)
 * is its folder and one line: registered, it is deployed, invoked, benched from the command line
 * and from a config file, served over REST and reported, with nothing else in the package changed.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { Nebula, registerRuntime, runtimeKinds, type InvocationRecord } from '../../src/index.js';
import { configSchema } from '../../src/cli/config-schema.js';
import { jsRuntime } from '../fixtures/js-runtime/index.mjs';
import { main, nebula as cli } from '../cli/run-cli.js';
import { runtimeContract } from './runtime.contract.js';

registerRuntime(jsRuntime);

const PLUGIN = fileURLToPath(new URL('../fixtures/js-runtime/index.mjs', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'nebula-js-runtime-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A user's function for the JS runtime: greets its input, fails on a number. */
const GREET = `export default (who) => { if (typeof who === 'number') throw new Error('greet: a name, please'); return 'hello ' + who; };`;
const greetPath = join(work, 'greet.mjs');
writeFileSync(greetPath, GREET);

// The contract every runtime honours, with the fixture's own built-ins (functions/*.mjs); it
// reports no resources, as a runtime from outside need not.
runtimeContract('js', () => new Nebula({ meter: null }), { resources: false });

describe('a runtime registered with one line', () => {
  it('joins the registry, the config schema and the bench flags', async () => {
    expect(runtimeKinds()).toEqual(['wasm', 'docker', 'process', 'js']);
    const fn = configSchema().properties!.functions!.items!.anyOf![1]!.properties!;
    expect(fn.js).toMatchObject({ description: jsRuntime.summary });
    const help = await cli('--plugin', PLUGIN, 'bench', '--help');
    expect(help.out).toMatch(/--js NAME=PATH\s+your own ES module/);
    expect(help.out).toContain('wasm, docker, process, js');
  });

  it('deploys and invokes a function of its own in every mode, and its failures become records', async () => {
    const nebula = new Nebula({ meter: null, builtins: false });
    try {
      const [info] = await nebula.deploy({ name: 'greet', js: greetPath });
      expect(info).toMatchObject({ name: 'greet', runtimes: ['js'], artifacts: { js: { path: greetPath } } });
      const cold = await nebula.invoke('greet', 'you');
      expect(cold).toMatchObject({ ok: true, result: 'hello you', runtime: 'js', mode: 'cold', sandbox: 'fresh' });
      expect(Object.keys(cold.timing.phases)).toEqual(['spawn', 'instantiate', 'run']);
      const prewarmed = await nebula.invoke('greet', 'ahead', { mode: 'prewarmed' });
      expect(prewarmed).toMatchObject({ ok: true, result: 'hello ahead', sandbox: 'prewarmed' });
      const warm = [];
      for (const who of ['a', 'b']) warm.push(await nebula.invoke('greet', who, { mode: 'warm' }));
      expect(warm.map((r) => r.sandbox)).toEqual(['fresh', 'reused']);
      const failed = await nebula.invoke('greet', 42);
      expect(failed).toMatchObject({ ok: false, error: { code: 'FUNCTION_FAILED', exitCode: 1 } });
      expect(failed.error?.stderr).toContain('greet: a name, please');
      await expect(nebula.deploy({ name: 'broken', js: { code: 'export default 42;' } })).rejects.toMatchObject({
        code: 'INVALID_FUNCTION',
      });
      await expect(nebula.deploy({ name: 'bad', js: { path: 'x' } as never })).rejects.toThrow(
        /"js" must be the path of an ES module, or \{ code \}/,
      );
    } finally {
      await nebula.close();
    }
  });

  it('invokes a built-in from the command line', async () => {
    const r = await cli('--plugin', PLUGIN, 'invoke', 'fib', '20', '--runtime', 'js');
    expect(r.code, r.err).toBe(0);
    expect(r.out.trim()).toBe('6765');
    expect(r.err).toMatch(/^js cold: startup .* exec .* total/m);
  });

  it('benches from the command line and from a config file, and reports', async () => {
    const out = join(work, 'flags');
    const flags = await cli(
      '--plugin',
      PLUGIN,
      'bench',
      '--js',
      `greet=${greetPath}`,
      '--functions',
      'fib,greet',
      '--inputs',
      'fib=15,greet="x"',
      '--runtimes',
      'wasm,js',
      '--modes',
      'cold,warm',
      '--repetitions',
      '3',
      '--warmup',
      '0',
      '--meter',
      'none',
      '--no-micro',
      '--out',
      out,
      '--json',
    );
    expect(flags.code, flags.err).toBe(0);
    const { result } = JSON.parse(flags.out) as {
      result: { cells: Array<{ function: string; runtime: string; mode: string; ok: number }> };
    };
    const js = result.cells.filter((c) => c.runtime === 'js');
    expect(js.map((c) => `${c.function} ${c.mode} ${c.ok}`).sort()).toEqual([
      'fib cold 3',
      'fib warm 3',
      'greet cold 3',
      'greet warm 3',
    ]);
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toMatch(/\| fib \| 15 \| JS \| cold \| 3 \|/);

    // The same function from a config file, its path relative to the file.
    const file = join(work, 'nebula.config.json');
    writeFileSync(
      file,
      JSON.stringify({
        functions: [{ name: 'greet', js: './greet.mjs', inputs: ['config'] }],
        runtimes: ['js'],
        repetitions: 2,
        warmup: 0,
        meter: 'none',
        micro: false,
        out: './from-config',
      }),
    );
    const fromFile = await cli('--plugin', PLUGIN, 'bench', '--config', file);
    expect(fromFile.code, fromFile.err).toBe(0);
    const summary = JSON.parse(readFileSync(join(work, 'from-config', 'summary.json'), 'utf8')) as {
      cells: Array<{ function: string; runtime: string; ok: number }>;
    };
    expect(summary.cells).toEqual([expect.objectContaining({ function: 'greet', runtime: 'js', ok: 2 })]);

    // A report of a recorded run needs no runtime: without the plug-in, the JS cells are there by kind.
    const report = await cli('report', out);
    expect(report.code, report.err).toBe(0);
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toMatch(/\| greet \| "x" \| js \| cold \| 3 \|/);
  });

  it('is served: deployed over REST as an upload and as JSON, then invoked', async () => {
    const server = spawn(process.execPath, [main, '--plugin', PLUGIN, 'serve', '--port', '0', '--json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let text = '';
        server.stdout.on('data', (b: Buffer) => {
          text += b.toString();
          const line = /^\{.*\}$/m.exec(text);
          if (line) resolve((JSON.parse(line[0]) as { url: string }).url);
        });
        server.on('exit', (code) => reject(new Error(`nebula serve exited ${code}: ${text}`)));
      });
      const upload = await fetch(`${url}functions?name=twice`, {
        method: 'POST',
        headers: { 'content-type': 'text/javascript' },
        body: 'export default (n) => 2 * n;',
      });
      expect(upload.status, await upload.clone().text()).toBe(201);
      expect(await upload.json()).toMatchObject({ name: 'twice', runtimes: ['js'] });
      const json = await fetch(`${url}functions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'greet', js: { code: GREET } }),
      });
      expect(json.status, await json.clone().text()).toBe(201);
      const invoke = async (body: unknown) =>
        (await (
          await fetch(`${url}invoke`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(body),
          })
        ).json()) as InvocationRecord;
      expect(await invoke({ function: 'twice', input: 21 })).toMatchObject({ ok: true, result: 42, runtime: 'js' });
      expect(await invoke({ function: 'greet', input: 'web', mode: 'prewarmed' })).toMatchObject({
        ok: true,
        result: 'hello web',
        mode: 'prewarmed',
      });
      expect(await invoke({ function: 'fib', input: 10, runtime: 'js' })).toMatchObject({ ok: true, result: 55 });
      // A JSON deploy never names a file on the server: the path form is refused.
      const path = await fetch(`${url}functions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'local', js: greetPath }),
      });
      expect(path.status).toBe(400);
    } finally {
      server.kill('SIGINT');
      await new Promise((r) => server.once('exit', r));
    }
  });
});
