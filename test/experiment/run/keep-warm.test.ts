import { describe, expect, it } from 'vitest';
import type { Nebula } from '../../../src/index.js';
import {
  keepWarmSteps,
  measureKeepWarm,
  reserveBytes,
  type KeepWarmStep,
} from '../../../src/experiment/run/keep-warm.js';
import { resolveConfig } from '../../../src/experiment/run/config.js';

const MiB = 1024 * 1024;

/**
 * A Nebula that keeps every sandbox its warm invocations start (100 MiB each) and whose power
 * never changes: enough to watch K grow, or stop growing, against the memory left.
 */
function host(freeMiB: number) {
  let inflight = 0;
  let kept = 0;
  const nebula = {
    meter: { name: 'stub', estimate: false, intervalMs: 1 },
    deploy: async () => [],
    undeploy: async () => true,
    invoke: async () => {
      kept = Math.max(kept, ++inflight);
      await new Promise((r) => setTimeout(r, 1));
      inflight--;
      return { ok: true, sandbox: 'reused' };
    },
    measurePower: async () => ({ powerW: 40, stdW: 0, samples: 5, durationMs: 100, meter: 'stub' }),
  } as unknown as Nebula;
  return { nebula, memAvailable: () => reserveBytes() + (freeMiB - 100 * kept) * MiB };
}

describe('the keep-warm step', () => {
  const o = { counts: [0, 2, 10, 50], windowMs: 100, repeats: 2, function: 'fib', input: 1 };

  it('grows K while memory allows, and stops, saying so, before the kept sandboxes would eat into the reserve', async () => {
    const { nebula, memAvailable } = host(600);
    const steps: string[] = [];
    const r = await measureKeepWarm(nebula, 'wasm', o, {
      timeoutMs: 1000,
      memAvailable,
      progress: {
        begin: (s) => steps.push(s.kind === 'start' ? `start ${s.added}` : 'wait'),
        end: () => undefined,
        stopped: () => steps.push('stopped'),
      },
    });
    // K = 0 and 2 fit (2 x 100 MiB of 600); K = 10 would need 8 more x 100 MiB (measured by then): stop.
    expect(r.points.map((p) => p.k)).toEqual([0, 0, 2, 2]);
    expect(r.heldMax).toBe(2);
    expect(r.reusedAfter).toBe(2);
    expect(r.notes.join('\n')).toMatch(
      /stopped growing at K = 2: .* 8 more sandboxes at about 100 MiB each .*; K = 10, 50 not measured/,
    );
    expect(steps).toEqual(['start 0', 'wait', 'wait', 'wait', 'start 2', 'wait', 'wait', 'wait', 'stopped']);
    // With room for all of them, it measures every K.
    const roomy = host(10_000);
    const all = await measureKeepWarm(roomy.nebula, 'wasm', o, { timeoutMs: 1000, memAvailable: roomy.memAvailable });
    expect([...new Set(all.points.map((p) => p.k))]).toEqual([0, 2, 10, 50]);
    expect(all.notes.join('\n')).not.toMatch(/stopped growing/);
  });

  it('plans its steps (starting sandboxes, settling, windows) so the ETA can follow them', () => {
    const steps: KeepWarmStep[] = keepWarmSteps({ ...o, counts: [0, 2, 10] }, 10);
    expect(steps.filter((s) => s.kind === 'start')).toEqual([
      { kind: 'start', added: 0 },
      { kind: 'start', added: 2 },
      { kind: 'start', added: 8 },
    ]);
    expect(steps.filter((s) => s.kind === 'wait' && s.ms === 100)).toHaveLength(6);
  });

  it('is turned on by a warm mode, off by false, and sized by its counts', () => {
    expect(resolveConfig({ outDir: 'x', modes: ['cold', 'warm'], keepWarm: false }).keepWarm).toBe(false);
    expect(resolveConfig({ outDir: 'x', keepWarm: { counts: [0, 3] } }).keepWarm).toMatchObject({ counts: [0, 3] });
  });
});
