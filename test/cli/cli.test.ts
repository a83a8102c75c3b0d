import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUILTIN_NAMES } from '../../src/builtins.js';
import { packageRoot } from '../../src/paths.js';
import { main, nebula, pool } from './run-cli.js';
import { tempDir } from '../temp-dir.js';
const noStack = (text: string) => expect(text).not.toMatch(/\n\s+at /);

describe('the nebula command', () => {
  it('prints help for itself and every command, and its version', async () => {
    const h = await nebula('--help');
    expect(h.code).toBe(0);
    const cmds = [
      'invoke',
      'bench',
      'load',
      'replay',
      'report',
      'compare',
      'advise',
      'functions',
      'gude-sim',
      'serve',
      'clean',
      'completion',
    ];
    const helps = await pool(cmds, 4, (cmd) => nebula(cmd, '--help'));
    cmds.forEach((cmd, i) => {
      expect(h.out).toContain(cmd);
      expect(helps[i]!.code, cmd).toBe(0);
      expect(helps[i]!.out).toContain(`Usage: nebula ${cmd}`);
    });
    // `nebula help bench` is bench's own help, not the general one.
    const helpBench = await nebula('help', 'bench');
    expect(helpBench.code).toBe(0);
    expect(helpBench.out).toMatch(/^Usage: nebula bench/);
    expect(helpBench.out).toContain('--keep-warm');
    const v = await nebula('--version');
    expect(v.out.trim()).toBe(
      (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version,
    );
  });

  it('invokes a function and prints the result, or the record with --json', async () => {
    const a = await nebula('invoke', 'fib', '20');
    expect(a.code).toBe(0);
    expect(a.out.trim()).toBe('6765');
    expect(a.err).toMatch(/wasm cold: startup .* exec .* total/);
    const b = await nebula('invoke', 'factorial', '{"n": 5}', '--json');
    expect(JSON.parse(b.out)).toMatchObject({ function: 'factorial', ok: true, result: '120' });
    // Energy of one invocation has no idle baseline behind it, and says so.
    expect(a.err).toMatch(/^energy: .* including idle/m);
  });

  it("invokes one's own function given by --wasm or --binary, as bench takes them", async () => {
    const wasm = await nebula(
      'invoke',
      'mine',
      '20',
      '--wasm',
      `mine=${join(packageRoot(), 'functions/wasm/fib.wasm')}`,
    );
    expect(wasm.code, wasm.err).toBe(0);
    expect(wasm.out.trim()).toBe('6765');
    const bin = join(packageRoot(), 'functions/bin', `linux-${process.arch === 'arm64' ? 'arm64' : 'amd64'}`, 'fib');
    const native = await nebula('invoke', 'mine', '20', '--binary', `mine=${bin}`, '--runtime', 'process', '--json');
    expect(native.code, native.err).toBe(0);
    const rec = JSON.parse(native.out) as {
      result: number;
      runtime: string;
      artifact: { path: string; digest: string };
    };
    expect(rec).toMatchObject({ result: 6765, runtime: 'process', artifact: { path: bin } });
    expect(rec.artifact.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    const unknown = await nebula('invoke', 'mine', '20');
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/--wasm mine=PATH, --docker mine=IMAGE or --binary mine=PATH/);
  });

  it('says what went wrong in one line with a non-zero exit code, never a stack trace', async () => {
    const cases: Array<[string[], number, RegExp]> = [
      [['invoke', 'nope', '1'], 2, /FUNCTION_NOT_FOUND: No function named "nope"/],
      [['invoke', 'fib', '1', '--timeout', '600h'], 2, /--timeout is at most 596h/],
      [['invoke', 'fib', 'abc'], 1, /FUNCTION_FAILED/],
      [['invoke', 'fib'], 2, /takes a function and an input/],
      [['invoke', 'fib', '1', '--runtime', 'lambda'], 2, /--runtime is one of wasm, docker/],
      [['bench', '--meter', 'gude:/bad'], 2, /Unknown meter "gude:\/bad"/],
      [['bench', '--bogus'], 2, /Unknown option '--bogus'/],
      [['bench', '--repetitions', 'many'], 2, /--repetitions takes a whole number/],
      [['bench', '--runtimes', 'wasm,lambda'], 2, /"lambda" is not one of wasm, docker/],
      [['report', '/nonexistent/dir'], 2, /holds no experiment: no summary.json, run.json or records.jsonl/],
      [['gude-sim', '--trace', 'square'], 2, /--trace is constant:W/],
      [['frobnicate'], 2, /unknown command "frobnicate"\. \(nebula --help/],
      [['bnech', '--quick'], 2, /unknown command "bnech"\. Did you mean "nebula bench"\?/],
      [['bench', '--repetition', '3'], 2, /Unknown option '--repetition'; did you mean --repetitions\?/],
      [
        ['bench', '--runtimes', 'wasm,dokcer'],
        2,
        /"dokcer" is not one of wasm, docker, process \(did you mean docker\?\)/,
      ],
      [['bench', '--functions', 'fob'], 2, /FUNCTION_NOT_FOUND: No function named "fob"/],
      [['bench', '--wasm', 'mine=/nonexistent/mine.wasm'], 2, /--wasm mine: no file at \/nonexistent\/mine\.wasm/],
      [['bench', '--wasm', 'Bad=x.wasm'], 2, /"Bad" is not a function name/],
      [
        ['bench', '--functions', 'fib', '--inputs', 'prime=3'],
        2,
        /--inputs names "prime", which is not among the functions run/,
      ],
      [['bench', '--warmup', '-1'], 2, /--warmup/],
      [['compare', '/nonexistent/a'], 2, /takes two folders/],
      [['completion', 'fish'], 2, /takes bash or zsh, got "fish"/],
    ];
    const runs = await pool(cases, 4, ([args]) => nebula(...args));
    for (const [i, [args, code, message]] of cases.entries()) {
      const r = runs[i]!;
      expect(r.code, args.join(' ')).toBe(code);
      expect(r.err).toMatch(message);
      expect(r.err.trim().split('\n')[0]!.startsWith('nebula:')).toBe(true);
      noStack(r.err);
    }
  });

  it('lists the functions with their runtimes and sizes', async () => {
    const r = await nebula('functions');
    expect(r.code).toBe(0);
    for (const f of ['fib', 'exponential', 'factorial', 'prime', 'hash'])
      expect(r.out).toMatch(new RegExp(`^${f}\\s+wasm, docker(, process)?\\s+\\d`, 'm'));
  });

  it('runs a bench on wasm and re-renders its reports', async () => {
    const dir = join(tempDir('cli'), 'run');
    const r = await nebula(
      'bench',
      '--functions',
      'fib,prime',
      '--runtimes',
      'wasm',
      '--inputs',
      'fib=12,prime=100',
      '--repetitions',
      '3',
      '--warmup',
      '0',
      '--meter',
      'none',
      '--no-micro',
      '--out',
      dir,
    );
    expect(r.code, r.err).toBe(0);
    for (const f of ['run.json', 'records.jsonl', 'summary.json', 'report.md', 'report.html'])
      expect(r.out).toContain(join(dir, f));
    // The terminal summary: absolute medians with their interval and range per cell, and the output check.
    expect(r.out).toMatch(/^fib\s+12\s+Wasm\s+cold\s+3\s+[\d.]+ (µs|ms) \[[\d.]+ (µs|ms), [\d.]+ (µs|ms)\]/m);
    expect(r.out).toContain(
      'Outputs: every function gave the same output on every runtime and mode (6 records checked).',
    );
    expect(readFileSync(join(dir, 'records.jsonl'), 'utf8').trim().split('\n')).toHaveLength(6);
    const again = await nebula('report', dir);
    expect(again.code).toBe(0);
    expect(again.out).toContain('6 records');
    // The same folder again: refused, so runs are never mixed.
    const twice = await nebula('bench', '--functions', 'fib', '--runtimes', 'wasm', '--meter', 'none', '--out', dir);
    expect(twice.code).toBe(2);
    expect(twice.err).toMatch(/outDir .* already holds .*runs are never mixed/);
  });

  it('prints machine output with --json on every command that has output', async () => {
    const dir = join(tempDir('cli'), 'run');
    const b = await nebula(
      'bench',
      '--functions',
      'fib',
      '--runtimes',
      'wasm',
      '--inputs',
      'fib=10',
      '--repetitions',
      '2',
      '--warmup',
      '0',
      '--meter',
      'none',
      '--no-micro',
      '--out',
      dir,
      '--json',
    );
    expect(b.code, b.err).toBe(0);
    const parsed = JSON.parse(b.out) as { files: Record<string, string>; result: { cells: Array<{ ok: number }> } };
    expect(parsed.result.cells[0]!.ok).toBe(2);
    expect(parsed.files['report.html']).toBe(join(dir, 'report.html'));
    expect(JSON.parse((await nebula('report', dir, '--json')).out)).toMatchObject({ records: 2 });
    expect(
      (JSON.parse((await nebula('functions', '--json')).out) as Array<{ name: string }>).map((f) => f.name),
    ).toContain('fib');
    expect(
      (JSON.parse((await nebula('compare', dir, dir, '--json')).out) as { rows: unknown[] }).rows.length,
    ).toBeGreaterThan(0);
    const plan = JSON.parse((await nebula('bench', '--quick', '--dry-run', '--json')).out) as {
      cells: number;
      config: { repetitions: number };
    };
    expect(plan.config.repetitions).toBe(5);
    expect(plan.cells).toBeGreaterThan(0);
  });

  it('prints completion scripts that complete commands and flags', async () => {
    const b = await nebula('completion', 'bash');
    expect(b.code).toBe(0);
    const complete = (line: string) => {
      const words = line.split(' ');
      const script = `${b.out}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _nebula; echo "\${COMPREPLY[*]}"`;
      return spawnSync('bash', ['-c', script], { encoding: 'utf8' }).stdout.trim();
    };
    expect(complete('nebula be')).toBe('bench');
    expect(complete('nebula com')).toBe('compare completion');
    expect(complete('nebula bench --rep')).toBe('--repetitions');
    expect(complete('nebula bench --runtimes ')).toBe('wasm docker process');
    expect(complete('nebula compare --js')).toBe('--json');
    // Arguments: function names after invoke, then nothing for the input (no file names); shells; commands.
    expect(complete('nebula invoke f')).toBe('fib factorial');
    expect(complete('nebula invoke --runtime wasm e')).toBe('exponential');
    expect(complete('nebula invoke fib ')).toBe('');
    expect(complete('nebula completion ')).toBe('bash zsh');
    expect(complete('nebula help cl')).toBe('clean');
    const z = await nebula('completion', 'zsh');
    expect(z.out).toMatch(/^#compdef nebula/);
    expect(z.out).toContain(`'1:function:(${BUILTIN_NAMES.join(' ')})'`);
    expect(z.out).toContain("'completion:");
    expect(z.out).toContain("'*--wasm=:wasm: '");
    expect(z.out).toContain("'--modes=:modes:(cold prewarmed warm)'");
    const zsh = spawnSync('zsh', ['-n'], { input: z.out, encoding: 'utf8' });
    if (!zsh.error) expect(zsh.status, zsh.stderr).toBe(0);
  });

  it('runs the Gude simulator and the server until stopped', async () => {
    const started = (args: string[], ready: RegExp) =>
      new Promise<{ text: string; stop: () => Promise<number | null> }>((resolve, reject) => {
        const p = spawn(process.execPath, [main, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
        let text = '';
        p.stdout.on('data', (b) => {
          text += b;
          if (ready.test(text))
            resolve({
              text,
              stop: () =>
                new Promise((r) => {
                  p.once('exit', (c) => r(c));
                  p.kill('SIGINT');
                }),
            });
        });
        p.on('exit', (c) => reject(new Error(`exited ${c}: ${text}`)));
      });
    const sim = await started(
      ['gude-sim', '--port', '0', '--trace', 'constant:60'],
      /meter URL gude:\/\/127\.0\.0\.1:\d+/,
    );
    expect(sim.text).toContain('Gude simulator on 127.0.0.1');
    expect(await sim.stop()).toBe(0);
    const srv = await started(['serve', '--port', '0'], /serving on (http:\/\/\S+)\/.*\nenergy: .*\n/);
    const url = /serving on (http:\/\/\S+)\//.exec(srv.text)![1]!;
    expect(srv.text).toContain('energy: including idle power (no baseline; --baseline 30s measures one)');
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect(await srv.stop()).toBe(0);
    // With --baseline the idle power is measured first, and the page's energy is above it.
    const measured = await started(['serve', '--port', '0', '--baseline', '300ms'], /\nenergy: .*\n/);
    expect(measured.text).toMatch(/energy: above the idle baseline of [\d.]+ W/);
    const base = /serving on (http:\/\/\S+)\//.exec(measured.text)![1]!;
    const samples = (await (await fetch(`${base}/samples`)).json()) as { baseline: { powerW: number } | null };
    expect(samples.baseline?.powerW).toBeGreaterThan(0);
    expect(await measured.stop()).toBe(0);
  });
});
