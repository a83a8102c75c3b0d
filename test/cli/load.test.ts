/** `nebula load` as a user runs it: bad input refused in one line with exit 2 before anything runs, and a short real run. */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nebula, pool } from './run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'nebula-load-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('nebula load', () => {
  it('refuses bad input with one line and exit 2, creating nothing', async () => {
    const out = join(dir, 'never');
    const cases: Array<[string[], RegExp]> = [
      [['--rate', 'fast'], /--rate takes a rate above 0 such as 200\/s/],
      [['--rate=-5/s'], /--rate takes a rate above 0/],
      [['--rate', '0'], /--rate takes a rate above 0/],
      [['--rates', '50,abc/s'], /--rates takes a rate/],
      [['--rate', '10/s', '--rates', '20,30/s'], /Give --rate or --rates, not both/],
      [['--arrivals', 'bursty'], /--arrivals is constant or poisson/],
      [['--functions', 'nosuch'], /No function named "nosuch"/],
      [['--runtimes', 'wasmm'], /did you mean wasm/],
      [['--rate', '100000/s', '--duration', '596h'], /arrivals in all, over the limit/],
      [['--stop-errors', 'lots'], /--stop-errors takes a share/],
      [['--inputs', 'fib=1,fib=2'], /more than one input/],
      [['--max-in-flight', '0'], /--max-in-flight takes a whole number >= 1/],
    ];
    const runs = await pool(cases, 4, ([args]) => nebula('load', ...args, '--out', out));
    runs.forEach((r, i) => {
      expect(r.code, cases[i]![0].join(' ')).toBe(2);
      expect(r.err.trim().split('\n'), r.err).toHaveLength(1);
      expect(r.err).toMatch(cases[i]![1]);
    });
    expect(existsSync(out)).toBe(false);
  });

  it('runs a short sweep on wasm and prints the summary per rate as JSON', async () => {
    const out = join(dir, 'run');
    const r = await nebula(
      'load',
      '--runtimes',
      'wasm',
      '--inputs',
      'fib=12',
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
      '--json',
    );
    expect(r.code, r.err).toBe(0);
    const { result, files } = JSON.parse(r.out) as {
      files: Record<string, string>;
      result: {
        results: Array<{
          ratePerS: number;
          scheduled: number;
          ok: number;
          offeredPerS: number;
          latencyMs: { p99: { value: number } };
        }>;
        series: Array<{ runtime: string; knee: number | null }>;
      };
    };
    expect(result.results.map((s) => [s.ratePerS, s.scheduled, s.offeredPerS])).toEqual([
      [20, 20, 20],
      [40, 40, 40],
    ]);
    for (const s of result.results) {
      expect(s.ok).toBe(s.scheduled);
      expect(s.latencyMs.p99.value).toBeGreaterThan(0);
    }
    expect(result.series).toHaveLength(1);
    for (const f of ['run.json', 'records.jsonl', 'summary.json', 'report.md', 'report.html', 'steps.csv'])
      expect(existsSync(files[f]!), f).toBe(true);
    expect(readFileSync(files['report.html']!, 'utf8')).toContain('p99 latency against offered load');
    expect(readFileSync(files['steps.csv']!, 'utf8').trim().split('\n')).toHaveLength(3);

    // Killed before its summary: still reportable from run.json and its records.
    rmSync(files['summary.json']!);
    const again = await nebula('report', out, '--json');
    expect(again.code, again.err).toBe(0);
    const back = JSON.parse(again.out) as { result: { interrupted: boolean; results: Array<{ ok: number }> } };
    expect(back.result.interrupted).toBe(true);
    expect(back.result.results.map((s) => s.ok)).toEqual([20, 40]);
  });
});
