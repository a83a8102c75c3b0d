import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../src/experiment/run/config.js';

describe('the experiment config', () => {
  it('says a number is not finite where JSON would print null', () => {
    expect(() => resolveConfig({ outDir: 'x', repetitions: Infinity })).toThrow(
      /repetitions must be a whole number >= 1, got Infinity \(not a finite number\)\./,
    );
    expect(() => resolveConfig({ outDir: 'x', seed: Number.NaN })).toThrow(/got NaN \(not a finite number\)\./);
    expect(() => resolveConfig({ outDir: 'x', batchWindowMs: Infinity })).toThrow(
      /batchWindowMs must be a positive number of ms or false, got Infinity \(not a finite number\)\./,
    );
  });
});
