import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { renderHtml } from '../../../src/experiment/report/html.js';
import { EstimateMeter } from '../../../src/index.js';
import { runExperiment } from '../../../src/experiment/index.js';
import { packageRoot } from '../../../src/paths.js';
import { dockerAvailable } from '../../runtimes/docker/engine.js';
import { fixtureResult } from '../fixtures.js';
import { tempDir } from '../../temp-dir.js';

const executablePath = process.env.NEBULA_CHROMIUM || '/usr/bin/chromium';
const available = existsSync(executablePath);
if (!available && process.env.NEBULA_REQUIRE_CHROMIUM === '1')
  throw new Error(
    `NEBULA_REQUIRE_CHROMIUM=1 but no Chromium at ${executablePath}: install Debian's chromium or set NEBULA_CHROMIUM.`,
  );
if (!available)
  console.warn(
    `Report page test skipped: no Chromium at ${executablePath} (set NEBULA_CHROMIUM, or NEBULA_REQUIRE_CHROMIUM=1 to fail).`,
  );

const artifacts = join(packageRoot(), 'test-artifacts');

/** What a reader would trip over: overflow, clipped labels, a warning smaller than the figures. */
async function layoutProblems(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const problems: string[] = [];
    if (document.documentElement.scrollWidth > window.innerWidth)
      problems.push(`page scrolls sideways: ${document.documentElement.scrollWidth} > ${window.innerWidth}`);
    for (const s of Array.from(document.querySelectorAll('section')))
      if (s.scrollWidth > s.clientWidth + 1)
        problems.push(`section ${s.id} overflows: ${s.scrollWidth} > ${s.clientWidth}`);
    for (const t of Array.from(document.querySelectorAll<SVGTextElement>('svg text')))
      if (t.getBBox().x < -0.5) problems.push(`label cut at the left: ${t.textContent}`);
    const warn = document.querySelector('#estimate-warning');
    const cell = document.querySelector('#energy td');
    if (warn && cell) {
      const w = getComputedStyle(warn);
      if (parseFloat(w.fontSize) < parseFloat(getComputedStyle(cell).fontSize) || Number(w.fontWeight) < 600)
        problems.push('estimate warning smaller or lighter than the figures');
    }
    return problems;
  });
}

/** Opens `file` in a fresh headless Chromium (launched only for this, so a long run before it cannot outlive it). */
async function withPage<T>(file: string, fn: (page: Page, external: string[]) => Promise<T>): Promise<T> {
  const browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1000, height: 800 } });
    const external: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith('file:')) external.push(r.url());
    });
    await page.goto(pathToFileURL(file).href);
    return await fn(page, external);
  } finally {
    await browser.close();
  }
}

(available ? describe : describe.skip)('report.html in headless Chromium', () => {
  beforeAll(() => {
    mkdirSync(artifacts, { recursive: true });
  });

  it('shows a real run readably: every section fits, no label is cut, the estimate warning stands out, nothing is fetched', async () => {
    const dir = join(tempDir('page'), 'run');
    const runtimes = dockerAvailable() ? (['wasm', 'docker'] as const) : (['wasm'] as const);
    const result = await runExperiment(
      {
        functions: ['fib', 'exponential'],
        runtimes: [...runtimes],
        modes: ['cold', 'prewarmed'],
        inputs: { fib: [20], exponential: [50] },
        repetitions: 4,
        warmup: 1,
        baselineMs: 500,
        batchWindowMs: 500,
        micro: false,
        outDir: dir,
      },
      { meter: new EstimateMeter({ intervalMs: 50 }) },
    );
    await withPage(result.reports.html, async (page, external) => {
      await page.screenshot({ path: join(artifacts, 'report.png'), fullPage: true });
      expect(await layoutProblems(page)).toEqual([]);
      const ids = await page.$$eval('section', (s) => s.map((e) => e.id));
      expect(ids).toEqual(
        expect.arrayContaining([
          'outputs',
          'cold-start',
          'sandbox-start',
          'run-time',
          'total',
          'energy',
          'cells',
          'machine',
          ...(runtimes.length > 1 ? ['ratios'] : []),
        ]),
      );
      expect(await page.textContent('#cold-start svg')).not.toContain('prewarmed');
      expect(await page.isVisible('#estimate-warning')).toBe(true);
      expect(external).toEqual([]);
    });
  });

  it('draws an idle cell as an open marker with its text, and a mismatch as a red banner', async () => {
    const file = join(tempDir('page'), 'report.html');
    writeFileSync(file, renderHtml(fixtureResult({ mismatch: true }).result));
    await withPage(file, async (page) => {
      await page.screenshot({ path: join(artifacts, 'report-edge-cases.png'), fullPage: true });
      expect(await layoutProblems(page)).toEqual([]);
      expect(await page.textContent('#energy svg')).toContain('not distinguishable from idle');
      const banner = await page.$eval('p.error', (e) => ({
        text: e.textContent,
        color: getComputedStyle(e).backgroundColor,
      }));
      expect(banner.text).toContain('Outputs differ: fib(30) on docker cold gave 2 instead of 1');
      expect(banner.color).toBe('rgb(253, 226, 225)');
    });
  });
});
