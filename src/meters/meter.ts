/**
 * The Meter interface: a source of power samples, and the descriptor that registers a kind of
 * meter (`registry.ts` holds them). `gude/` (Modbus TCP), `rapl.ts` (Linux powercap) and
 * `estimate.ts` (CPU utilisation) implement it.
 */
import type { EventEmitter } from 'eventemitter3';
import type { PowerSample } from '../types.js';

/** The events every meter emits. */
export interface MeterEvents {
  /** A reading arrived. */
  sample: (sample: PowerSample) => void;
  /** A reading failed (a gap in the samples follows); the meter keeps trying. A MeterError: `details.reason` says why. */
  error: (error: Error) => void;
}

/** A source of power samples. */
export interface Meter extends EventEmitter<MeterEvents> {
  /** Identifies the meter in records, e.g. `gude:10.0.0.7:502/port1`, `rapl`, `estimate`. */
  readonly name: string;
  /** Nominal time between samples, ms. */
  readonly intervalMs: number;
  /** True when the meter only estimates power. */
  readonly estimate: boolean;
  /**
   * Starts sampling. Resolves once the meter is running; rejects with a MeterError:
   * `METER_UNAVAILABLE` (cannot be reached or read) or `METER_PROTOCOL` (it answers, but not with a reading).
   */
  start(): Promise<void>;
  /** Stops sampling and releases connections and timers. */
  stop(): Promise<void>;
}

/** A meter's URL taken apart. */
export interface MeterUrl {
  /** The whole text. */
  text: string;
  scheme: string;
  /** Host name or address ('' when the URL has none; an IPv6 address keeps its brackets). */
  host: string;
  /** The port, when given. */
  port?: number;
  /** The path after the address, '' or starting with `/`. */
  path: string;
  /** The query's `KEY=VALUE` pairs. */
  params: URLSearchParams;
}

/** Registers a kind of meter: how its URL reads and how the meter is made from it. */
export interface MeterDescriptor {
  /** The URL scheme that names it (`gude`, `rapl`, ...): lower-case letters, digits and `-`. */
  readonly scheme: string;
  /** One line saying what it measures (help, the config schema, docs). */
  readonly summary: string;
  /** The URL forms it takes, for help and error messages, e.g. `gude://HOST[:PORT][/portN|/lineN]`. */
  readonly usage: string;
  /**
   * Makes the meter from its URL (nothing is read until it starts).
   * @throws UsageError `INVALID_ARGUMENT` saying what in the URL is wrong.
   */
  create(url: MeterUrl): Meter;
}

/** Declares a meter descriptor. */
export function defineMeter(descriptor: MeterDescriptor): MeterDescriptor {
  return descriptor;
}

/** A query parameter as a number, or undefined when absent. @throws Error saying which parameter. */
export function numberParam(url: MeterUrl, key: string): number | undefined {
  const text = url.params.get(key);
  if (text === null) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value)) throw new Error(`?${key} takes a number, got "${text}"`);
  return value;
}

/** Refuses query parameters a meter does not take. @throws Error naming the first. */
export function onlyParams(url: MeterUrl, keys: readonly string[]): void {
  for (const key of url.params.keys())
    if (!keys.includes(key))
      throw new Error(`it takes no ?${key}${keys.length ? ` (it takes ${keys.map((k) => `?${k}`).join(', ')})` : ''}`);
}

/** Refuses an address where a meter takes none (`rapl`, not `rapl://x`). @throws Error saying so. */
export function noAddress(url: MeterUrl): void {
  if (url.host || url.port !== undefined || url.path) throw new Error(`"${url.scheme}" takes no address`);
}
