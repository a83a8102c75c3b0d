/** Durations as progress lines and plans print them. */
import { describe, expect, it } from 'vitest';
import { fmtSeconds } from '../../src/cli/progress.js';

describe('fmtSeconds', () => {
  it('rounds to the second before it splits, and counts hours past the hour', () => {
    expect(fmtSeconds(4.4)).toBe('4s');
    expect(fmtSeconds(59.6)).toBe('1m00s');
    expect(fmtSeconds(1439.6)).toBe('24m00s');
    expect(fmtSeconds(3599.4)).toBe('59m59s');
    expect(fmtSeconds(8638)).toBe('2h23m');
    expect(fmtSeconds(0)).toBe('0s');
  });
});
