/** The one builder of a failed run's outcome, shared by every runtime and the core. */
import { nowMs } from '../clock.js';
import { toNebulaError, type ErrorCode } from '../errors.js';
import type { InvocationResources } from '../types.js';
import type { Phase, RunOutcome } from './runtime.js';

/** Resources of a run whose sandbox could not be measured: no figures, and why. */
export function unmeasured(note: string): InvocationResources {
  return { cpuMs: null, maxMemoryBytes: null, cpuSource: null, memorySource: null, note };
}

/**
 * The outcome of a run that failed before or outside the function: no exit code, no output, the
 * error coded (anything that is not a `NebulaError` becomes one with `fallback`, kept as its
 * `cause`). Its function start and end are `at`; no sandbox ran to be measured. Spread it to say
 * more (a start taken earlier, the phases done, a set-up wait, what could be measured).
 */
export function failedOutcome(
  error: unknown,
  fallback: ErrorCode = 'RUNTIME_ERROR',
  at = nowMs(),
  phases: Partial<Record<Phase, number>> = {},
): RunOutcome {
  const e = toNebulaError(error, fallback);
  return {
    exitCode: null,
    stdout: '',
    stderr: '',
    functionStartAt: at,
    functionEndAt: at,
    phases,
    compiled: false,
    sandbox: 'fresh',
    error: e,
    resources: unmeasured(`no sandbox ran to be measured (${e.code})`),
  };
}
