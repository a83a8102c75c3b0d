/** Experiment results built from synthetic records through the real summary code, for tests of the renderers. */
import { resolveConfig } from '../../src/experiment/run/config.js';
import type { BatchEnergy, InvocationRecord } from '../../src/index.js';
import { summarizeRecords, type ExperimentResult } from '../../src/experiment/index.js';
import { cellKey, type Cell } from '../../src/experiment/cell.js';

let seq = 0;

/** One part (start-up or run) of a record's energy. */
function part(from: number, to: number, isolatedEnergyWh: number) {
  return {
    window: { from, to },
    samples: 0,
    avgPowerW: 20,
    energyJ: 0.5,
    energyWh: isolatedEnergyWh + 5e-6,
    isolatedPowerW: 5,
    isolatedEnergyWh,
    quality: 'interpolated' as const,
  };
}

/** A successful record with the given timings (ms) and energy above idle (Wh). */
export function record(
  cell: Cell,
  startupMs: number,
  execMs: number,
  isolatedEnergyWh: number | null,
  result: unknown = 1,
): InvocationRecord {
  const t = Date.parse('2026-01-01T10:00:00Z') + ++seq;
  return {
    id: `rec-${seq}`,
    function: cell.function,
    runtime: cell.runtime,
    mode: cell.mode,
    sandbox: 'fresh',
    input: cell.input,
    startedAt: new Date(t).toISOString(),
    ok: true,
    result,
    timing: {
      prepareMs: 0,
      startupMs,
      execMs,
      totalMs: startupMs + execMs + 0.1,
      cleanupMs: null,
      phases: {},
      compiled: false,
      requestAt: t,
      functionStartAt: t + startupMs,
      functionEndAt: t + startupMs + execMs,
    },
    energy:
      isolatedEnergyWh === null
        ? null
        : {
            meter: 'estimate',
            estimate: true,
            window: { from: t, to: t + 1 },
            samples: 3,
            avgPowerW: 20,
            energyJ: 1,
            energyWh: isolatedEnergyWh + 1e-5,
            baselineW: 15,
            isolatedPowerW: 5,
            isolatedEnergyWh,
            quality: 'measured',
            startup: part(t, t + startupMs, isolatedEnergyWh * 0.1),
            exec: part(t + startupMs, t + startupMs + execMs, isolatedEnergyWh * 0.9),
            method: 'cpu-share',
            shareJ: isolatedEnergyWh * 3600 * 0.9,
            baselineShareJ: 15 * ((startupMs + execMs) / 1000),
            overlap: 1,
          },
    energyStatus: isolatedEnergyWh === null ? 'unavailable' : 'settled',
    resources: {
      cpuMs: execMs * 0.9,
      cpuSinceAt: t,
      maxMemoryBytes: cell.runtime === 'wasm' ? 1.125 * 2 ** 20 : 3.5 * 2 ** 20,
      cpuSource: cell.runtime === 'wasm' ? 'thread-clock' : 'cgroup-v1',
      memorySource: cell.runtime === 'wasm' ? 'linear-memory' : 'cgroup-v1',
    },
  };
}

export const WASM_COLD: Cell = { function: 'fib', runtime: 'wasm', mode: 'cold', input: 30 };
export const WASM_WARM: Cell = { function: 'fib', runtime: 'wasm', mode: 'prewarmed', input: 30 };
export const DOCKER_COLD: Cell = { function: 'fib', runtime: 'docker', mode: 'cold', input: 30 };

/** Wasm cold and prewarmed, Docker cold; Wasm prewarmed's energy is not distinguishable from idle, Wasm cold's from a batch. */
export function fixtureResult(options: { estimate?: boolean; mismatch?: boolean } = {}): {
  result: ExperimentResult;
  records: InvocationRecord[];
} {
  const records: InvocationRecord[] = [];
  for (let i = 0; i < 8; i++) {
    records.push(record(WASM_COLD, 0.12 + i * 0.01, 10 + i * 0.1, 2e-6 + i * 1e-8));
    records.push(record(WASM_WARM, 0.03 + i * 0.001, 10 + i * 0.1, (i - 4) * 1e-7));
    records.push(record(DOCKER_COLD, 300 + i * 5, 25 + i, 5e-4 + i * 1e-5, options.mismatch && i < 2 ? 2 : 1));
  }
  const batch: BatchEnergy = {
    meter: 'estimate',
    estimate: true,
    n: 900,
    window: { from: 0, to: 2000 },
    samples: 40,
    avgPowerW: 16,
    baselineW: 15,
    energyPerInvocationJ: 0.01,
    energyPerInvocationWh: 2.8e-6,
    isolatedEnergyPerInvocationJ: 0.0072,
    isolatedEnergyPerInvocationWh: 2e-6,
    ci95Wh: [1.8e-6, 2.2e-6],
  };
  const cells = [WASM_COLD, WASM_WARM, DOCKER_COLD];
  const config = resolveConfig({
    functions: ['fib'],
    runtimes: ['wasm', 'docker'],
    modes: ['cold', 'prewarmed'],
    repetitions: 8,
    outDir: 'x',
  });
  const s = summarizeRecords(records, cells, {
    baseline: 'wasm',
    batches: new Map([[cellKey(WASM_COLD), batch]]),
    isolated: true,
    estimate: options.estimate ?? true,
  });
  const result: ExperimentResult = {
    startedAt: '2026-01-01T10:00:00.000Z',
    finishedAt: '2026-01-01T10:01:00.000Z',
    interrupted: false,
    config,
    machine: { cpu: 'test cpu', cores: 2 },
    meter: { name: 'estimate', estimate: options.estimate ?? true, intervalMs: 100 },
    baseline: { powerW: 15, stdW: 0.5, samples: 20, durationMs: 2000, meter: 'estimate' },
    notes: [],
    ...s,
    micro: [],
  };
  return { result, records };
}
