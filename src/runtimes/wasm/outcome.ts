/** How a pool result becomes a `RunOutcome`: the coded error of every way a Wasm run can end. */
import { NebulaError, RuntimeUnavailableError } from '../../errors.js';
import type { InvocationResources } from '../../types.js';
import { failedOutcome, unmeasured } from '../outcome.js';
import type { RunContext, RunOutcome } from '../runtime.js';
import type { DoneSlot, PoolResult } from './pool/pool.js';
import { Flag, Result, Sandbox, SANDBOX_SHIFT } from './pool/shared-slots.js';

const MiB = 1024 * 1024;

/** What the outcome needs to know about the function besides the result. */
export interface OutcomeFacts {
  compiled: boolean;
  memoryMaxBytes: number;
  /** `memory.grow` failures are reported by the module itself (else: judged by the memory's size). */
  growProbe: boolean;
  maxOutputBytes: number;
}

function ended(
  r: Exclude<PoolResult, { kind: 'done' }>,
  error: NebulaError,
  compiled: boolean,
  startAt?: number,
): RunOutcome {
  const outcome: RunOutcome = {
    ...failedOutcome(error, 'RUNTIME_ERROR', r.at),
    functionStartAt: startAt ?? r.at,
    compiled,
    resources: unmeasured(
      r.kind === 'timeout' || r.kind === 'aborted'
        ? r.started
          ? 'the run was stopped with its worker thread, before the thread could read its CPU clock'
          : 'the function never started'
        : r.kind === 'crashed'
          ? 'the worker thread running it crashed'
          : 'the runtime could not run it',
    ),
  };
  if (r.setupWaitMs > 0) outcome.setupWaitMs = r.setupWaitMs;
  return outcome;
}

/**
 * The run's CPU time on its worker thread's own clock, from claiming the run (instantiation
 * included) to its end; the instance's linear memory at the end, the most it held (a memory
 * only grows; for a reused instance, across its earlier runs too).
 */
function resourcesOf(d: DoneSlot): InvocationResources {
  const memory = d.memoryBytes > 0 ? d.memoryBytes : null;
  if (!Number.isFinite(d.cpuMs))
    return {
      ...unmeasured("this Node cannot read the worker thread's CPU clock (docs/timing.md#resources)"),
      maxMemoryBytes: memory,
      memorySource: memory === null ? null : 'linear-memory',
    };
  const out: InvocationResources = {
    cpuMs: d.cpuMs,
    cpuSinceAt: d.claimedAt,
    maxMemoryBytes: memory,
    cpuSource: 'thread-clock',
    memorySource: memory === null ? null : 'linear-memory',
  };
  if (Number.isFinite(d.cpuUserMs) && Number.isFinite(d.cpuSystemMs)) {
    out.userMs = d.cpuUserMs;
    out.systemMs = d.cpuSystemMs;
  }
  return out;
}

function failure(r: Exclude<PoolResult, { kind: 'done' }>, ctx: RunContext): { error: NebulaError; startAt?: number } {
  switch (r.kind) {
    case 'timeout':
      return {
        error: new NebulaError(
          'TIMEOUT',
          r.started
            ? `The function ran longer than its timeout of ${ctx.timeoutMs} ms and was stopped.`
            : `The function did not start within its timeout of ${ctx.timeoutMs} ms: every wasm worker was busy, so it was taken off the queue.`,
        ),
        ...(r.started && r.startAt > 0 ? { startAt: r.startAt } : {}),
      };
    case 'aborted':
      return {
        error: new NebulaError(
          'ABORTED',
          `The invocation was aborted by its signal${r.started ? ' and the function was stopped' : ' before it started'}.`,
        ),
        ...(r.started && r.startAt > 0 ? { startAt: r.startAt } : {}),
      };
    case 'crashed':
      // Only this run was in the thread when it died: the function's failure, not the runtime's.
      return {
        error: new NebulaError(
          'FUNCTION_FAILED',
          `The function crashed the wasm worker thread running it (${r.message}); the thread was replaced, other invocations carry on.`,
        ),
      };
    case 'unavailable':
      return { error: new RuntimeUnavailableError(`The Wasm runtime cannot run functions: ${r.message}.`) };
  }
}

export function toOutcome(r: PoolResult, ctx: RunContext, f: OutcomeFacts): RunOutcome {
  if (r.kind !== 'done') {
    const { error, startAt } = failure(r, ctx);
    return ended(r, error, f.compiled, startAt);
  }
  const d = r.slot;
  const outcome: RunOutcome = {
    exitCode: d.result === Result.EXITED ? d.exitCode : null,
    stdout: d.stdout,
    stderr: d.stderr,
    functionStartAt: d.startAt,
    functionEndAt: d.endAt,
    phases: {
      dispatch: Math.max(0, d.claimedAt - r.dispatchAt),
      instantiate: d.instantiateMs,
      run: d.endAt - d.startAt,
    },
    compiled: f.compiled,
    sandbox: Sandbox[(d.flags >> SANDBOX_SHIFT) & 3] ?? 'fresh',
    resources: resourcesOf(d),
  };
  if (r.setupWaitMs > 0) outcome.setupWaitMs = r.setupWaitMs;
  if (d.sandboxId !== undefined) outcome.sandboxId = d.sandboxId;
  if (d.flags & Flag.STDOUT_CUT) outcome.stdoutTruncated = true;
  if (d.flags & Flag.STDERR_CUT) outcome.stderrTruncated = true;
  const cap = f.memoryMaxBytes / MiB;
  const failed = d.result === Result.TRAPPED || (d.result === Result.EXITED && d.exitCode !== 0);
  const grewTooFar = f.growProbe ? (d.flags & Flag.GROW_FAILED) !== 0 : d.memoryBytes + 16 * 65536 > f.memoryMaxBytes;
  if (failed && grewTooFar) {
    outcome.error = new NebulaError(
      'MEMORY_LIMIT',
      `The function failed after asking for more memory than its cap of ${cap} MiB (limits.memoryMiB); it had ${(d.memoryBytes / MiB).toFixed(1)} MiB${d.message ? `: ${d.message}` : ''}.`,
    );
  } else if (d.result === Result.TRAPPED)
    outcome.error = new NebulaError('FUNCTION_FAILED', `The function trapped: ${d.message}`);
  else if (d.result === Result.OUTPUT_LIMIT)
    outcome.error = new NebulaError(
      'OUTPUT_LIMIT',
      `The function wrote more than ${f.maxOutputBytes} bytes on stdout (the runtime's maxOutputBytes) and was stopped there; its cut result is not returned.`,
    );
  else if (d.result === Result.INSTANTIATE_FAILED)
    outcome.error = new NebulaError('FUNCTION_FAILED', `The function's instance could not be created: ${d.message}`);
  else if (d.result === Result.UNKNOWN_FUNCTION)
    outcome.error = new NebulaError('RUNTIME_ERROR', `The wasm worker could not run it: ${d.message}.`);
  return outcome;
}
