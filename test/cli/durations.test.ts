import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../src/cli/args.js';
import { nebula, pool } from './run-cli.js';

describe('durations on the command line', () => {
  it('take a unit; a bare number other than 0 is refused, never read as milliseconds', () => {
    expect(parseDuration('500ms', '--timeout')).toBe(500);
    expect(parseDuration('1.5s', '--timeout')).toBe(1500);
    expect(parseDuration('2m', '--timeout')).toBe(120_000);
    expect(parseDuration('1h', '--timeout')).toBe(3_600_000);
    expect(parseDuration('0', '--baseline')).toBe(0);
    expect(() => parseDuration('1', '--timeout')).toThrow(
      '--timeout takes a duration with its unit (ms, s, m or h), such as 1s or 1ms; got "1".',
    );
    expect(() => parseDuration('1500', '--baseline')).toThrow(/with its unit/);
    expect(() => parseDuration('0', '--timeout', true)).toThrow('--timeout must be longer than 0, got "0".');
    expect(() => parseDuration('0ms', '--p99', true)).toThrow(/longer than 0/);
  });

  it('are checked the same way by every flag that takes one, exit 2 before any work', async () => {
    const cases: string[][] = [
      ['invoke', 'fib', '35', '--timeout', '1'],
      ['bench', '--timeout', '100', '--dry-run'],
      ['bench', '--baseline', '5', '--dry-run'],
      ['advise', '/nonexistent', '--rate', '1/s', '--p99', '50'],
      ['gude-sim', '--port', '0', '--trace', 'sine:50:10:10'],
    ];
    const runs = await pool(cases, 4, (args) => nebula(...args));
    for (const [i, args] of cases.entries()) {
      expect(runs[i]!.code, args.join(' ')).toBe(2);
      expect(runs[i]!.err).toMatch(/^nebula: --(timeout|baseline|p99|trace period) takes a duration with its unit/);
    }
    const ok = await nebula('bench', '--timeout', '100ms', '--baseline', '0', '--dry-run', '--json');
    expect(ok.code, ok.err).toBe(0);
    expect(JSON.parse(ok.out)).toMatchObject({ config: { timeoutMs: 100, baselineMs: 0 } });
  });
});
