import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/paths.js';

const main = join(packageRoot(), 'dist', 'cli', 'main.js');
function nebula(...args: string[]) {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, FORCE_COLOR: '0' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const noStack = (text: string) => expect(text).not.toMatch(/\n\s+at /);

describe('the nebula command', () => {
  it('prints help for itself and every command, and its version', () => {
    const h = nebula('--help');
    expect(h.code).toBe(0);
    for (const cmd of ['invoke', 'bench', 'report', 'functions', 'gude-sim', 'serve']) {
      expect(h.out).toContain(cmd);
      const c = nebula(cmd, '--help');
      expect(c.code, cmd).toBe(0);
      expect(c.out).toContain(`Usage: nebula ${cmd}`);
    }
    const v = nebula('--version');
    expect(v.out.trim()).toBe((JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version);
  });

  it('invokes a function and prints the result, or the record with --json', () => {
    const a = nebula('invoke', 'fib', '20');
    expect(a.code).toBe(0);
    expect(a.out.trim()).toBe('6765');
    expect(a.err).toMatch(/wasm cold: startup .* exec .* total/);
    const b = nebula('invoke', 'factorial', '{"n": 5}', '--json');
    expect(JSON.parse(b.out)).toMatchObject({ function: 'factorial', ok: true, result: '120' });
  });

  it('says what went wrong in one line with a non-zero exit code, never a stack trace', () => {
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
      [['report', '/nonexistent/dir'], 2, /holds no readable summary.json/],
      [['gude-sim', '--trace', 'square'], 2, /--trace is constant:W/],
      [['frobnicate'], 2, /unknown command "frobnicate"/],
    ];
    for (const [args, code, message] of cases) {
      const r = nebula(...args);
      expect(r.code, args.join(' ')).toBe(code);
      expect(r.err).toMatch(message);
      expect(r.err.trim().split('\n')[0]!.startsWith('nebula:')).toBe(true);
      noStack(r.err);
    }
  });

  it('lists the functions with their runtimes and sizes', () => {
    const r = nebula('functions');
    expect(r.code).toBe(0);
    for (const f of ['fib', 'exponential', 'factorial', 'prime', 'hash']) expect(r.out).toMatch(new RegExp(`^${f}\\s+wasm, docker(, process)?\\s+\\d`, 'm'));
  });

  it('runs a bench on wasm and re-renders its reports', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'nebula-cli-')), 'run');
    const r = nebula('bench', '--functions', 'fib,prime', '--runtimes', 'wasm', '--inputs', 'fib=12,prime=100', '--repetitions', '3', '--warmup', '0', '--meter', 'none', '--no-micro', '--out', dir);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(join(dir, 'report.html'));
    expect(readFileSync(join(dir, 'records.jsonl'), 'utf8').trim().split('\n')).toHaveLength(6);
    const again = nebula('report', dir);
    expect(again.code).toBe(0);
    expect(again.out).toContain('6 records');
  });

  it('runs the Gude simulator and the server until stopped', async () => {
    const started = (args: string[], ready: RegExp) =>
      new Promise<{ text: string; stop: () => Promise<number | null> }>((resolve, reject) => {
        const p = spawn(process.execPath, [main, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
        let text = '';
        p.stdout.on('data', (b) => {
          text += b;
          if (ready.test(text)) resolve({ text, stop: () => new Promise((r) => (p.once('exit', (c) => r(c)), p.kill('SIGINT'))) });
        });
        p.on('exit', (c) => reject(new Error(`exited ${c}: ${text}`)));
      });
    const sim = await started(['gude-sim', '--port', '0', '--trace', 'constant:60'], /meter URL gude:\/\/127\.0\.0\.1:\d+/);
    expect(sim.text).toContain('Gude simulator on 127.0.0.1');
    expect(await sim.stop()).toBe(0);
    const srv = await started(['serve', '--port', '0'], /serving on (http:\/\/\S+)\//);
    const url = /serving on (http:\/\/\S+)\//.exec(srv.text)![1]!;
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect(await srv.stop()).toBe(0);
  });
});
