import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/paths.js';
import { main, nebula, pool } from './run-cli.js';
const noStack = (text: string) => expect(text).not.toMatch(/\n\s+at /);

describe('the nebula command', () => {
  it('prints help for itself and every command, and its version', async () => {
    const h = await nebula('--help');
    expect(h.code).toBe(0);
    const cmds = ['invoke', 'bench', 'load', 'report', 'compare', 'functions', 'gude-sim', 'serve', 'completion'];
    const helps = await pool(cmds, 4, (cmd) => nebula(cmd, '--help'));
    cmds.forEach((cmd, i) => {
      expect(h.out).toContain(cmd);
      expect(helps[i]!.code, cmd).toBe(0);
      expect(helps[i]!.out).toContain(`Usage: nebula ${cmd}`);
    });
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
    const dir = join(mkdtempSync(join(tmpdir(), 'nebula-cli-')), 'run');
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
    const dir = join(mkdtempSync(join(tmpdir(), 'nebula-cli-')), 'run');
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
    expect(complete('nebula bench --rep')).toBe('--repetitions');
    expect(complete('nebula bench --runtimes ')).toBe('wasm docker process');
    expect(complete('nebula compare --js')).toBe('--json');
    const z = await nebula('completion', 'zsh');
    expect(z.out).toMatch(/^#compdef nebula/);
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
    const srv = await started(['serve', '--port', '0'], /serving on (http:\/\/\S+)\//);
    const url = /serving on (http:\/\/\S+)\//.exec(srv.text)![1]!;
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect(await srv.stop()).toBe(0);
  });
});
