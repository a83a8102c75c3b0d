import { describe, expect, it } from 'vitest';
import { renderHtml } from '../../../src/experiment/report/html.js';
import { renderMarkdown } from '../../../src/experiment/report/markdown.js';
import { logBoxChart } from '../../../src/experiment/report/charts.js';
import { runtimeDescriptor } from '../../../src/runtimes/registry.js';
import { summarize } from '../../../src/stats.js';
import { fixtureResult } from '../fixtures.js';

describe('the reports', () => {
  it('show energy at or below idle as "not distinguishable from idle" with its interval, never a blank or a bare negative', () => {
    const { result } = fixtureResult();
    const warm = result.cells.find((c) => c.mode === 'prewarmed')!;
    expect(warm.energy?.aboveIdle).toBe(false);
    const md = renderMarkdown(result);
    expect(md).toMatch(/\| fib \| 30 \| Wasm \| prewarmed \| not distinguishable from idle \(± \d+(\.\d+)? nWh\) \|/);
    expect(md).not.toMatch(/\| -\d/);
    expect(md).toContain('"Not distinguishable from idle (± x)"');
    const html = renderHtml(result);
    expect(html).toContain('not distinguishable from idle (± ');
  });

  it('draw energy as dots with interval whiskers, never bars, and use the figures in the ratios', () => {
    const { result } = fixtureResult();
    const html = renderHtml(result);
    const energy = /<section id="energy">[\s\S]*?<\/section>/.exec(html)![0];
    expect(energy).not.toContain('<rect');
    expect((energy.match(/<circle [^>]*fill="#fff"/g) ?? []).length).toBe(1); // the idle cell: an open circle
    expect((energy.match(/<circle /g) ?? []).length).toBe(3);
    const ratio = result.comparisons.find((c) => c.metric === 'energy')!;
    const docker = result.cells.find((c) => c.runtime === 'docker')!.energy!;
    expect(ratio.ratio).toBeCloseTo(docker.valueWh / 2e-6, 6);
    expect(ratio.sources).toEqual({ runtime: 'median of 8 records', baseline: 'batch mean of 900' });
    expect(renderMarkdown(result)).toContain('(median of 8 records / batch mean of 900)');
  });

  it('title the cold-start panel for cold rows only, and put prewarmed start-up in its own panel', () => {
    const html = renderHtml(fixtureResult().result);
    const cold = /<section id="cold-start">[\s\S]*?<\/section>/.exec(html)![0];
    expect(cold).toContain('Cold start (cold mode only)');
    expect(cold).toContain('fib(30) Wasm cold');
    expect(cold).not.toContain('prewarmed');
    expect(/<section id="sandbox-start">[\s\S]*?<\/section>/.exec(html)![0]).toContain('fib(30) Wasm prewarmed');
  });

  it('say where Docker exec times come from, beside the figures', () => {
    const { result } = fixtureResult();
    const md = renderMarkdown(result);
    expect(md).toMatch(/Docker execMs is engine-reported/);
    expect(md).toMatch(/\| fib \| 30 \| Docker \| cold \| 8 \| 0 \| 0 \| [^|]+ \| [\d.]+ ms † \[/);
  });

  it("give each cell's CPU time and peak memory, and say where each runtime's figures come from", () => {
    const { result } = fixtureResult();
    const md = renderMarkdown(result);
    const section = md.slice(md.indexOf('## CPU time and peak memory'));
    expect(section).toMatch(/\| fib \| 30 \| Wasm \| cold \| 8 \| [\d.]+ ms \[[\d.]+ ms, [\d.]+ ms\] \| 1\.1\d? MiB/);
    for (const kind of new Set(result.cells.map((c) => c.runtime)))
      expect(section).toContain(runtimeDescriptor(kind)!.resourcesNote!);
    expect(renderHtml(result)).toContain('<section id="resources">');
  });

  it('print the estimate warning at the top and on the energy section, as large as the figures', () => {
    const html = renderHtml(fixtureResult({ estimate: true }).result);
    expect(html).toContain('<p class="warn" id="estimate-warning">ESTIMATE:');
    expect(/<section id="energy"><h2>Energy per invocation \(ESTIMATE\)<\/h2><p class="warn">ESTIMATE/.test(html)).toBe(
      true,
    );
    expect(renderHtml(fixtureResult({ estimate: false }).result)).not.toContain('ESTIMATE');
  });

  it('flag outputs that differ between runtimes at the top and in their own section', () => {
    const { result } = fixtureResult({ mismatch: true });
    expect(result.outputCheck.mismatches).toHaveLength(1);
    expect(result.cells.find((c) => c.runtime === 'docker')!.mismatched).toBe(2);
    const md = renderMarkdown(result);
    expect(md).toContain('**Outputs differ: fib(30) on docker cold gave 2 instead of 1 (2 records).**');
    expect(md).toContain('## Output check: OUTPUTS DIFFER');
    expect(renderHtml(result)).toContain('<p class="error">Outputs differ');
  });

  it('label log axes at powers of ten in one precision', () => {
    const svg = logBoxChart('t', [{ label: 'a', group: 'g', color: '#000', s: summarize([0.004, 0.02, 3, 2000]) }]);
    const ticks = [...svg.matchAll(/class="ax"[^>]*>([^<]+)</g)].map((m) => m[1]);
    expect(ticks).toEqual(['1 µs', '10 µs', '100 µs', '1 ms', '10 ms', '100 ms', '1 s', '10 s']);
  });

  it('define each micro-benchmark beside the others and beside the cold start-ups of the runtime they time', () => {
    const { result } = fixtureResult();
    const figure = { samples: 100, meanMs: 0.02, medianMs: 0.02, p99Ms: 0.05, rmePercent: 1 };
    result.micro = [
      { task: 'direct: the floor', runtime: 'wasm', covers: 'the bare work, on this thread', ...figure },
      { task: 'nebula.invoke fib(1), wasm cold, back to back', runtime: 'wasm', covers: 'a whole invoke()', ...figure },
    ];
    const md = renderMarkdown(result);
    const section = md.slice(md.indexOf('Invocation cost, back to back'));
    expect(section).toContain('| direct: the floor | the bare work, on this thread | 100 |');
    expect(section).toContain('| nebula.invoke fib(1), wasm cold, back to back | a whole invoke() |');
    // The run's own cold start of the runtime timed, for the reader to reconcile the three.
    expect(section).toMatch(
      /\| run phase: fib\(30\) Wasm cold startupMs \| the cold start the tables show[^|]*\| 8 \|/,
    );
    expect(section).not.toContain('Docker cold startupMs');
  });
});
