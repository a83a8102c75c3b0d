/**
 * `nebula bench` with a Gude meter that cannot give readings: the run goes on without energy (a
 * failed baseline costs the baseline, not the run), and the notes say why in one line; never hangs.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GudeSimulator, type GudeFault } from '../../../src/meters/gude/index.js';
import { packageRoot } from '../../../src/paths.js';
import { tempDir } from '../../temp-dir.js';

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
      /note: no idle baseline .*Gude meter .*\/port9: the device has no outlet 9/,
    ],
    ['a frozen device', 'port1', 'frozen', /note: no idle baseline .*Gude meter .*: no reply within 1000 ms/],
    ['an all-0xFF reply', 'port1', 'all-ff', /note: no idle baseline .*not a plausible reading: voltageV = -1/],
  ])('%s: the run ends, and a note gives the reason', async (_what, sensor, fault, message) => {
    const sim = new GudeSimulator({ outlets: 8, fault });
    const { port } = await sim.start();
    stops.push(() => sim.stop());
    const out = tempDir('bench');
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
    expect(r.code).toBe(0);
    expect(r.err).toMatch(message);
    expect(r.err).not.toMatch(/\n\s+at /);
  });
});
