import { describe, expect, it } from 'vitest';
import { isUsageError, MeterError, NebulaError, RuntimeUnavailableError, UsageError } from '../src/index.js';

describe('usage mistakes and failures', () => {
  it('are told apart by the error code alone, whatever the class', () => {
    expect(isUsageError(new NebulaError('INVALID_ARGUMENT', 'a bad option'))).toBe(true);
    expect(isUsageError(new UsageError('INVALID_CONFIG', 'a bad config'))).toBe(true);
    expect(isUsageError(new NebulaError('FUNCTION_NOT_FOUND', 'no such function'))).toBe(true);
    expect(isUsageError(new RuntimeUnavailableError('no engine'))).toBe(false);
    expect(isUsageError(new MeterError('METER_UNAVAILABLE', 'no meter attached'))).toBe(false);
    expect(isUsageError(new NebulaError('INVALID_FUNCTION', 'not wasm'))).toBe(false);
    expect(isUsageError(new NebulaError('CLOSED', 'closed'))).toBe(false);
    expect(isUsageError(new Error('INVALID_ARGUMENT'))).toBe(false);
    expect(isUsageError('INVALID_ARGUMENT')).toBe(false);
  });
});
