import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { functionsDir } from '../../src/paths.js';
import { nebula, pool } from './run-cli.js';

const root = mkdtempSync(join(tmpdir(), 'nebula-names-'));
const wasm = join(functionsDir(), 'wasm', 'fib.wasm');
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Keys of Object.prototype other than `constructor` (the one that is a valid function name). */
const PROTOTYPE_NAMES = ['__proto__', 'toString', 'hasOwnProperty', 'valueOf'];

describe('function names that are Object.prototype keys', () => {
  it('run, report, compare and advise a function named constructor', async () => {
    const out = join(root, 'run');
    const r = await nebula(
      'bench',
      '--wasm',
      `constructor=${wasm}`,
      '--functions',
      'constructor,fib',
      '--runtimes',
      'wasm',
      '--inputs',
      'constructor=7,fib=7',
      '--repetitions',
      '2',
      '--warmup',
      '0',
      '--meter',
      'estimate',
      '--baseline',
      '0',
      '--no-micro',
      '--out',
      out,
    );
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^constructor\s+7\s+Wasm\s+cold\s+2\s/m);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as {
      cells: Array<{ function: string; ok: number }>;
    };
    expect(summary.cells.find((c) => c.function === 'constructor')?.ok).toBe(2);
    const [report, compare, advise] = await pool(
      [
        ['report', out],
        ['compare', out, out],
        ['advise', out, '--rate', '1/s', '--function', 'constructor'],
      ],
      3,
      (args) => nebula(...args),
    );
    expect(report!.code, report!.err).toBe(0);
    expect(report!.out).toContain('4 records');
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toMatch(/\| constructor \| 7 \| Wasm \| cold \| 2 \|/);
    expect(compare!.code, compare!.err).toBe(0);
    expect(compare!.out).toMatch(/^constructor\s+7\s+Wasm\s+cold\s+startupMs/m);
    expect(advise!.code, advise!.err).toBe(0);
    expect(advise!.out).toMatch(/constructor\(7\) wasm/);
  });

  it('plan from flags and a config file with a function named constructor', async () => {
    const config = join(root, 'nebula.config.json');
    writeFileSync(
      config,
      JSON.stringify({ functions: [{ name: 'constructor', wasm, inputs: [3, 4] }], meter: 'none' }),
    );
    const [fromFile, fromFlags] = await pool(
      [
        ['bench', '--config', config, '--dry-run'],
        ['bench', '--wasm', `constructor=${wasm}`, '--dry-run'],
      ],
      2,
      (args) => nebula(...args),
    );
    expect(fromFile!.code, fromFile!.err).toBe(0);
    expect(fromFile!.out).toContain('functions: constructor(3, 4)');
    expect(fromFlags!.code, fromFlags!.err).toBe(0);
    expect(fromFlags!.out).toContain('functions: constructor(null)');
  });

  it('refuse the other prototype names in one line where names are checked, exit 2', async () => {
    const config = (value: unknown) => {
      const file = join(root, `bad-${Math.random().toString(36).slice(2)}.json`);
      writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value));
      return file;
    };
    const cases: string[][] = PROTOTYPE_NAMES.flatMap((name) => [
      ['bench', '--wasm', `${name}=${wasm}`, '--dry-run'],
      ['bench', '--functions', name, '--dry-run'],
      ['bench', '--inputs', `${name}=1`, '--dry-run'],
      ['invoke', name, '1'],
      ['bench', '--config', config({ functions: [{ name, wasm }] }), '--dry-run'],
      ['bench', '--config', config(`{"${name}": {"repetitions": 0}}`), '--dry-run'],
    ]);
    const runs = await pool(cases, 4, (args) => nebula(...args));
    for (const [i, args] of cases.entries()) {
      const r = runs[i]!;
      expect(r.code, `${args.join(' ')}: ${r.err}`).toBe(2);
      expect(r.err.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.err).toMatch(/^nebula: /);
    }
  });

  it('report records whose function and error code are prototype names', async () => {
    const dir = join(root, 'records-only');
    mkdirSync(dir);
    const t = Date.parse('2026-01-01T10:00:00Z');
    const line = (i: number, fn: string, code: string) =>
      JSON.stringify({
        id: `r${i}`,
        function: fn,
        runtime: 'wasm',
        mode: 'cold',
        input: 1,
        startedAt: new Date(t + i).toISOString(),
        ok: false,
        error: { code, message: `failed as ${code}` },
        timing: { prepareMs: 0, startupMs: 1, execMs: 1, totalMs: 2, cleanupMs: null, phases: {}, compiled: false },
        energy: null,
      });
    writeFileSync(
      join(dir, 'records.jsonl'),
      [line(1, '__proto__', 'constructor'), line(2, '__proto__', '__proto__'), line(3, 'toString', 'valueOf')].join(
        '\n',
      ) + '\n',
    );
    const r = await nebula('report', dir, '--json');
    expect(r.code, r.err).toBe(0);
    const { result } = JSON.parse(r.out) as {
      result: { cells: Array<{ function: string; failed: number; errors: Record<string, number> }> };
    };
    expect(result.cells.map((c) => [c.function, c.failed, c.errors])).toEqual([
      ['__proto__', 2, { constructor: 1, ['__proto__']: 1 }],
      ['toString', 1, { valueOf: 1 }],
    ]);
  });
});
