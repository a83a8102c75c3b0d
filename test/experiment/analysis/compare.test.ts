import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareRuns, holm } from '../../../src/experiment/analysis/compare.js';
import { resolveConfig } from '../../../src/experiment/run/config.js';
import type { RunFile } from '../../../src/experiment/run-folder.js';
import type { InvocationRecord } from '../../../src/index.js';
import { DOCKER_COLD, record, WASM_COLD } from '../fixtures.js';

/** A run folder as a stopped run leaves it: run.json and records.jsonl. */
function folder(records: InvocationRecord[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'nebula-cmp-'));
  const run: RunFile = {
    format: 'nebula-run/1',
    startedAt: '2026-01-01T09:00:00.000Z',
    config: resolveConfig({ functions: ['fib'], runtimes: ['wasm', 'docker'], outDir: dir }),
    machine: { cpu: 'test cpu' },
    meter: null,
    baseline: null,
    notes: [],
    cells: [WASM_COLD, DOCKER_COLD],
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
    const exec = c.rows.find((r) => r.metric === 'execMs')!;
    expect(exec.ratio).toBeCloseTo(1, 5);
    expect(exec.significant).toBe(false);
    expect(c.onlyB).toEqual([]);
    expect(c.notes.join(' ')).toContain('A was interrupted');
  });

  it('corrects p values with Holm step-down, leaving NaN out', () => {
    expect(holm([0.01, 0.04, Number.NaN, 0.03])).toEqual([0.03, 0.06, Number.NaN, 0.06]);
  });
});
