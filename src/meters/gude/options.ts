/**
 * Argument checks for GudeMeter and GudeSimulator: a wrong value throws `INVALID_ARGUMENT` (a
 * UsageError) in the constructor, saying which option and what it takes.
 */
import { UsageError } from '../../errors.js';

const show = (v: unknown) =>
  typeof v === 'string' ? JSON.stringify(v) : typeof v === 'object' && v ? JSON.stringify(v) : String(v);

/** The error for option `name`, which must be `wants`. */
export function invalidOption(name: string, wants: string, value: unknown): UsageError {
  return new UsageError('INVALID_ARGUMENT', `${name} must be ${wants}, got ${show(value)}.`, {
    details: { option: name },
  });
}

/** A whole number in [min, max], or `fallback` when undefined. */
export function wholeNumber(name: string, value: unknown, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    throw invalidOption(name, `a whole number from ${min} to ${max}`, value);
  return value;
}

/** A finite number in [min, max], or `fallback` when undefined. */
export function finiteNumber(name: string, value: unknown, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max)
    throw invalidOption(name, `a finite number from ${min} to ${max}`, value);
  return value;
}

/** A finite number above 0 and at most `max`, or `fallback` when undefined. */
export function positive(name: string, value: unknown, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > max)
    throw invalidOption(name, `a finite number above 0, at most ${max}`, value);
  return value;
}

/** A non-empty host name or address; `fallback` when undefined (no fallback: required). */
export function hostName(name: string, value: unknown, fallback?: string): string {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== 'string' || !value.trim())
    throw invalidOption(name, "a host name or address (e.g. '10.0.0.7')", value);
  return value.trim();
}

/** One of `allowed`, or `fallback` when undefined. */
export function oneOf<T extends string>(name: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value as T))
    throw invalidOption(name, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`, value);
  return value as T;
}
