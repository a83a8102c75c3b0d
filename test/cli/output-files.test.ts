import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nebula, pool } from './run-cli.js';

const root = mkdtempSync(join(tmpdir(), 'nebula-outputs-'));
const run = join(root, 'run');
const small = ['--functions', 'fib', '--runtimes', 'wasm', '--inputs', 'fib=5', '--repetitions', '2'];
const quiet = ['--warmup', '0', '--meter', 'none', '--no-micro'];

beforeAll(async () => {
  const r = await nebula('bench', ...small, ...quiet, '--out', run);
  expect(r.code, r.err).toBe(0);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('files the CLI writes on request', () => {
  it('are checked before any work: a missing folder, an unwritable place, a folder, a device: exit 2', async () => {
    const out = join(root, 'never');
    const cases: Array<[string[], RegExp]> = [
      [
        ['bench', ...small, '--out', out, '--export-csv', join(root, 'missing', 'x.csv')],
        /folder .*missing does not exist/,
      ],
      [['bench', ...small, '--out', out, '--export-csv', '/proc/x.csv'], /folder \/proc cannot be written/],
      [['bench', ...small, '--out', out, '--export-csv', root], /is a folder/],
      [['bench', ...small, '--out', out, '--export-csv', '/dev/null', '--force'], /not a regular file/],
      [['bench', ...small, '--out', out, '--export-csv', join(out, 'sub', 'x.csv')], /does not exist/],
      [['bench', ...small, '--out', '/proc/nebula-run'], /outDir \/proc\/nebula-run cannot be created/],
      [['bench', ...small, '--out', join(run, 'summary.json', 'x')], /summary\.json is a file/],
      [['report', run, '--export-csv', join(root, 'missing', 'x.csv')], /does not exist/],
      [['compare', run, run, '--html', join(root, 'missing', 'c.html')], /does not exist/],
      [
        ['compare', run, run, '--markdown', join(root, 'c.md'), '--html', join(root, 'c.md')],
        /also the file of --markdown/,
      ],
    ];
    const runs = await pool(cases, 4, ([args]) => nebula(...args));
    for (const [i, [args, message]] of cases.entries()) {
      expect(runs[i]!.code, args.join(' ')).toBe(2);
      expect(runs[i]!.err).toMatch(message);
      // Refused before the run started: no phase announced, no folder made.
      expect(runs[i]!.err).not.toContain('== prepare');
    }
    expect(existsSync(out)).toBe(false);
    expect(existsSync(join(root, 'c.md'))).toBe(false);
  });

  it("never replace a run's own files, not even with --force", async () => {
    const records = readFileSync(join(run, 'records.jsonl'), 'utf8');
    const summary = readFileSync(join(run, 'summary.json'), 'utf8');
    const cases: string[][] = [
      ['report', run, '--export-csv', join(run, 'records.jsonl')],
      ['report', run, '--export-csv', join(run, 'summary.json'), '--force'],
      ['report', run, '--export-csv', join(run, 'run.json'), '--force'],
      ['compare', run, run, '--markdown', join(run, 'summary.json'), '--force'],
      ['compare', run, run, '--html', join(run, 'report.html'), '--force'],
      ['bench', ...small, ...quiet, '--out', join(root, 'other'), '--export-csv', join(root, 'other', 'records.jsonl')],
      // Another run's folder, written from a bench of its own.
      [
        'bench',
        ...small,
        ...quiet,
        '--out',
        join(root, 'other'),
        '--export-csv',
        join(run, 'records.jsonl'),
        '--force',
      ],
    ];
    const runs = await pool(cases, 4, (args) => nebula(...args));
    for (const [i, args] of cases.entries()) {
      expect(runs[i]!.code, args.join(' ')).toBe(2);
      expect(runs[i]!.err).toMatch(/is one of a run's own files/);
    }
    expect(readFileSync(join(run, 'records.jsonl'), 'utf8')).toBe(records);
    expect(readFileSync(join(run, 'summary.json'), 'utf8')).toBe(summary);
    expect((await nebula('report', run)).out).toContain('2 records');
  });

  it('refuse an existing file unless --force, then replace it', async () => {
    const csv = join(root, 'records.csv');
    const md = join(root, 'compare.md');
    writeFileSync(csv, 'keep me');
    writeFileSync(md, 'keep me');
    const refused = await pool(
      [
        ['report', run, '--export-csv', csv],
        ['compare', run, run, '--markdown', md],
        ['bench', ...small, ...quiet, '--out', join(root, 'b1'), '--export-csv', csv],
      ],
      3,
      (args) => nebula(...args),
    );
    for (const r of refused) {
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/already exists; choose another name, or pass --force to replace it/);
    }
    expect(readFileSync(csv, 'utf8')).toBe('keep me');
    expect(readFileSync(md, 'utf8')).toBe('keep me');
    expect(existsSync(join(root, 'b1'))).toBe(false);

    const report = await nebula('report', run, '--export-csv', csv, '--force');
    expect(report.code, report.err).toBe(0);
    expect(readFileSync(csv, 'utf8').split('\r\n')[0]).toMatch(/^id,/);
    const compare = await nebula('compare', run, run, '--markdown', md, '--force');
    expect(compare.code, compare.err).toBe(0);
    expect(readFileSync(md, 'utf8')).toContain('|');
    const bench = await nebula('bench', ...small, ...quiet, '--out', join(root, 'b2'), '--export-csv', csv, '--force');
    expect(bench.code, bench.err).toBe(0);
    expect(readFileSync(csv, 'utf8').trim().split('\r\n')).toHaveLength(3);
    // A new file inside the run's own folder is fine: the run makes the folder.
    const inside = await nebula(
      'bench',
      ...small,
      ...quiet,
      '--out',
      join(root, 'b3'),
      '--export-csv',
      join(root, 'b3', 'all.csv'),
    );
    expect(inside.code, inside.err).toBe(0);
    expect(existsSync(join(root, 'b3', 'all.csv'))).toBe(true);
  });
});
