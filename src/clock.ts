/**
 * The one clock of nebula-faas: epoch milliseconds (like `Date.now()`) with sub-millisecond
 * resolution. Every timestamp in a record, a phase or a meter sample is on this clock.
 *
 * Sources and how they are brought onto it:
 * - this thread: `performance.timeOrigin + performance.now()` (monotonic within the thread,
 *   anchored to the wall clock once, when the thread started);
 * - worker threads: the same expression in the worker; each thread's `timeOrigin` is read from
 *   the same system wall clock, so the two agree to within the clock's resolution. A worker
 *   also reports `offsetMs` (its clock minus the parent's at a hand-shake) so it can be corrected;
 * - the Docker engine: RFC 3339 timestamps with nanoseconds (`State.StartedAt`) from the same
 *   host's wall clock, parsed by {@link parseRfc3339Ms} without losing the sub-millisecond part;
 * - meters: the sample time is taken on this clock when the reading is received (the middle of
 *   the request for polled meters);
 * - helper processes (the process runtime's): CLOCK_MONOTONIC nanoseconds, the clock under
 *   `performance.now()` and `process.hrtime` on Linux, converted by {@link fromMonotonicNs}.
 */
import { performance } from 'node:perf_hooks';

/**
 * The longest delay a Node.js timer takes (2^31 - 1 ms, about 24.8 days; a longer one fires at
 * once): the limit of every timeout and duration nebula-faas takes.
 */
export const MAX_TIMEOUT_MS = 2_147_483_647;

/** Now, in epoch milliseconds with sub-millisecond resolution. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * A CLOCK_MONOTONIC reading in ns (from this machine, e.g. a child process's `clock_gettime`) as
 * epoch ms on this clock: `process.hrtime` reads the same clock, so the conversion is exact.
 */
export function fromMonotonicNs(ns: bigint): number {
  const now = nowMs();
  return now - Number(process.hrtime.bigint() - ns) / 1e6;
}

const RFC3339 = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Parses an RFC 3339 timestamp such as `2026-11-23T12:43:07.123456789Z` into epoch ms,
 * keeping the fraction below a millisecond (Date.parse would drop it).
 * Returns `NaN` for anything else, including Docker's zero time `0001-01-01T00:00:00Z`.
 */
export function parseRfc3339Ms(text: string): number {
  const m = RFC3339.exec(text);
  if (!m) return Number.NaN;
  const whole = Date.parse(`${m[1]}${m[3]}`);
  if (!Number.isFinite(whole) || whole <= 0) return Number.NaN;
  const fraction = m[2] ? Number(`0.${m[2]}`) * 1000 : 0;
  return whole + fraction;
}

/** Epoch ms to an ISO 8601 string (millisecond precision). */
export function isoFromMs(ms: number): string {
  return new Date(ms).toISOString();
}
