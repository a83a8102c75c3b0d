import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compareRuns, holm } from '../../../src/experiment/analysis/compare.js';
import { resolveConfig } from '../../../src/experiment/run/config.js';
import type { RunFile } from '../../../src/experiment/run-folder.js';
import type { InvocationRecord } from '../../../src/index.js';
import { DOCKER_COLD, record, WASM_COLD } from '../fixtures.js';

const made: string[] = [];
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** A run folder as a stopped run leaves it: run.json and records.jsonl. */
function folder(records: InvocationRecord[], more: Partial<RunFile> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'nebula-cmp-'));
  made.push(dir);
  const run: RunFile = {
    format: 'nebula-run/1',
    startedAt: '2026-01-01T09:00:00.000Z',
    config: resolveConfig({ functions: ['fib'], runtimes: ['wasm', 'docker'], outDir: dir }),
    machine: { cpu: 'test cpu', cores: 2 },
    meter: null,
    baseline: null,
    notes: [],
    cells: [WASM_COLD, DOCKER_COLD],
    load: { start: 0.3, end: 0.4 },
    ...more,
  };
  writeFileSync(join(dir, 'run.json'), JSON.stringify(run));
  writeFileSync(join(dir, 'records.jsonl'), records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return dir;
}

describe('comparing two runs', () => {
  it('finds a doubled start-up significant and an unchanged run time not, with B / A ratios and intervals', () => {
    const a: InvocationRecord[] = [];
    const b: InvocationRecord[] = [];
    for (let i = 0; i < 20; i++) {
      a.push(record(WASM_COLD, 1 + (i % 7) * 0.01, 5 + (i % 5) * 0.1, null));
      b.push(record(WASM_COLD, 2 + (i % 7) * 0.02, 5 + ((i + 2) % 5) * 0.1, null));
    }
    b.push(record(DOCKER_COLD, 300, 20, null));
    const c = compareRuns(folder(a), folder(b));
    const startup = c.rows.find((r) => r.metric === 'startupMs')!;
    expect(startup.ratio).toBeCloseTo(2, 1);
    expect(startup.ci95[0]).toBeGreaterThan(1.5);
    expect(startup.p).toBeLessThan(0.001);
    expect(startup.significant).toBe(true);
    expect(startup.verdict).toBe('higher');
    const exec = c.rows.find((r) => r.metric === 'execMs')!;
    expect(exec.ratio).toBeCloseTo(1, 5);
    expect(exec.significant).toBe(false);
    expect(exec.verdict).toBe('same');
    expect(c.onlyB).toEqual([]);
    expect(c.covers).toMatch(/within each run/);
    expect(c.notes.join(' ')).toContain('A was interrupted');
  });

  it('gives no verdict when the runs did not share their machine load, meter or idle baseline, nor for a batch', () => {
    const a: InvocationRecord[] = [];
    const b: InvocationRecord[] = [];
    for (let i = 0; i < 20; i++) {
      a.push(record(WASM_COLD, 1 + (i % 7) * 0.01, 5, 1e-6 + (i % 5) * 1e-8));
      b.push(record(WASM_COLD, 2 + (i % 7) * 0.02, 5, 2e-6 + (i % 5) * 1e-8));
    }
    const meter = { name: 'estimate', estimate: true, intervalMs: 100 };
    const baseline = (powerW: number) => ({ powerW, stdW: 0.1, samples: 20, durationMs: 2000, meter: 'estimate' });
    const quiet = folder(a, { meter, baseline: baseline(12) });
    // The same conditions: the doubled start-up and energy are verdicts.
    const same = compareRuns(quiet, folder(b, { meter, baseline: baseline(12.05) }));
    expect(same.rows.map((r) => `${r.metric} ${r.verdict}`)).toEqual([
      'startupMs higher',
      'execMs same',
      'totalMs higher',
      'energy higher',
    ]);
    // A loaded machine: no verdict at all, saying why.
    const loaded = compareRuns(quiet, folder(b, { meter, baseline: baseline(12), load: { start: 6, end: 9 } }));
    expect(loaded.rows.every((r) => r.verdict === 'withheld')).toBe(true);
    expect(loaded.rows[0]!.withheld).toMatch(/load differed \(load average A 0\.3, B 7\.5 on 2 cores\)/);
    expect(loaded.notes.join(' ')).toMatch(/B ran on a busy machine/);
    // Another idle baseline or meter: the timings stand, the energy has no verdict.
    const idle = compareRuns(quiet, folder(b, { meter, baseline: baseline(14) }));
    expect(idle.rows.find((r) => r.metric === 'startupMs')!.verdict).toBe('higher');
    expect(idle.rows.find((r) => r.metric === 'energy')).toMatchObject({
      verdict: 'withheld',
      withheld: expect.stringMatching(/idle baselines differ/) as string,
    });
  });

  it('corrects p values with Holm step-down, leaving NaN out', () => {
    expect(holm([0.01, 0.04, Number.NaN, 0.03])).toEqual([0.03, 0.06, Number.NaN, 0.06]);
  });
});
