/** One row per load step: the terminal summary, report.md, report.html, steps.csv and the JSON show the same cells and figures. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSummary } from '../../../src/cli/load-summary.js';
import { writeLoadReports } from '../../../src/experiment/load/report.js';
import type { LoadResult } from '../../../src/experiment/load/run-load.js';
import { resolveLoadSpec } from '../../../src/experiment/load/spec.js';
import { STEP_HEAD, STEP_KEYS, stepCells, stepRecord } from '../../../src/experiment/load/step-row.js';
import { summarizeStep, type LoadRecord, type LoadStep } from '../../../src/experiment/load/summary.js';
import type { Cell } from '../../../src/experiment/cell.js';
import { record } from '../fixtures.js';
import { unescapeHtml, unescapeMd } from './unescape.js';

const dir = mkdtempSync(join(tmpdir(), 'nebula-step-row-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A load run of two steps summarised from synthetic records by the real summary code. */
function loadRun(): LoadResult {
  const spec = resolveLoadSpec({ functions: ['fib'], rates: [50, 100], durationMs: 1000, outDir: join(dir, 'run') });
  const cell: Cell = { function: 'fib', input: 20, runtime: 'wasm', mode: 'warm' };
  const results = spec.rates.map((ratePerS, index) => {
    const step: LoadStep = { ...cell, ratePerS, arrivals: 'constant', durationMs: 1000 };
    const startAt = Date.parse('2026-01-01T10:00:00Z');
    const records = Array.from({ length: ratePerS }, (_, i) => {
      const r = record(cell, i === 0 ? 3 : 0.05, 0.4 + (i % 7) * 0.1, 2e-7 * (1 + (i % 5))) as LoadRecord;
      const intendedAt = startAt + (i * 1000) / ratePerS;
      r.load = { step: index, intendedAt, lagMs: 0.01, queueMs: 0, latencyMs: r.timing.totalMs + 0.01 };
      return r;
    });
    return summarizeStep(index, step, records, {
      scheduled: ratePerS,
      sent: ratePerS,
      givenUp: 0,
      unsent: 0,
      peakInFlight: 2,
      startAt,
    });
  });
  return {
    format: 'nebula-load/1',
    startedAt: '2026-01-01T10:00:00.000Z',
    finishedAt: '2026-01-01T10:00:03.000Z',
    spec,
    machine: {},
    meter: { name: 'estimate', estimate: true, intervalMs: 100 },
    baseline: null,
    notes: [],
    steps: results.map((s) => ({ ...s })),
    interrupted: false,
    results,
    series: [{ function: 'fib', input: 20, runtime: 'wasm', mode: 'warm', knee: 100 }],
    generator: { lagP99Ms: 0.01, behind: false },
  };
}

describe('the row of a load step', () => {
  const run = loadRun();
  const files = writeLoadReports(dir, run);
  const expected = run.results.map(stepCells);

  it('the terminal summary and report.md show the same cells under the same headings', () => {
    const terminal = loadSummary(run, files).split('\n');
    const headAt = terminal.findIndex((l) => l.startsWith('function'));
    expect(terminal[headAt]!.split(/ {2,}/)).toEqual(STEP_HEAD);
    const termRows = terminal.slice(headAt + 1, headAt + 1 + run.results.length).map((l) => l.trim().split(/ {2,}/));

    const md = readFileSync(files['report.md']!, 'utf8').split('\n');
    const mdHeadAt = md.findIndex((l) => l.startsWith('| function |'));
    const mdCells = (l: string) => l.slice(2, -2).split(' | ').map(unescapeMd);
    expect(mdCells(md[mdHeadAt]!)).toEqual(STEP_HEAD);
    const mdRows = md.slice(mdHeadAt + 2, mdHeadAt + 2 + run.results.length).map(mdCells);

    expect(termRows).toEqual(mdRows);
    expect(mdRows).toEqual(expected);
    // The cells carry the figures the brief asks for: latency intervals, input, peak in flight.
    expect(expected[0]![STEP_HEAD.indexOf('input')]).toBe('20');
    expect(expected[0]![STEP_HEAD.indexOf('p99 [95%]')]).toMatch(/^\S+ ms \[\S+ ms, ≥?\S+ ms\]$/);
    expect(expected[0]![STEP_HEAD.indexOf('in flight: peak (mean)')]).toMatch(/^2 \(\d+\.\d\)$/);
  });

  it('report.html shows the same cells', () => {
    const html = readFileSync(files['report.html']!, 'utf8');
    const table = html.slice(html.indexOf('<h2>Per rate</h2>'));
    const body = table.slice(table.indexOf('<tbody>'), table.indexOf('</tbody>'));
    const rows = body
      .split('</tr>')
      .filter((r) => r.includes('<td'))
      .map((r) => [...r.matchAll(/<td[^>]*>(.*?)<\/td>/g)].map((m) => unescapeHtml(m[1]!)));
    expect(rows).toEqual(expected);
  });

  it('the terminal summary and both reports say the same of energy (an estimating meter) and of the lag', () => {
    const terminal = loadSummary(run, files).split('\n');
    const energy = terminal.find((l) => l.startsWith('Energy per invocation:'))!;
    const lag = terminal.find((l) => l.startsWith("The generator's own lag:"))!;
    expect(energy).toMatch(/the meter only estimates power\.$/);
    expect(lag).toMatch(/^The generator's own lag: p99 at most 10\.0 µs over the steps\.$/);
    const md = readFileSync(files['report.md']!, 'utf8').split('\n').map(unescapeMd);
    const html = unescapeHtml(readFileSync(files['report.html']!, 'utf8'));
    for (const line of [energy, lag]) {
      expect(md).toContain(line);
      expect(html).toContain(line);
    }
  });

  it('steps.csv and the JSON hold the same figures under the same names', () => {
    const csv = readFileSync(files['steps.csv']!, 'utf8').trim().split('\n');
    expect(csv[0]!.split(',')).toEqual(STEP_KEYS);
    const json = run.results.map(stepRecord);
    expect(Object.keys(json[0]!)).toEqual(STEP_KEYS);
    expect(json[1]!.p99_ms).toBe(run.results[1]!.latencyMs.p99.value);
    expect(json[1]!.offered_per_s).toBe(100);
    // Each CSV line is the JSON's figures in column order (input is JSON text, quoted when it holds a comma).
    expect(csv.slice(1).map((line) => line.split(',')[STEP_KEYS.indexOf('p99_ms')])).toEqual(
      json.map((j) => String(j.p99_ms)),
    );
    expect(csv.slice(1).map((line) => line.split(',')[STEP_KEYS.indexOf('in_flight_peak')])).toEqual(['2', '2']);
  });
});
