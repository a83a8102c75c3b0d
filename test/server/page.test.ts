import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EstimateMeter, Nebula } from '../../src/index.js';
import { createServer, type NebulaServer } from '../../src/server/index.js';
import { packageRoot } from '../../src/paths.js';

const executablePath = process.env.NEBULA_CHROMIUM || '/usr/bin/chromium';
const available = existsSync(executablePath);
if (!available && process.env.NEBULA_REQUIRE_CHROMIUM === '1')
  throw new Error(
    `NEBULA_REQUIRE_CHROMIUM=1 but no Chromium at ${executablePath}: install Debian's chromium or set NEBULA_CHROMIUM.`,
  );
if (!available)
  console.warn(
    `Page test skipped: no Chromium at ${executablePath} (set NEBULA_CHROMIUM, or NEBULA_REQUIRE_CHROMIUM=1 to fail).`,
  );

(available ? describe : describe.skip)('the web page in headless Chromium', () => {
  let nebula: Nebula;
  let api: NebulaServer;
  let url: string;
  let browser: Browser;

  beforeAll(async () => {
    nebula = new Nebula({ meter: new EstimateMeter({ intervalMs: 100 }) });
    api = createServer(nebula);
    url = (await api.listen(0)).url;
    browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
  });
  afterAll(async () => {
    await browser?.close();
    await api?.close();
    await nebula?.close();
  });

  it('invokes fib on wasm from the page and shows the answer, the record and the power chart, offline', async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const external: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith(url)) external.push(r.url());
    });
    await page.goto(url + '/');
    await page.waitForSelector('#fn option[value="fib"]', { state: 'attached' });
    await page.selectOption('#fn', 'fib');
    await page.selectOption('#runtime', 'wasm');
    await page.fill('#input', '20');
    await page.click('#go');
    await page.waitForFunction(() => document.querySelector('#summary')?.textContent?.startsWith('ok'));
    expect(await page.textContent('#summary')).toBe('ok: 6765');
    expect(await page.textContent('#result')).toContain('"runtime": "wasm"');
    await page.waitForFunction(() => document.querySelectorAll('#rows tr').length > 0);
    expect(await page.textContent('#rows')).toContain('fib');
    await page.waitForSelector('#chart polyline', { state: 'attached', timeout: 10_000 });
    expect(await page.textContent('#meter')).toContain('estimate');
    // No baseline was measured: every energy on the page says it includes idle power.
    expect(await page.textContent('#idle')).toMatch(/No idle baseline was measured, so energy includes idle power/);
    await page.waitForFunction(() => document.querySelector('#rows tr td:last-child')?.textContent !== '–');
    expect(await page.textContent('#rows tr td:last-child')).toMatch(/Wh including idle$/);
    // Once a baseline is measured, the page says what energy is above.
    await nebula.measureBaseline({ durationMs: 300 });
    await page.waitForFunction(() => document.querySelector('#idle')?.textContent?.startsWith('Energy is above'));
    await page.click('#go');
    await page.waitForFunction(() =>
      /above idle$/.test(document.querySelector('#rows tr td:last-child')?.textContent ?? ''),
    );

    // A failing invocation is shown as a failure, not an exception.
    await page.fill('#input', '"abc"');
    await page.click('#go');
    await page.waitForFunction(() => document.querySelector('#summary')?.textContent?.startsWith('failed'));
    expect(await page.textContent('#summary')).toContain('FUNCTION_FAILED');

    const dir = join(packageRoot(), 'test-artifacts');
    mkdirSync(dir, { recursive: true });
    await page.screenshot({ path: join(dir, 'server-page.png'), fullPage: true });
    expect(external).toEqual([]);
  });
});
