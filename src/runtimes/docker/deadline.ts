/**
 * Deadlines on engine calls: every call on an invocation's path ends by a time derived from its
 * `timeoutMs`, even when the engine stops answering (the HTTP request is aborted, the promise settles).
 */
import { nowMs } from '../../clock.js';

/** An engine call that did not answer by its deadline. */
export class DeadlineError extends Error {
  constructor(readonly doing: string) {
    super(`The Docker engine did not answer in time while ${doing}.`);
    this.name = 'DeadlineError';
  }
}

/**
 * Runs `call` with an AbortSignal that fires at `deadlineAt` (epoch ms, nebula clock), or when
 * `cancel` fires, and settles by then whatever the call does.
 * @throws DeadlineError at the deadline; the cancel reason when cancelled; otherwise what `call` throws.
 */
export async function by<T>(
  deadlineAt: number,
  doing: string,
  call: (signal: AbortSignal) => Promise<T>,
  cancel?: AbortSignal,
): Promise<T> {
  const ac = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let onCancel: (() => void) | undefined;
  const expired = new Promise<never>((_, reject) => {
    const end = (e: unknown) => {
      ac.abort(e);
      reject(e);
    };
    // Unref'd: the pending call's own socket keeps the process alive while it matters.
    timer = setTimeout(() => end(new DeadlineError(doing)), Math.max(0, deadlineAt - nowMs())).unref();
    onCancel = () => end(cancel?.reason);
    cancel?.addEventListener('abort', onCancel, { once: true });
  });
  try {
    return await Promise.race([call(ac.signal), expired]);
  } finally {
    clearTimeout(timer);
    if (onCancel) cancel?.removeEventListener('abort', onCancel);
  }
}

/** Resolves after `ms` (an unref'd timer: it never keeps the process alive). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** What {@link untilAborted} resolves with when the signal wins. */
export const ABORTED = Symbol('aborted');

/**
 * Waits for `p` unless `signal` aborts first; then `p` is left to finish in the background and
 * `onLate` gets its value (to release what it made, e.g. remove a container created after all).
 */
export function untilAborted<T>(
  p: Promise<T>,
  signal: AbortSignal | undefined,
  onLate: (value: T) => void,
): Promise<T | typeof ABORTED> {
  if (!signal) return p;
  if (signal.aborted) {
    p.then(onLate, () => undefined);
    return Promise.resolve(ABORTED);
  }
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      p.then(onLate, () => undefined);
      resolve(ABORTED);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
