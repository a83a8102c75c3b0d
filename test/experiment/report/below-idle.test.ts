/** Reports of a run whose idle baseline came out higher than the power during the runs: every isolated figure is negative. */
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../src/experiment/run/config.js';
import { analyseEnergy } from '../../../src/experiment/analysis/energy-analysis.js';
import { renderHtml } from '../../../src/experiment/report/html.js';
import { renderMarkdown } from '../../../src/experiment/report/markdown.js';
import { cellKey } from '../../../src/experiment/cell.js';
import type { BatchEnergy, InvocationRecord } from '../../../src/index.js';
import { summarizeRecords, type ExperimentResult } from '../../../src/experiment/index.js';
import { record, WASM_COLD, WASM_WARM, DOCKER_COLD } from '../fixtures.js';

function belowIdleRun(): ExperimentResult {
  const records: InvocationRecord[] = [];
  for (let i = 0; i < 8; i++) {
    // energy incl. idle stays positive (fixture adds 10 µWh); the isolated figure is below zero
    records.push(record(WASM_COLD, 0.1 + i * 0.01, 10, -3e-6 - i * 1e-8));
    records.push(record(WASM_WARM, 0.03, 10, -2e-6 - i * 1e-8));
    records.push(record(DOCKER_COLD, 300 + i, 25, -4e-6 - i * 1e-8));
  }
  const batch = (wh: number): BatchEnergy => ({
    meter: 'rapl',
    estimate: false,
    n: 900,
    window: { from: 0, to: 2000 },
    samples: 40,
    avgPowerW: 14,
    baselineW: 15,
    energyPerInvocationJ: 0.001,
    energyPerInvocationWh: 3e-7,
    isolatedEnergyPerInvocationJ: wh * 3600,
    isolatedEnergyPerInvocationWh: wh,
    ci95Wh: [wh * 1.2, wh * 0.8],
  });
  const cells = [WASM_COLD, WASM_WARM, DOCKER_COLD];
  const batches = new Map([
    [cellKey(WASM_COLD), batch(-2e-6)],
    [cellKey(WASM_WARM), batch(-1e-6)],
  ]);
  const config = resolveConfig({
    functions: ['fib'],
    runtimes: ['wasm', 'docker'],
    modes: ['cold', 'prewarmed'],
    repetitions: 8,
    outDir: 'x',
  });
  const s = summarizeRecords(records, cells, { baseline: 'wasm', batches, isolated: true, estimate: false });
  const keepWarm = [
    {
      runtime: 'wasm' as const,
      function: 'fib',
      meter: 'rapl',
      estimate: false,
      windowMs: 1000,
      points: [
        { k: 0, powerW: 15, memAvailableBytes: null },
        { k: 1, powerW: 14.9, memAvailableBytes: null },
      ],
      wattsPerSandbox: -0.1,
      wattsCi95: [-0.15, -0.05] as [number, number],
      idleW: 15,
      bytesPerSandbox: null,
      bytesCi95: null,
      reusedAfter: 1,
      heldMax: 1,
      notes: [],
    },
  ];
  const result: ExperimentResult = {
    startedAt: '2026-01-01T10:00:00.000Z',
    finishedAt: '2026-01-01T10:01:00.000Z',
    interrupted: false,
    config,
    machine: { cpu: 'test cpu', cores: 2 },
    meter: { name: 'rapl', estimate: false, intervalMs: 100 },
    baseline: { powerW: 15, stdW: 0.1, samples: 20, durationMs: 2000, meter: 'rapl' },
    notes: [],
    ...s,
    micro: [],
  };
  result.energy = analyseEnergy(records, s.cells, keepWarm, { name: 'rapl', estimate: false });
  return result;
}

describe('reports of a run whose baseline is above the measured power', () => {
  it('never show a bare negative energy', () => {
    const r = belowIdleRun();
    const md = renderMarkdown(r);
    const html = renderHtml(r);
    expect(md).not.toMatch(/(^|[\s|[(])[-−]\d/m);
    expect(md).toMatch(/below idle by \d/);
    expect(md).toMatch(/The idle baseline \(15\.00 W\) is above the power drawn/);
    expect(html.replace(/<svg[\s\S]*?<\/svg>/g, '')).not.toMatch(/[>\s[(][-−]\d/);
  });
});
