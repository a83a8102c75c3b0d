/**
 * `nebula bench` with a Gude meter that cannot give readings: the run fails at once, before any
 * work, with exit 1 and the reason (docs/cli.md); never hangs. `--meter none` runs without energy.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GudeSimulator, type GudeFault } from '../../../src/meters/gude/index.js';
import { packageRoot } from '../../../src/paths.js';

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const s of stops.splice(0)) await s();
});

/** Runs the built CLI without blocking this process (the simulator answers from here). */
function nebula(...args: string[]): Promise<{ code: number | null; err: string }> {
  const child = spawn(process.execPath, [join(packageRoot(), 'dist', 'cli', 'main.js'), ...args], {
    env: { ...process.env, FORCE_COLOR: '0' },
  });
  let err = '';
  child.stderr.on('data', (b) => (err += b));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, err })));
}

describe('nebula bench against a faulty Gude meter', () => {
  it.each<[string, string, GudeFault, RegExp]>([
    [
      'an outlet the device lacks',
      'port9',
      'none',
      /^nebula: METER_PROTOCOL: Gude meter .*\/port9: the device has no outlet 9/,
    ],
    ['a frozen device', 'port1', 'frozen', /^nebula: METER_UNAVAILABLE: .*Gude meter .*: no reply within 1000 ms/],
    ['an all-0xFF reply', 'port1', 'all-ff', /^nebula: METER_PROTOCOL: .*not a plausible reading: voltageV = -1/],
  ])('%s: the run fails at once, exit 1, with the reason', async (_what, sensor, fault, message) => {
    const sim = new GudeSimulator({ outlets: 8, fault });
    const { port } = await sim.start();
    stops.push(() => sim.stop());
    const dir = mkdtempSync(join(tmpdir(), 'nebula-bench-'));
    stops.push(async () => rmSync(dir, { recursive: true, force: true }));
    const out = join(dir, 'run');
    const r = await nebula(
      'bench',
      '--functions',
      'fib',
      '--runtimes',
      'wasm',
      '--inputs',
      'fib=5',
      '--repetitions',
      '1',
      '--warmup',
      '0',
      '--no-micro',
      '--baseline',
      '200ms',
      '--meter',
      `gude://127.0.0.1:${port}/${sensor}`,
      '--out',
      out,
    );
    expect(r.code, r.err).toBe(1);
    expect(r.err).toMatch(message);
    expect(r.err).toContain('run with --meter none');
    expect(r.err).not.toMatch(/\n\s+at /);
    expect(r.err).not.toContain('== prepare');
    expect(existsSync(out)).toBe(false);
  });
});
