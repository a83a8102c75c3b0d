/** `--export-csv` of load and replay runs and folders: the CSV holds the figures of the report's cells, one figure each. */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fmtMs } from '../../src/experiment/report/format.js';
import { tempDir } from '../temp-dir.js';
import { nebula, pool } from './run-cli.js';

const dir = tempDir('load-replay-csv');

/** A CSV of plain cells (what these files hold: numbers, names, no commas inside) as objects by column. */
function readCsv(path: string): Array<Record<string, string>> {
  const [head, ...lines] = readFileSync(path, 'utf8').trim().split('\n');
  const names = head!.split(',');
  return lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [names[i]!, v])));
}

/** The rows of the first Markdown table under `## title`, as objects by heading (a repeated heading gets `#2`). */
function mdTable(markdown: string, title: string): Array<Record<string, string>> {
  const section = markdown.split(`## ${title}\n`)[1]!.split('\n## ')[0]!;
  const lines = section
    .split('\n')
    .filter((l) => l.startsWith('|'))
    .map((l) =>
      l
        .slice(1, -1)
        .split('|')
        .map((c) => c.trim()),
    );
  const heads = lines[0]!.map((h, i, all) => (all.indexOf(h) < i ? `${h}#2` : h));
  return lines.slice(2).map((cells) => Object.fromEntries(cells.map((c, i) => [heads[i]!, c])));
}

describe('--export-csv of load and replay', () => {
  it('a load run writes the CSV of its steps, whose figures are the report cells', async () => {
    const out = join(dir, 'load');
    const csv = join(dir, 'load-steps.csv');
    const r = await nebula(
      'load',
      '--runtimes',
      'wasm',
      '--rates',
      '20,40/s',
      '--duration',
      '1s',
      '--meter',
      'none',
      '--warmup',
      '1',
      '--out',
      out,
      '--export-csv',
      csv,
      '--json',
    );
    expect(r.code, r.err).toBe(0);
    const rows = readCsv(csv);
    expect(readFileSync(csv, 'utf8')).toBe(readFileSync(join(out, 'steps.csv'), 'utf8'));
    const report = mdTable(readFileSync(join(out, 'report.md'), 'utf8'), 'Per rate');
    expect(rows).toHaveLength(2);
    expect(report).toHaveLength(2);
    rows.forEach((row, i) => {
      expect(report[i]!['p50 [95%]']!.startsWith(`${fmtMs(Number(row.p50_ms))} [`)).toBe(true);
      expect(report[i]!['p99 [95%]']!.startsWith(`${fmtMs(Number(row.p99_ms))} [`)).toBe(true);
      expect(report[i]!.offered).toBe(`${Number(row.offered_per_s).toPrecision(3)}/s`);
    });

    // Of the folder, again: the same text; an existing file needs --force.
    const again = join(dir, 'load-again.csv');
    const rep = await nebula('report', out, '--export-csv', again);
    expect(rep.code, rep.err).toBe(0);
    expect(readFileSync(again, 'utf8')).toBe(readFileSync(csv, 'utf8'));
    const refused = await nebula('report', out, '--export-csv', again);
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/already exists; choose another name, or pass --force/);
    const own = await nebula('report', out, '--export-csv', join(out, 'steps.csv'), '--force');
    expect(own.code).toBe(2);
    expect(own.err).toMatch(/steps\.csv: is one of a run's own files/);
  });

  it('a replay folder exports a line per policy and per trace function, its figures the report cells', async () => {
    const trace = join(dir, 'trace.csv');
    writeFileSync(trace, 'time,function\n0,a\n1,a\n2,b\n3,a\n4,b\n');
    const out = join(dir, 'replay');
    const r = await nebula(
      'replay',
      trace,
      '--speed',
      '10',
      '--runtimes',
      'wasm',
      '--policies',
      'none',
      '--meter',
      'none',
      '--out',
      out,
    );
    expect(r.code, r.err).toBe(0);
    const csv = join(dir, 'policies.csv');
    const rep = await nebula('report', out, '--export-csv', csv);
    expect(rep.code, rep.err).toBe(0);
    const rows = readCsv(csv);
    const [policy, ...perFunction] = rows;
    expect(policy).toMatchObject({ runtime: 'wasm', policy: 'none', invocations: '5', trace_function: '' });
    expect(perFunction.map((f) => [f.trace_function, f.runs, f.invocations, f.cold_starts])).toEqual([
      ['f1', 'fib', '3', '3'],
      ['f2', 'fib', '2', '2'],
    ]);
    const report = mdTable(readFileSync(join(out, 'report.md'), 'utf8'), 'Policies side by side');
    expect(report[0]!.p99).toBe(fmtMs(Number(policy!.p99_ms)));
    expect(report[0]!['cold starts']).toBe(
      `${policy!.cold_starts} (${(Number(policy!.cold_share) * 100).toFixed(1)}%)`,
    );

    // Every file of the folder, kept.jsonl included, is its own: never replaced by an export, even with --force.
    const held = readdirSync(out).sort();
    expect(held).toEqual([
      'kept.jsonl',
      'policies.csv',
      'records.jsonl',
      'report.html',
      'report.md',
      'run.json',
      'summary.json',
    ]);
    const before = held.map((f) => readFileSync(join(out, f), 'utf8'));
    const refused = await pool(held, 4, (f) => nebula('report', out, '--export-csv', join(out, f), '--force'));
    for (const [i, f] of held.entries()) {
      expect(refused[i]!.code, f).toBe(2);
      expect(refused[i]!.err).toMatch(/is one of a run's own files/);
    }
    expect(held.map((f) => readFileSync(join(out, f), 'utf8'))).toEqual(before);
    // ... nor by a replay's export into the folder it makes, refused before anything runs.
    const into = await nebula(
      'replay',
      trace,
      '--policies',
      'none',
      '--out',
      join(dir, 'replay2'),
      '--export-csv',
      join(dir, 'replay2', 'kept.jsonl'),
    );
    expect(into.code).toBe(2);
    expect(into.err).toMatch(/kept\.jsonl: is one of a run's own files/);
    expect(existsSync(join(dir, 'replay2'))).toBe(false);
  });
});
