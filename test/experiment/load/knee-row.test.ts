/** One knee row per series: the terminal summary, report.md, report.html and the JSON show the same knee, bound and p99s. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSummary } from '../../../src/cli/load-summary.js';
import { KNEE_HEAD, kneeCells, kneeRecords } from '../../../src/experiment/load/knee-row.js';
import { writeLoadReports } from '../../../src/experiment/load/report.js';
import type { LoadResult } from '../../../src/experiment/load/run-load.js';
import { resolveLoadSpec } from '../../../src/experiment/load/spec.js';
import { STEP_HEAD, stepCells } from '../../../src/experiment/load/step-row.js';
import { kneeOf, summarizeStep, type LoadRecord, type LoadStep } from '../../../src/experiment/load/summary.js';
import type { Cell } from '../../../src/experiment/cell.js';
import { record } from '../fixtures.js';
import { unescapeHtml, unescapeMd } from './unescape.js';

const dir = mkdtempSync(join(tmpdir(), 'nebula-knee-row-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A step of `ratePerS` invocations a second for 1 s, each `latencyMs` late from its intended time. */
function step(cell: Cell, index: number, ratePerS: number, latencyMs: number) {
  const s: LoadStep = { ...cell, ratePerS, arrivals: 'constant', durationMs: 1000 };
  const startAt = Date.parse('2026-01-01T10:00:00Z');
  const records = Array.from({ length: ratePerS }, (_, i) => {
    const r = record(cell, 0.05, 0.4, null) as LoadRecord;
    r.load = { step: index, intendedAt: startAt + (i * 1000) / ratePerS, lagMs: 0.01, queueMs: 0, latencyMs };
    return r;
  });
  const gen = { scheduled: ratePerS, sent: ratePerS, givenUp: 0, unsent: 0, peakInFlight: 1, startAt };
  return summarizeStep(index, s, records, gen);
}

/** Wasm meets p99 <= 10 ms at 50/s and 100/s, not at 200/s; Docker misses it at its only rate. */
function loadRun(): LoadResult {
  const spec = resolveLoadSpec({ functions: ['fib'], rates: [50, 100, 200], durationMs: 1000, outDir: join(dir, 'x') });
  const wasm: Cell = { function: 'fib', input: 20, runtime: 'wasm', mode: 'warm' };
  const docker: Cell = { function: 'fib', input: 20, runtime: 'docker', mode: 'warm' };
  const results = [step(wasm, 0, 50, 1), step(wasm, 1, 100, 5), step(wasm, 2, 200, 30), step(docker, 3, 50, 20)];
  const knee = (c: Cell) =>
    kneeOf(
      results.filter((r) => r.runtime === c.runtime),
      spec,
    );
  return {
    format: 'nebula-load/1',
    startedAt: '2026-01-01T10:00:00.000Z',
    finishedAt: '2026-01-01T10:00:04.000Z',
    spec,
    machine: {},
    meter: null,
    baseline: null,
    notes: [],
    steps: results.map((s) => ({ ...s })),
    interrupted: true,
    results,
    series: [
      { ...wasm, knee: knee(wasm) },
      { ...docker, knee: knee(docker) },
    ],
    generator: { lagP99Ms: 0.01, behind: false },
  };
}

describe('the knee row of a load series', () => {
  const run = loadRun();
  const files = writeLoadReports(dir, run);
  const expected = kneeCells(run);
  const col = (name: string) => KNEE_HEAD.indexOf(name);

  it('gives the knee, the bound, the p99 at the knee and at the next rate, or why there is none', () => {
    const [wasm, docker] = expected;
    expect(wasm![col('knee')]).toBe('100/s');
    expect(wasm![col('bound')]).toBe('p99 <= 10 ms, failed <= 5.0%');
    // The p99s are the step table's cells at those rates.
    const p99Cell = (i: number) => stepCells(run.results[i]!)[STEP_HEAD.indexOf('p99 [95%]')];
    expect(wasm![col('p99 at the knee [95%]')]).toBe(p99Cell(1));
    expect(wasm![col('p99 at the knee [95%]')]).toMatch(/^5\.00 ms \[/);
    expect(wasm![col('next rate')]).toBe('200/s');
    expect(wasm![col('p99 at the next rate [95%]')]).toBe(p99Cell(2));
    expect(docker![col('knee')]).toBe('none of the rates (at 50.0/s, the lowest rate run, p99 20.0 ms is over 10 ms)');
    expect(docker![col('p99 at the knee [95%]')]).toBe('–');
    expect(docker![col('next rate')]).toBe('50.0/s');
    expect(docker![col('p99 at the next rate [95%]')]).toBe(p99Cell(3));
    // The JSON holds the same figures as the steps do.
    const [w, d] = kneeRecords(run);
    expect(w).toMatchObject({ knee_per_s: 100, p99_at_knee_ms: 5, next_per_s: 200, p99_at_next_ms: 30 });
    expect(w!.p99_at_knee_ms).toBe(run.results[1]!.latencyMs.p99.value);
    expect(d).toMatchObject({ knee_per_s: null, p99_at_knee_ms: null, next_per_s: 50, p99_at_next_ms: 20 });
    expect(d!.no_knee_reason).toBe('at 50.0/s, the lowest rate run, p99 20.0 ms is over 10 ms');
  });

  it('the terminal summary, report.md and report.html show the same knee cells', () => {
    const terminal = loadSummary(run, files).split('\n');
    const at = terminal.findIndex((l) => l.startsWith('function  runtime'));
    expect(terminal[at]!.trim().split(/ {2,}/)).toEqual(KNEE_HEAD);
    const termRows = terminal.slice(at + 1, at + 1 + expected.length).map((l) => l.trim().split(/ {2,}/));
    expect(termRows).toEqual(expected);

    const md = readFileSync(files['report.md']!, 'utf8').split('\n');
    const mdAt = md.findIndex((l) => l.startsWith('| function | runtime |'));
    const mdCells = (l: string) => l.slice(2, -2).split(' | ').map(unescapeMd);
    expect(mdCells(md[mdAt]!)).toEqual(KNEE_HEAD);
    expect(md.slice(mdAt + 2, mdAt + 2 + expected.length).map(mdCells)).toEqual(expected);

    const html = readFileSync(files['report.html']!, 'utf8');
    const table = html.slice(html.indexOf('<h2>Knee per series</h2>'));
    const body = table.slice(table.indexOf('<tbody>'), table.indexOf('</tbody>'));
    const rows = body
      .split('</tr>')
      .filter((r) => r.includes('<td'))
      .map((r) => [...r.matchAll(/<td[^>]*>(.*?)<\/td>/g)].map((m) => unescapeHtml(m[1]!)));
    expect(rows).toEqual(expected);
    // One caption says what the knee is, in both.
    const caption = terminal[at - 1]!;
    expect(caption).toMatch(/^Knee: the highest rate of the sweep with p99 <= 10 ms and at most 5\.0% failed$/);
    expect(md.join('\n')).toContain(caption);
  });
});
