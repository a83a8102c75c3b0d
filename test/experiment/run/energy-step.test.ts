import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GudeMeter, Nebula } from '../../../src/index.js';
import { runExperiment, type ExperimentResult } from '../../../src/experiment/index.js';
import { GudeSimulator } from '../../../src/meters/gude/index.js';
import { resolveConfig } from '../../../src/experiment/run/config.js';
import { withKeepWarmCaps } from '../../../src/experiment/run/keep-warm.js';
import { packageRoot } from '../../../src/paths.js';
import { fmtEnergy } from '../../../src/experiment/analysis/energy-figures.js';

const cli = (...args: string[]) => {
  const r = spawnSync(process.execPath, [join(packageRoot(), 'dist', 'cli', 'main.js'), ...args], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

// A device whose power rises by 0.5 W for every sandbox kept warm: 40 W + 0.5 W x K, K being the
// most warm invocations of the keep-warm probe the host has had in flight at once; and by 20 W
// while a cold invocation of the measured function runs, 2 W while a warm one does.
const WATTS_PER_SANDBOX = 0.5;
let kept = 0;
const running = { cold: 0, warm: 0 };
let sim: GudeSimulator;
let addr: { host: string; port: number };
const made: string[] = [];
beforeAll(async () => {
  sim = new GudeSimulator({
    trace: () => 40 + WATTS_PER_SANDBOX * kept + (running.cold > 0 ? 20 : 0) + (running.warm > 0 ? 2 : 0),
    powerFactor: 1,
  });
  addr = await sim.start();
});
afterAll(async () => {
  await sim.stop();
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

describe('the energy step of an experiment', () => {
  it("raises the runtimes' caps on kept sandboxes to the largest K, keeping higher ones and other options", () => {
    const kw = resolveConfig({ modes: ['warm'], outDir: 'x' }).keepWarm;
    expect(withKeepWarmCaps({ docker: { keepAliveMs: 5 } }, kw)).toEqual({
      docker: { keepAliveMs: 5, maxWarmContainers: 50 },
      wasm: { maxWarmInstances: 50 },
    });
    expect(withKeepWarmCaps({ docker: { maxWarmContainers: 80 } }, kw).docker).toEqual({ maxWarmContainers: 80 });
    expect(withKeepWarmCaps({ meter: null }, false)).toEqual({ meter: null });
  });

  let dir: string;
  let result: ExperimentResult;

  it('measures the power per kept-warm sandbox as the slope over K, with memory, and reports the advisor', async () => {
    dir = mkdtempSync(join(tmpdir(), 'nebula-energy-'));
    made.push(dir);
    const nebula = new Nebula({ meter: new GudeMeter({ ...addr, intervalMs: 20 }) });
    let inflight = 0;
    nebula.on('invocation:start', (i) => {
      if (i.function.startsWith('keepwarm-')) kept = Math.max(kept, ++inflight);
      else if (i.mode === 'cold' || i.mode === 'warm') running[i.mode]++;
    });
    nebula.on('invocation:end', (r) => {
      if (r.function.startsWith('keepwarm-')) inflight--;
      else if (r.mode === 'cold' || r.mode === 'warm') running[r.mode]--;
    });
    const phases: string[] = [];
    const details: string[] = [];
    const ticks: Array<[number, number]> = [];
    result = await runExperiment(
      {
        functions: ['fib'],
        runtimes: ['wasm'],
        modes: ['cold', 'warm'],
        inputs: { fib: [15] },
        repetitions: 4,
        warmup: 0,
        baselineMs: 200,
        batchWindowMs: 400,
        micro: false,
        keepWarm: { counts: [0, 2, 4], windowMs: 300, repeats: 2 },
        outDir: dir,
      },
      {
        nebula,
        on: {
          phase: (p, size, step) => {
            phases.push(`${p} ${step.index}/${step.count}`);
            if (size.detail) details.push(size.detail);
          },
          tick: (p, done, total) => void (p === 'keep-warm' && ticks.push([done, total])),
        },
      },
    );
    await nebula.close();
    // Every planned phase, numbered without a gap, keep-warm announced with what it does.
    // (no warm-up invocations, no micro-benchmarks: those phases are not planned)
    expect(phases).toEqual(['prepare 1/5', 'baseline 2/5', 'run 3/5', 'batch 4/5', 'keep-warm 5/5']);
    expect(details.join(' ')).toMatch(/K = 0, 2, 4 kept sandboxes on wasm/);
    // Progress measured as it goes: time done only grows, the expected total follows it, and it ends done.
    const [lastDone, lastTotal] = ticks.at(-1)!;
    expect(lastDone).toBe(lastTotal);
    expect(ticks.every(([d, t], i) => d <= t && (i === 0 || d >= ticks[i - 1]![0]))).toBe(true);
    const k = result.energy!.keepWarm[0]!;
    expect(k.runtime).toBe('wasm');
    expect(k.points.map((p) => p.k)).toEqual([0, 0, 2, 2, 4, 4]);
    expect(Math.abs(k.wattsPerSandbox - WATTS_PER_SANDBOX)).toBeLessThan(0.02);
    expect(k.idleW).toBeGreaterThan(39.9);
    expect(k.idleW).toBeLessThan(40.1);
    expect(k.wattsCi95[0]).toBeLessThanOrEqual(k.wattsCi95[1]);
    expect(typeof k.bytesPerSandbox).toBe('number');
    // Whether the runtime really kept the sandboxes is checked, and said when it did not.
    expect(k.reusedAfter).toBeGreaterThanOrEqual(0);
    expect(k.reusedAfter).toBeLessThanOrEqual(4);
    if (k.reusedAfter < 4) expect(result.notes.some((n) => n.includes('did not keep'))).toBe(true);
    // The probe function is gone again.
    expect(nebula.has('keepwarm-fib-wasm')).toBe(false);

    const e = result.energy!;
    expect(e.estimate).toBe(false);
    expect(e.split.map((s) => s.mode)).toEqual(['cold', 'warm']);
    expect(e.inputs).toHaveLength(1);
    expect(e.inputs[0]!.keepWarmW?.value).toBeCloseTo(k.wattsPerSandbox, 12);
    expect(e.inputs[0]!.latencyMs.cold).toHaveLength(4);
    // The advisor reads the very figures of the energy table: the cold and the warm cell's.
    const cell = (mode: string) => result.cells.find((c) => c.mode === mode)!.energy!;
    expect(e.inputs[0]!.coldWh?.value).toBe(cell('cold').valueWh);
    expect(e.inputs[0]!.warmWh?.value).toBe(cell('warm').valueWh);
    expect(e.startup[0]!.startupWh.value).toBeCloseTo(cell('cold').valueWh - cell('warm').valueWh, 15);
    const md = readFileSync(join(dir, 'report.md'), 'utf8');
    for (const title of [
      '## Start-up and run parts of each invocation',
      '## Start-up energy',
      '## Keeping sandboxes warm',
      '## Break-even keep-alive',
      '## Least energy per invocation by arrival rate',
    ])
      expect(md).toContain(title);
    expect(md).not.toContain('ESTIMATED');
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(html).toContain('<h2>Keeping sandboxes warm</h2>');
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as ExperimentResult;
    expect(summary.energy?.keepWarm[0]?.points).toHaveLength(6);
  });

  it('nebula advise answers from the recorded figures, and refuses what it cannot use', () => {
    const a = cli('advise', dir, '--rate', '2/s');
    expect(a.code, a.err).toBe(0);
    expect(a.out).toMatch(/^best: fib\(15\) wasm (cold|warm)/m);
    expect(a.out).toContain('Break-even keep-alive');
    // The cold option costs what the report's energy table says of the cold cell, to the digit.
    const cold = fmtEnergy(result.cells.find((c) => c.mode === 'cold')!.energy);
    expect(a.out).toContain(`fib(15) wasm cold: ${cold.replace(/ \[.*$/, '')}`);
    expect(readFileSync(join(dir, 'report.md'), 'utf8')).toContain(cold);
    const j = cli('advise', dir, '--rate', '30/min', '--p99', '500ms', '--json');
    expect(j.code).toBe(0);
    const advice = JSON.parse(j.out) as { ratePerS: number; p99TargetMs: number; options: unknown[] };
    expect(advice).toMatchObject({ ratePerS: 0.5, p99TargetMs: 500 });
    expect(advice.options.length).toBeGreaterThan(0);
    expect(cli('advise', dir).code).toBe(2);
    expect(cli('advise', dir, '--rate', 'often').err).toMatch(/--rate takes arrivals/);
    expect(cli('advise', join(dir, 'nothing'), '--rate', '1/s').err).toMatch(/no readable summary.json/);
  });

  it('leaves keep-warm out unless the modes include warm or it is asked for, and refuses bad settings', () => {
    expect(resolveConfig({ outDir: 'x' }).keepWarm).toBe(false);
    expect(resolveConfig({ outDir: 'x', modes: ['cold', 'warm'] }).keepWarm).toMatchObject({
      counts: [0, 1, 10, 50],
      function: 'fib',
    });
    expect(resolveConfig({ outDir: 'x', keepWarm: { counts: [10, 0, 1] } }).keepWarm).toMatchObject({
      counts: [0, 1, 10],
    });
    expect(() => resolveConfig({ outDir: 'x', keepWarm: { counts: [3] } })).toThrow(
      expect.objectContaining({ code: 'INVALID_CONFIG' }) as Error,
    );
    expect(() => resolveConfig({ outDir: 'x', keepWarm: { function: 'nope' } })).toThrow(/built-in/);
  });
});
