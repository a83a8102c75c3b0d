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
    const { result, files, steps, knees } = JSON.parse(r.out) as {
      files: Record<string, string>;
      steps: Array<Record<string, unknown>>;
      knees: Array<Record<string, unknown>>;
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
    const csv = readFileSync(files['steps.csv']!, 'utf8').trim().split('\n');
    expect(csv).toHaveLength(3);
    // --json's steps are steps.csv's rows: the same names, the same figures.
    expect(Object.keys(steps[0]!).join(',')).toBe(csv[0]);
    expect(steps.map((s) => s.p99_ms)).toEqual(result.results.map((s) => s.latencyMs.p99.value));
    // --json's knees are the series' knees, their p99s the steps' own.
    expect(knees.map((k) => k.knee_per_s)).toEqual(result.series.map((s) => s.knee));
    const at = (rate: unknown) => steps.find((s) => s.offered_per_s === rate)?.p99_ms ?? null;
    expect(knees[0]!.p99_at_knee_ms).toBe(knees[0]!.knee_per_s === null ? null : at(knees[0]!.knee_per_s));
    expect(knees[0]!.p99_at_next_ms).toBe(knees[0]!.next_per_s === null ? null : at(knees[0]!.next_per_s));

    // nebula report --json prints what nebula load --json printed.
    const printed = JSON.parse(r.out) as Record<string, unknown>;
    const reported = await nebula('report', out, '--json');
    expect(reported.code, reported.err).toBe(0);
    expect(JSON.parse(reported.out)).toEqual(printed);

    // Killed before its summary: still reportable from run.json and its records, in the same shape.
    rmSync(files['summary.json']!);
    const again = await nebula('report', out, '--json');
    expect(again.code, again.err).toBe(0);
    const back = JSON.parse(again.out) as {
      files: Record<string, string>;
      steps: Array<Record<string, unknown>>;
      knees: Array<Record<string, unknown>>;
      result: { interrupted: boolean; results: Array<{ ok: number }> };
    };
    expect(Object.keys(back)).toEqual(Object.keys(printed));
    expect(Object.keys(back.files).sort()).toEqual(
      Object.keys(files)
        .filter((f) => f !== 'summary.json')
        .sort(),
    );
    expect(back.steps.map((s) => Object.keys(s))).toEqual(steps.map((s) => Object.keys(s)));
    expect(back.steps.map((s) => s.p99_ms)).toEqual(steps.map((s) => s.p99_ms));
    expect(back.knees).toEqual(knees);
    expect(back.result.interrupted).toBe(true);
    expect(back.result.results.map((s) => s.ok)).toEqual([20, 40]);

    // nebula advise reads no load run, finished or not: one line, exit 2, not a misread experiment.
    const advise = await nebula('advise', out, '--rate', '2/s');
    expect(advise.code, advise.err).toBe(2);
    expect(advise.err.trim().split('\n')).toHaveLength(1);
    expect(advise.err).toMatch(/holds a nebula load run; nebula advise reads an experiment/);
  });

  it("prints each step's row with the very cells report.md shows", async () => {
    const out = join(dir, 'terminal');
    const r = await nebula(
      'load',
      '--runtimes',
      'wasm',
      '--inputs',
      'fib=12',
      '--rate',
      '20/s',
      '--duration',
      '1s',
      '--meter',
      'none',
      '--warmup',
      '1',
      '--out',
      out,
    );
    expect(r.code, r.err).toBe(0);
    const advise = await nebula('advise', out, '--rate', '2/s');
    expect(advise.code, advise.err).toBe(2);
    expect(advise.err).toMatch(/holds a nebula load run/);
    const lines = r.out.split('\n');
    const at = lines.findIndex((l) => l.startsWith('function  input'));
    const terminal = lines[at + 1]!.trim().split(/ {2,}/);
    const md = readFileSync(join(out, 'report.md'), 'utf8').split('\n');
    const mdAt = md.findIndex((l) => l.startsWith('| function | input |'));
    const report = md[mdAt + 2]!.slice(2, -2)
      .split(' | ')
      .map((c) => c.replace(/\\(.)/g, '$1'));
    expect(terminal).toHaveLength(lines[at]!.split(/ {2,}/).length);
    expect(terminal).toEqual(report);
    // The knee row too: the same cells on the terminal as in report.md.
    const kneeAt = lines.findIndex((l) => l.startsWith('function  runtime  mode  bound'));
    const kneeMd = md.findIndex((l) => l.startsWith('| function | runtime | mode | bound |'));
    const mdRow = (l: string) =>
      l
        .slice(2, -2)
        .split(' | ')
        .map((c) => c.replace(/\\(.)/g, '$1').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&'));
    expect(lines[kneeAt]!.trim().split(/ {2,}/)).toEqual(mdRow(md[kneeMd]!));
    const kneeCells = lines[kneeAt + 1]!.trim().split(/ {2,}/);
    expect(kneeCells).toEqual(mdRow(md[kneeMd + 2]!));
    expect(kneeCells.slice(0, 4)).toEqual(['fib', 'Wasm', 'warm', 'p99 <= 10 ms, failed <= 5.0%']);
    expect(kneeCells[4]).toMatch(/^(20\.0\/s|none of the rates \(at 20\.0\/s, the lowest rate run, .+\))$/);
    // Progress gives the whole run's time left beside the step's own ETA.
    expect(r.err).toMatch(/== step \(phase 1 of 1\): 20 invocations \(the whole run: about \d+s left\)/);
    expect(r.err).toMatch(/step 20\/20 done, run \d+s/);
  });
});
