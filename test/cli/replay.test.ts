/** `nebula replay` as a user runs it: bad traces and mappings refused before anything runs, a short replay, its reports and advice. */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/paths.js';
import { main, nebula, pool } from './run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'nebula-replay-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const trace = join(packageRoot(), 'examples', 'traces', 'synthetic-azure.csv');

describe('nebula replay', () => {
  it('refuses bad traces, mappings and policies with one line and exit 2, creating nothing', async () => {
    const file = (name: string, text: string) => {
      const p = join(dir, name);
      writeFileSync(p, text);
      return p;
    };
    const duration = file('duration.csv', 'HashOwner,HashApp,HashFunction,Average,Count,Minimum,Maximum\n');
    const negative = file('negative.csv', 'time,function\n-3,a\n');
    const out = join(dir, 'never');
    const cases: Array<[string[], RegExp]> = [
      [[duration], /duration or memory file/],
      [[negative], /negative\.csv:2: time "-3" is not a number of seconds/],
      [[join(dir, 'missing.csv')], /Cannot read the trace/],
      [[trace, '--map', 'f9=fib'], /the trace has no function "f9"/],
      [[trace, '--map', 'f1=nosuch'], /No function named "nosuch"/],
      [[trace, '--policies', 'lru'], /use none, fixed:DURATION/],
      [[trace, '--window', '10:00-09:00'], /--window must end after it starts/],
      [[trace, '--speed', 'fast'], /--speed takes a number above 0/],
      [
        [trace, '--runtimes', 'process', '--policies', 'fixed:10m', '--meter', 'none'],
        /process runtime keeps no sandboxes/,
      ],
    ];
    const runs = await pool(cases, 4, ([args]) => nebula('replay', ...args, '--out', out));
    runs.forEach((r, i) => {
      expect(r.code, `${cases[i]![0].join(' ')}: ${r.err}`).toBe(2);
      expect(r.err.trim().split('\n'), r.err).toHaveLength(1);
      expect(r.err).toMatch(cases[i]![1]);
    });
    expect(existsSync(out)).toBe(false);
  });

  it('replays a window under none and fixed on wasm, writes its reports, and advise ranks its policies', async () => {
    const out = join(dir, 'run');
    const r = await nebula(
      'replay',
      trace,
      '--window',
      '0m-10m',
      '--speed',
      '600',
      '--runtimes',
      'wasm',
      '--policies',
      'none,fixed:10m',
      '--meter',
      'none',
      '--out',
      out,
      '--json',
    );
    expect(r.code, r.err).toBe(0);
    const { result, files } = JSON.parse(r.out) as {
      files: Record<string, string>;
      result: {
        trace: { arrivals: number };
        results: Array<{ policy: string; invocations: number; coldStarts: number }>;
      };
    };
    expect(result.results).toHaveLength(2);
    expect(result.results[0]).toMatchObject({
      policy: 'none',
      invocations: result.trace.arrivals,
      coldStarts: result.trace.arrivals,
    });
    // Kept instances on Wasm: each trace function starts cold once in a 10-minute window.
    const fixed = result.results[1]!;
    expect(fixed).toMatchObject({ policy: 'fixed:10m', invocations: result.trace.arrivals });
    expect(fixed.coldStarts).toBeGreaterThan(0);
    expect(fixed.coldStarts).toBeLessThan(result.trace.arrivals);
    expect(readFileSync(files['policies.csv']!, 'utf8')).toMatch(/^runtime,policy,invocations/);
    expect(Object.keys(files)).toEqual(
      expect.arrayContaining(['run.json', 'records.jsonl', 'kept.jsonl', 'summary.json']),
    );
    // The folder reported again prints what the replay printed.
    const again = await nebula('report', out, '--json');
    expect(again.code, again.err).toBe(0);
    expect(JSON.parse(again.out)).toEqual(JSON.parse(r.out));
    const advice = await nebula('advise', out);
    expect(advice.code, advice.err).toBe(0);
    expect(advice.out).toMatch(/^best: fixed:10m on wasm: \d+ cold starts/m);
  });

  it('killed with SIGKILL midway, its folder is reported with the sandboxes kept over time up to the kill', async () => {
    const out = join(dir, 'killed');
    // Two hours of trace at 120x: a minute of replay, killed once it has counted for a while.
    const child = spawn(
      process.execPath,
      [
        main,
        'replay',
        trace,
        '--window',
        '08:00-10:00',
        '--speed',
        '120',
        '--runtimes',
        'wasm',
        '--policies',
        'none',
        '--meter',
        'none',
        '--out',
        out,
      ],
      { stdio: 'ignore' },
    );
    const kept = join(out, 'kept.jsonl');
    // Whole lines only: a line the kill cut off is skipped by the reader too.
    const lines = () =>
      existsSync(kept)
        ? readFileSync(kept, 'utf8')
            .split('\n')
            .filter((l) => l.endsWith('}')).length
        : 0;
    for (let i = 0; i < 600 && lines() < 20; i++) await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(lines()).toBeGreaterThanOrEqual(20);
    expect(existsSync(join(out, 'summary.json'))).toBe(false);

    const r = await nebula('report', out, '--json');
    expect(r.code, r.err).toBe(0);
    const { result } = JSON.parse(r.out) as {
      result: {
        interrupted: boolean;
        notes: string[];
        results: Array<{ kept: Array<{ atMs: number; kept: number }> }>;
      };
    };
    expect(result.interrupted).toBe(true);
    expect(result.notes.join(' ')).toMatch(/from kept\.jsonl, up to the stop/);
    // Every count written before the kill, in trace time order; none kept (the policy is none).
    const series = result.results[0]!.kept;
    expect(series.length).toBe(lines());
    expect(series.every((k, i) => k.kept === 0 && (i === 0 || k.atMs > series[i - 1]!.atMs))).toBe(true);
  });
});
