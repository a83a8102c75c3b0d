/**
 * The open-loop generator of one load step: sends each arrival at its intended time whatever the
 * earlier ones are doing, holds those over the in-flight limit in a queue (their wait counts in
 * their latency), and measures its own lag behind the schedule.
 */
import { nowMs } from '../../clock.js';

/** One arrival of a step, as the generator handled it. Times are epoch ms on the one clock. */
export interface Arrival {
  /** Its place in the step's schedule, from 0. */
  index: number;
  /** When it was meant to be sent: latency counts from here. */
  intendedAt: number;
  /** How late the generator took it up: its own lag, not the engine's, ms. */
  lagMs: number;
  /** When it left the queue and was sent (set by the generator before `send`). */
  sentAt: number;
}

/** What drives a step. */
export interface GeneratorOptions {
  /** Intended send times, ms after the step's start, ascending. */
  offsets: readonly number[];
  /** Invocations running at once at most; the rest wait in the queue. */
  maxInFlight: number;
  /** An arrival that waited this long in the queue is given up (`giveUp`), ms. */
  queueTimeoutMs: number;
  /** Sends one arrival; resolves once its invocation has ended. Never rejects. */
  send(arrival: Arrival): Promise<void>;
  /** An arrival given up in the queue, at epoch ms `at`. */
  giveUp(arrival: Arrival, at: number): void;
  /** Stops sending: arrivals not yet sent are dropped (counted in `unsent`). */
  signal?: AbortSignal | undefined;
  /** Hears the step's start (epoch ms of offset 0) before the first arrival is due. */
  onStart?: (startAt: number) => void;
}

/** What the generator saw of a step. */
export interface GeneratorResult {
  /** Epoch ms of the step's start (offset 0). */
  startAt: number;
  /** Arrivals sent, given up in the queue, and not sent because the step was stopped. */
  sent: number;
  givenUp: number;
  unsent: number;
  /** The most invocations in flight at once. */
  peakInFlight: number;
}

/** Time allowed before the first arrival, so it is not late by the set-up of the loop itself, ms. */
const LEAD_MS = 5;
/** Waits longer than this sleep on a timer (waking this much early); shorter ones spin on the event loop, ms. */
const SPIN_MS = 2;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Runs one step; resolves once every sent invocation has ended. */
export async function generate(options: GeneratorOptions): Promise<GeneratorResult> {
  const { offsets, maxInFlight, queueTimeoutMs, signal } = options;
  const startAt = nowMs() + LEAD_MS;
  options.onStart?.(startAt);
  const queue: Arrival[] = [];
  let inFlight = 0;
  let peakInFlight = 0;
  let sent = 0;
  let givenUp = 0;
  let next = 0;
  let drained: (() => void) | undefined;

  const launch = (a: Arrival) => {
    a.sentAt = nowMs();
    inFlight++;
    sent++;
    peakInFlight = Math.max(peakInFlight, inFlight);
    void options.send(a).finally(() => {
      inFlight--;
      pump();
      if (inFlight === 0 && drained && (queue.length === 0 || signal?.aborted)) drained();
    });
  };
  const pump = () => {
    while (queue.length && inFlight < maxInFlight && !signal?.aborted) {
      const a = queue.shift()!;
      const now = nowMs();
      if (now - a.intendedAt > queueTimeoutMs) {
        givenUp++;
        options.giveUp(a, now);
      } else launch(a);
    }
  };

  while (next < offsets.length && !signal?.aborted) {
    const now = nowMs();
    for (; next < offsets.length && startAt + offsets[next]! <= now; next++) {
      const intendedAt = startAt + offsets[next]!;
      const a: Arrival = { index: next, intendedAt, lagMs: nowMs() - intendedAt, sentAt: Number.NaN };
      if (inFlight < maxInFlight && queue.length === 0) launch(a);
      else queue.push(a);
    }
    pump();
    if (next >= offsets.length) break;
    const wait = startAt + offsets[next]! - nowMs();
    await (wait > SPIN_MS ? sleep(wait - SPIN_MS) : yieldToLoop());
  }
  // The queue drains as invocations end; the last ones are given up once they waited too long.
  while (queue.length && !signal?.aborted && inFlight === 0) pump();
  if (inFlight > 0) await new Promise<void>((resolve) => (drained = resolve));
  const unsent = offsets.length - next + (signal?.aborted ? queue.length : 0);
  return { startAt, sent, givenUp, unsent, peakInFlight };
}
