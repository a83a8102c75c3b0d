/**
 * How a Docker invocation that did not end on its own is reported: stopped (timeout, abort,
 * output cap), or given up because the engine stopped answering. Shared by every mode; these
 * take plain values, never the run's context.
 */
import type Docker from 'dockerode';
import { NebulaError, RuntimeUnavailableError } from '../../errors.js';
import { DeadlineError } from './deadline.js';
import { engineError, ping, START_ENGINE_HINT } from './engine.js';

/** Why nebula-faas stopped a function. */
export type StopReason = 'TIMEOUT' | 'ABORTED' | 'OUTPUT_LIMIT';

/**
 * After `timeoutMs`, how long the kill and the collection of what the function wrote may take, ms.
 * An invocation settles at the latest `timeoutMs + GRACE_MS` (+ a 1 s ping when the engine is silent).
 */
export const GRACE_MS = 2000;

export function stopError(why: StopReason, timeoutMs: number, maxOutputBytes: number): NebulaError {
  if (why === 'TIMEOUT')
    return new NebulaError('TIMEOUT', `The container ran longer than its timeout of ${timeoutMs} ms and was killed.`);
  if (why === 'ABORTED')
    return new NebulaError('ABORTED', 'The invocation was aborted by its signal; the function was killed.');
  return new NebulaError(
    'OUTPUT_LIMIT',
    `The function wrote more than ${maxOutputBytes} bytes to stdout (maxOutputBytes) and was killed; the cut result is not returned.`,
  );
}

/**
 * The error of an invocation whose engine call failed or did not answer by its deadline: a
 * silent engine that still answers a ping was merely slow (TIMEOUT, or ABORTED when stopped so);
 * one that does not is RUNTIME_UNAVAILABLE.
 */
export async function engineFailure(
  docker: Docker,
  e: unknown,
  timeoutMs: number,
  stopped: StopReason | undefined,
): Promise<NebulaError> {
  if (!(e instanceof DeadlineError)) return engineError(e, 'running a container');
  try {
    await ping(docker, 1000);
  } catch {
    return new RuntimeUnavailableError(
      `The Docker engine stopped answering while ${e.doing}; the invocation was given up ${GRACE_MS} ms after its timeout of ${timeoutMs} ms. ` +
        `Its container is removed once the engine answers again. ${START_ENGINE_HINT}`,
      { cause: e },
    );
  }
  if (stopped === 'ABORTED')
    return new NebulaError('ABORTED', 'The invocation was aborted by its signal.', { cause: e });
  return new NebulaError(
    'TIMEOUT',
    `The Docker engine did not finish ${e.doing} within the timeout of ${timeoutMs} ms (the engine is busy).`,
    { cause: e },
  );
}

/**
 * Checks, within a second, that the engine still answers.
 * @throws RuntimeUnavailableError saying what was being done when it stopped.
 */
export async function engineAlive(docker: Docker, doing: string): Promise<void> {
  try {
    await ping(docker, 1000);
  } catch (e) {
    throw new RuntimeUnavailableError(`The Docker engine stopped answering while ${doing}. ${START_ENGINE_HINT}`, {
      cause: e,
    });
  }
}
