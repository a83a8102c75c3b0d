/**
 * Objects keyed by names from outside (function names, error codes, machine facts): only their
 * own keys are read, so `constructor`, `toString` or `__proto__` are names like any other and
 * never reach Object.prototype.
 */

/** The value `record` holds under `key` itself, never one inherited from Object.prototype. */
export function own<T>(record: Readonly<Record<string, T>> | undefined, key: string): T | undefined {
  return record !== undefined && Object.hasOwn(record, key) ? record[key] : undefined;
}

/** An empty object with no prototype, to fill with keys from outside (`__proto__` is then a key too). */
export function keyTable<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}
