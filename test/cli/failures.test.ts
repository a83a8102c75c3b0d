import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GudeSimulator } from '../../src/meters/gude/index.js';
import { functionsDir } from '../../src/paths.js';
import { nebula, pool } from './run-cli.js';

const root = mkdtempSync(join(tmpdir(), 'nebula-failures-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const wasm = join(functionsDir(), 'wasm', 'fib.wasm');
const small = ['--runtimes', 'wasm', '--repetitions', '2', '--warmup', '0', '--no-micro'];

/** A local TCP port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('failures that say so', () => {
  it('a meter that cannot be read fails the run at once, exit 1, with the reason and how to run without energy', async () => {
    const sim = new GudeSimulator({ port: 0, host: '127.0.0.1', trace: 60, fault: 'garbage' });
    const { port } = await sim.start();
    try {
      const closed = await closedPort();
      const outs = [join(root, 'm1'), join(root, 'm2')];
      const [refused, garbage, serve] = await pool(
        [
          ['bench', '--functions', 'fib', ...small, '--meter', `gude://127.0.0.1:${closed}/port1`, '--out', outs[0]!],
          ['bench', '--functions', 'fib', ...small, '--meter', `gude://127.0.0.1:${port}/port1`, '--out', outs[1]!],
          ['serve', '--port', '0', '--meter', `gude://127.0.0.1:${closed}/port1`],
        ],
        3,
        (args) => nebula(...args),
      );
      for (const r of [refused!, garbage!, serve!]) {
        expect(r.code, r.err).toBe(1);
        expect(r.err).toMatch(/^nebula: METER_(UNAVAILABLE|PROTOCOL): Gude meter /);
        expect(r.err).toContain('nebula: to measure without energy, run with --meter none');
        expect(r.err).not.toContain('== prepare');
      }
      expect(refused!.err).toMatch(/METER_UNAVAILABLE: .*ECONNREFUSED/);
      expect(garbage!.err).toMatch(/METER_PROTOCOL/);
      for (const out of outs) expect(existsSync(out)).toBe(false);
      const none = await nebula(
        'bench',
        '--functions',
        'fib',
        '--inputs',
        'fib=5',
        ...small,
        '--meter',
        'none',
        '--out',
        join(root, 'm3'),
      );
      expect(none.code, none.err).toBe(0);
    } finally {
      await sim.stop();
    }
  });

  it('a cell that never succeeded: its codes and first message in the terminal and both reports, exit 1', async () => {
    const out = join(root, 'failed');
    const r = await nebula(
      'bench',
      '--wasm',
      `mine=${wasm}`,
      '--functions',
      'mine,fib',
      '--inputs',
      'mine=100,fib=5',
      ...small,
      '--meter',
      'none',
      '--out',
      out,
    );
    expect(r.code, r.err).toBe(1);
    expect(r.out).toContain('FAILED: 1 cell never succeeded; error codes and the first message per cell:');
    expect(r.out).toMatch(
      /^ {2}mine\(100\) Wasm cold: 2 of 2 failed \(FUNCTION_FAILED 2\); first: Function "mine" exited with code 2: fib: input must be an integer from 0 to 78/m,
    );
    // Every file is written all the same.
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    expect(md).toContain('## Failures: cells that never succeeded');
    expect(md).toMatch(
      /\| mine \| 100 \| Wasm \| cold \| 2 of 2 \| FUNCTION_FAILED 2 \| Function "mine" exited with code 2: /,
    );
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('Function &quot;mine&quot; exited with code 2');
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as {
      cells: Array<{ function: string; firstError?: { code: string; message: string } }>;
    };
    expect(summary.cells.find((c) => c.function === 'mine')?.firstError).toMatchObject({ code: 'FUNCTION_FAILED' });
    expect(summary.cells.find((c) => c.function === 'fib')?.firstError).toBeUndefined();
    const json = await nebula(
      'bench',
      '--wasm',
      `mine=${wasm}`,
      '--inputs',
      'mine=100',
      ...small,
      '--meter',
      'none',
      '--out',
      join(root, 'failed-json'),
      '--json',
    );
    expect(json.code).toBe(1);
    expect(JSON.parse(json.out)).toMatchObject({ result: { cells: [{ ok: 0, failed: 2 }] } });
  });

  it("checks inputs against the built-ins' rules before any work, --dry-run included, exit 2", async () => {
    const config = join(root, 'inputs.json');
    writeFileSync(config, JSON.stringify({ functions: [{ name: 'factorial', inputs: [5, 21] }] }));
    const cases: Array<[string[], RegExp]> = [
      [
        ['--functions', 'fib', '--inputs', 'fib=100', '--dry-run'],
        /fib: input must be an integer from 0 to 78 .*, got 100 \(from --inputs\)\./,
      ],
      [['--functions', 'fib', '--inputs', 'fib=100', '--out', join(root, 'never')], /got 100 \(from --inputs\)/],
      [
        ['--functions', 'prime', '--inputs', 'prime={"n":5,"repeat":0}', '--dry-run'],
        /prime: input must be an integer from 1 to 10000000/,
      ],
      [['--functions', 'hash', '--inputs', 'hash=abc', '--dry-run'], /got "abc"/],
      [
        ['--config', config, '--dry-run'],
        /factorial: input must be an integer from 0 to 20 .*, got 21 \(from .*inputs\.json\)\./,
      ],
    ];
    const runs = await pool(cases, 4, ([args]) => nebula('bench', ...args));
    for (const [i, [args, message]] of cases.entries()) {
      expect(runs[i]!.code, args.join(' ')).toBe(2);
      expect(runs[i]!.err).toMatch(/^nebula: INVALID_INPUT: /);
      expect(runs[i]!.err).toMatch(message);
    }
    expect(existsSync(join(root, 'never'))).toBe(false);
    // Inputs in range, and any input for a function of your own (its rules are its own).
    const ok = await nebula('bench', '--functions', 'fib', '--inputs', 'fib=78,fib={"n":3,"repeat":2}', '--dry-run');
    expect(ok.code, ok.err).toBe(0);
    const own = await nebula('bench', '--wasm', `fib=${wasm}`, '--inputs', 'fib=100', '--dry-run');
    expect(own.code, own.err).toBe(0);
  });

  it('nebula advise on a run without a meter names what is missing', async () => {
    const out = join(root, 'no-meter');
    const b = await nebula(
      'bench',
      '--functions',
      'fib',
      '--inputs',
      'fib=5',
      ...small,
      '--meter',
      'none',
      '--out',
      out,
    );
    expect(b.code, b.err).toBe(0);
    const r = await nebula('advise', out, '--rate', '1/s');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^nebula: ENERGY_NOT_MEASURED: .* has no energy figures: it ran without a meter/);
  });
});
