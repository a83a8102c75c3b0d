/**
 * A meter from outside the package (test/fixtures/powerfile-meter: watts read from a file) is a
 * module and one line: registered, its URL is taken by `meterFromUrl`, `--meter`, a config file's
 * `meter` and `nebula serve`, and its figures reach records and reports.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { meterFromUrl, Nebula, registerMeter } from '../../src/index.js';
import { configSchema } from '../../src/cli/config-schema.js';
import { powerFileMeter } from '../fixtures/powerfile-meter/index.mjs';
import { main, nebula as cli } from '../cli/run-cli.js';

registerMeter(powerFileMeter);

const PLUGIN = fileURLToPath(new URL('../fixtures/powerfile-meter/index.mjs', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'nebula-powerfile-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const watts = join(work, 'watts.txt');
writeFileSync(watts, '42.5\n');
const url = `powerfile://${watts}?intervalMs=20`;

describe('a meter registered with one line', () => {
  it('is made from its URL, and its samples give records their energy', async () => {
    const meter = meterFromUrl(url)!;
    expect(meter).toMatchObject({ name: `powerfile:${watts}`, intervalMs: 20, estimate: false });
    expect(() => meterFromUrl('powerfile://host/x')).toThrow(
      /Meter "powerfile:\/\/host\/x": it takes an absolute path and no host; powerfile:\/\/\/PATH/,
    );
    expect(() => meterFromUrl('powerfile')).toThrow(/takes an absolute path/);
    const nebula = new Nebula({ meter });
    try {
      const rec = await nebula.invoke('fib', 25, { waitForEnergy: true });
      expect(rec.energyStatus).toBe('settled');
      expect(rec.energy).toMatchObject({ meter: `powerfile:${watts}`, estimate: false });
      expect(rec.energy!.avgPowerW).toBeCloseTo(42.5, 6);
    } finally {
      await nebula.close();
    }
  });

  it('joins the config schema and the help of --meter', async () => {
    const meter = configSchema().properties!.meter!;
    expect(new RegExp(meter.pattern!).test(url)).toBe(true);
    expect(meter.description).toContain('powerfile:///PATH[?intervalMs=N]');
    const help = await cli('--plugin', PLUGIN, 'bench', '--help');
    expect(help.out).toMatch(/--meter URL\s+estimate \| rapl \| gude:\/\/\S+ \| powerfile:\/\/\/PATH\S* \| none/);
  });

  it('measures a bench from --meter and from a config file, and its figures reach the report', async () => {
    const out = join(work, 'flags');
    const run = await cli(
      '--plugin',
      PLUGIN,
      'bench',
      '--functions',
      'fib',
      '--inputs',
      'fib=20',
      '--runtimes',
      'wasm',
      '--repetitions',
      '3',
      '--warmup',
      '0',
      '--baseline',
      '0',
      '--no-micro',
      '--meter',
      url,
      '--out',
      out,
      '--json',
    );
    expect(run.code, run.err).toBe(0);
    const { result } = JSON.parse(run.out) as { result: { meter: { name: string; estimate: boolean } } };
    expect(result.meter).toMatchObject({ name: `powerfile:${watts}`, estimate: false });
    const records = readFileSync(join(out, 'records.jsonl'), 'utf8').trim().split('\n');
    const powers = records.map((l) => (JSON.parse(l) as { energy: { avgPowerW: number } }).energy.avgPowerW);
    expect(powers).toHaveLength(3);
    for (const p of powers) expect(p).toBeCloseTo(42.5, 9);
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toContain(`powerfile:${watts}`);

    const file = join(work, 'nebula.config.json');
    writeFileSync(
      file,
      JSON.stringify({ functions: ['fib'], runtimes: ['wasm'], meter: url, repetitions: 2, warmup: 0, baselineMs: 0 }),
    );
    const plan = await cli('--plugin', PLUGIN, 'bench', '--config', file, '--dry-run', '--json');
    expect(plan.code, plan.err).toBe(0);
    expect(JSON.parse(plan.out)).toMatchObject({ meter: url });
    writeFileSync(file, JSON.stringify({ meter: 'powerfile://nowhere/x' }));
    const bad = await cli('--plugin', PLUGIN, 'bench', '--config', file, '--dry-run');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/meter: Meter "powerfile:\/\/nowhere\/x": it takes an absolute path and no host/);
  });

  it('is served: /samples answers its readings', async () => {
    const server = spawn(
      process.execPath,
      [main, '--plugin', PLUGIN, 'serve', '--port', '0', '--json', '--meter', url],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    try {
      const base = await new Promise<string>((resolve, reject) => {
        let text = '';
        server.stdout.on('data', (b: Buffer) => {
          text += b.toString();
          const line = /^\{.*\}$/m.exec(text);
          if (line) resolve((JSON.parse(line[0]) as { url: string }).url);
        });
        server.on('exit', (code) => reject(new Error(`nebula serve exited ${code}: ${text}`)));
      });
      const samples = (await (await fetch(`${base}samples`)).json()) as {
        meter: { name: string };
        samples: Array<{ powerW: number }>;
      };
      expect(samples.meter.name).toBe(`powerfile:${watts}`);
      expect(samples.samples.length).toBeGreaterThan(0);
      expect(samples.samples.every((s) => s.powerW === 42.5)).toBe(true);
    } finally {
      server.kill('SIGINT');
      await new Promise((r) => server.once('exit', r));
    }
  });
});
