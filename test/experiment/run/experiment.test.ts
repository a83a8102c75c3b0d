import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { GudeMeter, Nebula, type InvocationRecord } from '../../../src/index.js';
import { Experiment, renderReports, runExperiment, type ExperimentResult } from '../../../src/experiment/index.js';
import { GudeSimulator } from '../../../src/meters/gude/index.js';
import { dockerAvailable } from '../../runtimes/docker/engine.js';
import { tempDir } from '../../temp-dir.js';

const docker = dockerAvailable();
let sim: GudeSimulator;
let addr: { host: string; port: number };
beforeAll(async () => {
  sim = new GudeSimulator({ trace: 'cpu' });
  addr = await sim.start();
});
afterAll(async () => {
  await sim.stop();
});

const out = () => tempDir('exp');
const lines = (file: string) =>
  readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as InvocationRecord);

describe('the experiment runner', () => {
  it('runs a small matrix on both runtimes with the Gude simulator as meter and writes every report', async () => {
    const dir = out();
    const runtimes = docker ? (['wasm', 'docker'] as const) : (['wasm'] as const);
    const phases: string[] = [];
    const result = await runExperiment(
      {
        functions: ['fib', 'factorial'],
        runtimes: [...runtimes],
        inputs: { fib: [15], factorial: [10] },
        repetitions: 3,
        warmup: 1,
        baselineMs: 300,
        batchWindowMs: 300,
        micro: false,
        outDir: dir,
      },
      { meter: new GudeMeter({ ...addr, intervalMs: 20 }), on: { phase: (p) => phases.push(p) } },
    );
    expect(phases).toEqual(expect.arrayContaining(['prepare', 'baseline', 'warmup', 'run']));
    expect(result.cells).toHaveLength(2 * runtimes.length);
    for (const c of result.cells) {
      expect(c.ok).toBe(3);
      expect(c.metrics.startupMs?.n).toBe(3);
      expect(c.metrics.execMs?.median).toBeGreaterThan(0);
    }
    expect(result.baseline?.meter).toContain('gude:');
    const recs = lines(join(dir, 'records.jsonl'));
    expect(recs).toHaveLength(3 * 2 * runtimes.length);
    // Interleaved: the first round visits every cell once before any repeats.
    expect(new Set(recs.slice(0, result.cells.length).map((r) => `${r.function}|${r.runtime}`)).size).toBe(
      result.cells.length,
    );
    if (docker) {
      expect(result.comparisons.some((c) => c.function === 'fib' && c.metric === 'startupMs' && c.ratio > 1)).toBe(
        true,
      );
    }
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as ExperimentResult;
    expect(summary.interrupted).toBe(false);
    // Every function gave the same output on every runtime, and the summary says so.
    expect(summary.outputCheck).toEqual({ groups: 2, records: 3 * 2 * runtimes.length, mismatches: [] });
    expect(summary.cells.every((c) => c.energy && c.mismatched === 0)).toBe(true);
    const run = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as {
      format: string;
      cells: unknown[];
      config: { repetitions: number };
    };
    expect(run.format).toBe('nebula-run/1');
    expect(run.cells).toHaveLength(result.cells.length);
    expect(run.config.repetitions).toBe(3);
    const md = readFileSync(result.reports.markdown, 'utf8');
    expect(md).toContain('| function | input | runtime | mode |');
    expect(md).toContain('## Energy per invocation');
    const html = readFileSync(result.reports.html, 'utf8');
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect((html.match(/<svg /g) ?? []).length).toBeGreaterThanOrEqual(3);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(html.trim().endsWith('</html>')).toBe(true);
  });

  it('runs each turn of a cell several at a time with concurrency, and takes their shares as the energy figures', async () => {
    const dir = out();
    const notes: string[] = [];
    const result = await runExperiment(
      {
        functions: ['fib'],
        runtimes: ['wasm'],
        inputs: { fib: [27] },
        repetitions: 2,
        concurrency: 3,
        warmup: 1,
        baselineMs: 300,
        batchWindowMs: 300,
        micro: false,
        outDir: dir,
      },
      { meter: new GudeMeter({ ...addr, intervalMs: 20 }), on: { note: (n) => notes.push(n) } },
    );
    const recs = lines(join(dir, 'records.jsonl'));
    expect(recs).toHaveLength(6);
    expect(recs.every((r) => r.ok && r.energy?.method === 'cpu-share' && r.resources.cpuMs! > 0)).toBe(true);
    // Each turn's three ran together.
    expect(Math.max(...recs.map((r) => r.energy!.overlap))).toBeGreaterThan(1);
    const cell = result.cells[0]!;
    expect(cell.ok).toBe(6);
    expect(cell.batch).toBeUndefined();
    expect(cell.energy).toMatchObject({ source: 'records', shares: true, n: 6 });
    expect(cell.metrics.cpuMs?.n).toBe(6);
    expect(cell.metrics.maxMemoryBytes?.median).toBeGreaterThan(0);
    expect(notes.some((n) => n.includes('3 at a time'))).toBe(true);
    expect(notes.some((n) => n.startsWith('No batches'))).toBe(true);
    const md = readFileSync(result.reports.markdown, 'utf8');
    expect(md).toMatch(/median of 6 (interpolated )?records' shares/);
    expect(md).toContain('## CPU time and peak memory');
    // The books of the measured runs balance (the simulator follows this busy machine's CPU: what
    // is above the baseline may be nothing, so the sums are compared, not their ratio).
    const ledger = result.ledger!;
    expect(ledger.invocations).toBeGreaterThanOrEqual(6);
    expect(ledger.sharesJ + ledger.unattributedJ).toBeCloseTo(ledger.aboveBaselineJ, 9);
    expect(ledger.baselineSharesJ + ledger.idleJ).toBeCloseTo(ledger.baselineJ, 9);
    // Re-rendered from the folder, the figures are the shares again.
    expect(renderReports(dir).result.cells[0]!.energy?.shares).toBe(true);
  });

  it('keeps every record of an interrupted run and marks the summary interrupted', async () => {
    const dir = out();
    const nebula = new Nebula({ meter: null });
    const exp = new Experiment(nebula, {
      functions: ['fib'],
      runtimes: ['wasm'],
      inputs: { fib: [18] },
      repetitions: 1000,
      warmup: 0,
      micro: false,
      outDir: dir,
    });
    const ac = new AbortController();
    exp.on('progress', (done) => {
      if (done === 25) ac.abort();
    });
    const result = await exp.run(ac.signal);
    await nebula.close();
    expect(result.interrupted).toBe(true);
    const recs = lines(join(dir, 'records.jsonl'));
    expect(recs).toHaveLength(25);
    expect(recs.every((r) => r.ok && r.result === 2584)).toBe(true);
    expect(result.cells[0]!.ok).toBe(25);
  });

  it('re-renders reports from recorded data, skipping a truncated last line', async () => {
    const dir = out();
    await runExperiment(
      {
        functions: ['prime'],
        runtimes: ['wasm'],
        inputs: { prime: [50] },
        repetitions: 4,
        warmup: 0,
        micro: false,
        outDir: dir,
      },
      { meter: null },
    );
    writeFileSync(join(dir, 'records.jsonl'), readFileSync(join(dir, 'records.jsonl'), 'utf8') + '{"id":"cut-off');
    const r = renderReports(dir);
    expect(r.records).toBe(4);
    const md = readFileSync(r.markdown, 'utf8');
    expect(md).toContain('| prime | 50 | Wasm | cold | 4 |');
    expect(md).toContain('1 line of records.jsonl could not be read');
    expect(() => renderReports(join(dir, 'nothing-here'))).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }));
  });

  it('reports a run that never wrote its summary from run.json and its records, leaving out records of another run', async () => {
    const dir = out();
    await runExperiment({
      functions: ['fib'],
      runtimes: ['wasm'],
      inputs: { fib: [10] },
      repetitions: 5,
      warmup: 0,
      micro: false,
      outDir: dir,
    });
    // As kill -9 leaves it: no summary.json, no reports; plus a line from an older run in the file.
    for (const f of ['summary.json', 'report.md', 'report.html']) rmSync(join(dir, f));
    const recs = lines(join(dir, 'records.jsonl'));
    const older = { ...recs[0]!, id: 'older', startedAt: '2020-01-01T00:00:00.000Z' };
    writeFileSync(join(dir, 'records.jsonl'), [older, ...recs].map((x) => JSON.stringify(x)).join('\n') + '\n');
    const r = renderReports(dir);
    expect(r.records).toBe(5);
    expect(r.result.interrupted).toBe(true);
    expect(r.result.cells[0]!.ok).toBe(5);
    const md = readFileSync(r.markdown, 'utf8');
    expect(md).toContain('(interrupted: partial results)');
    expect(md).toContain('This run did not finish (no summary.json)');
    expect(md).toContain("1 record from outside this run's time span");
    // Without run.json either, the records alone still make a report.
    rmSync(join(dir, 'run.json'));
    expect(renderReports(dir).result.cells).toHaveLength(1);
  });

  it('fails at once when the meter cannot be read: nothing runs, no folder is made', async () => {
    const dir = join(out(), 'run');
    // Port 1 on loopback: nothing listens, so every connection is refused.
    await expect(
      runExperiment(
        {
          functions: ['fib'],
          runtimes: ['wasm'],
          inputs: { fib: [10] },
          repetitions: 2,
          warmup: 0,
          baselineMs: 300,
          batchWindowMs: 300,
          micro: false,
          outDir: dir,
        },
        { meter: new GudeMeter({ host: '127.0.0.1', port: 1, intervalMs: 50 }) },
      ),
    ).rejects.toMatchObject({ code: 'METER_UNAVAILABLE', message: expect.stringMatching(/127\.0\.0\.1:1/) as unknown });
    expect(existsSync(dir)).toBe(false);
  });

  it('never mixes runs: a folder that holds anything is refused before any work', async () => {
    const dir = out();
    writeFileSync(join(dir, 'records.jsonl'), '{}\n');
    const nebula = new Nebula();
    await expect(
      new Experiment(nebula, { functions: ['fib'], runtimes: ['wasm'], outDir: dir }).run(),
    ).rejects.toMatchObject({
      code: 'INVALID_CONFIG',
      message: expect.stringContaining('already holds records.jsonl'),
    });
    expect(existsSync(join(dir, 'run.json'))).toBe(false);
    await nebula.close();
  });

  it('refuses a config it cannot run', async () => {
    const nebula = new Nebula();
    expect(() => new Experiment(nebula, { repetitions: 0, outDir: out() })).toThrow(/repetitions/);
    await expect(new Experiment(nebula, { functions: ['nope'], outDir: out() }).run()).rejects.toMatchObject({
      code: 'FUNCTION_NOT_FOUND',
    });
    await nebula.close();
  });
});

describe('the engine set-up before an experiment', () => {
  it('awaits nebula.ready() before it prepares anything', async () => {
    const nebula = new Nebula({ meter: null, warmUp: false });
    const ready = vi.spyOn(nebula, 'ready');
    const prepare = vi.spyOn(nebula, 'prepare');
    try {
      const exp = new Experiment(nebula, {
        functions: ['fib'],
        runtimes: ['wasm'],
        inputs: { fib: [5] },
        repetitions: 1,
        warmup: 0,
        micro: false,
        outDir: join(out(), 'run'),
      });
      const result = await exp.run();
      expect(result.cells[0]).toMatchObject({ function: 'fib', ok: 1 });
      expect(ready).toHaveBeenCalled();
      expect(ready.mock.invocationCallOrder[0]).toBeLessThan(prepare.mock.invocationCallOrder[0]!);
    } finally {
      await nebula.close();
    }
  });
});
