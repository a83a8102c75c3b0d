/** The one builder of a failed run's outcome, shared by every runtime and the core. */
import { nowMs } from '../clock.js';
import { toNebulaError, type ErrorCode } from '../errors.js';
import type { Phase, RunOutcome } from './runtime.js';

/**
 * The outcome of a run that failed before or outside the function: no exit code, no output, the
 * error coded (anything that is not a `NebulaError` becomes one with `fallback`, kept as its
 * `cause`). Its function start and end are `at`; spread it to say more (a start taken earlier, the
 * phases done, a set-up wait).
 */
export function failedOutcome(
  error: unknown,
  fallback: ErrorCode = 'RUNTIME_ERROR',
  at = nowMs(),
  phases: Partial<Record<Phase, number>> = {},
): RunOutcome {
  return {
    exitCode: null,
    stdout: '',
    stderr: '',
    functionStartAt: at,
    functionEndAt: at,
    phases,
    compiled: false,
    sandbox: 'fresh',
    error: toNebulaError(error, fallback),
  };
}
