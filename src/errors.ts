/**
 * Every failure nebula-faas reports is a {@link NebulaError} with a stable {@link ErrorCode}.
 * Foreign errors (engine, Modbus, jco) are translated once, at the adapter edge.
 */

/** The stable error codes. New codes may be added; existing ones never change meaning. */
export type ErrorCode =
  /** No function with that name is deployed. */
  | 'FUNCTION_NOT_FOUND'
  /** The function has no artifact for the requested runtime. */
  | 'RUNTIME_NOT_DEPLOYED'
  /** The invocation input cannot be serialised to JSON or is over the size cap. */
  | 'INVALID_INPUT'
  /** A function name, option or config value is not acceptable. */
  | 'INVALID_ARGUMENT'
  /** A deployed artifact (wasm bytes, image, tarball) was refused at deploy time. */
  | 'INVALID_FUNCTION'
  /** The invocation ran past its `timeoutMs` and was stopped. */
  | 'TIMEOUT'
  /** The invocation was cancelled through its `AbortSignal`. */
  | 'ABORTED'
  /** The function exited non-zero, trapped or crashed. */
  | 'FUNCTION_FAILED'
  /** The function went over its memory cap. */
  | 'MEMORY_LIMIT'
  /** The function wrote more on stdout than the output cap; its result is not returned cut. */
  | 'OUTPUT_LIMIT'
  /** The runtime (Docker engine, Wasm workers) cannot be reached or started. */
  | 'RUNTIME_UNAVAILABLE'
  /** The runtime failed for a reason that is not the function's fault. */
  | 'RUNTIME_ERROR'
  /**
   * A sandbox's supervisor broke its protocol (a frame out of order, malformed or unknown): the
   * run's result and times cannot be trusted and are not returned; the sandbox is retired.
   */
  | 'SANDBOX_PROTOCOL'
  /** The meter cannot be read (device unreachable, file not readable, ...). */
  | 'METER_UNAVAILABLE'
  /** The meter answered with something that is not a valid reading. */
  | 'METER_PROTOCOL'
  /** The instance was closed; no more work is accepted. */
  | 'CLOSED'
  /** A config file or experiment config is malformed. */
  | 'INVALID_CONFIG'
  /** A recorded experiment has no energy figures (it ran without a meter), and the answer needs them. */
  | 'ENERGY_NOT_MEASURED'
  /** A record could not be appended to the results file (disk full, file removed); the record itself is kept. */
  | 'RESULTS_WRITE_FAILED'
  /** HTTP: no such route. */
  | 'NOT_FOUND'
  /** HTTP: the route exists but not for this method. */
  | 'METHOD_NOT_ALLOWED'
  /** HTTP: a bearer token is required and was missing or wrong. */
  | 'UNAUTHORIZED'
  /** HTTP: the request's Host is not one this server answers (DNS rebinding protection). */
  | 'FORBIDDEN_HOST'
  /** HTTP: the body's content type is not accepted here. */
  | 'UNSUPPORTED_MEDIA_TYPE'
  /** HTTP: the body is over the size limit. */
  | 'PAYLOAD_TOO_LARGE'
  /** HTTP: the request (headers or body) did not arrive in time. */
  | 'REQUEST_TIMEOUT'
  /** HTTP: the body is not valid JSON. */
  | 'INVALID_JSON'
  /** HTTP: no result with that id is kept. */
  | 'RESULT_NOT_FOUND'
  /** Something went wrong on our side; please report it. */
  | 'INTERNAL';

/**
 * The codes that say the caller asked for something wrong (an unknown name, a bad argument, input
 * or config, a malformed request), as opposed to something that failed. The one place this is
 * decided: the CLI exits 2 for these and 1 for the others.
 */
const USAGE_CODES = [
  'FUNCTION_NOT_FOUND',
  'RUNTIME_NOT_DEPLOYED',
  'INVALID_INPUT',
  'INVALID_ARGUMENT',
  'INVALID_CONFIG',
  'NOT_FOUND',
  'METHOD_NOT_ALLOWED',
  'UNAUTHORIZED',
  'FORBIDDEN_HOST',
  'UNSUPPORTED_MEDIA_TYPE',
  'PAYLOAD_TOO_LARGE',
  'REQUEST_TIMEOUT',
  'INVALID_JSON',
  'RESULT_NOT_FOUND',
  'ENERGY_NOT_MEASURED',
] as const satisfies readonly ErrorCode[];

/** A code that says the caller asked for something wrong (see {@link isUsageError}). */
export type UsageCode = (typeof USAGE_CODES)[number];

/** Options accepted by every {@link NebulaError} constructor. */
export interface NebulaErrorOptions {
  /** The original error, kept for debugging. */
  cause?: unknown;
  /** Extra machine-readable facts (exit code, status, field name, ...). */
  details?: Record<string, unknown>;
}

/** The one error type of nebula-faas: a stable `code` plus a message a person can act on. */
export class NebulaError extends Error {
  /** The stable code; switch on this, not on the message. */
  readonly code: ErrorCode;
  /** Extra machine-readable facts about the failure. */
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: NebulaErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'NebulaError';
    this.code = code;
    this.details = options.details ?? {};
  }

  /** A plain JSON form, as stored in records and answered by the server. */
  toJSON(): { code: ErrorCode; message: string } & Record<string, unknown> {
    return { code: this.code, message: this.message, ...this.details };
  }
}

/** Thrown (never returned) for a wrong use of the API: bad options, unknown names. Its code is always a {@link UsageCode}. */
export class UsageError extends NebulaError {
  constructor(code: UsageCode, message: string, options?: NebulaErrorOptions) {
    super(code, message, options);
    this.name = 'UsageError';
  }
}

/** A runtime (Wasm workers, Docker engine) is not usable. */
export class RuntimeUnavailableError extends NebulaError {
  constructor(message: string, options?: NebulaErrorOptions) {
    super('RUNTIME_UNAVAILABLE', message, options);
    this.name = 'RuntimeUnavailableError';
  }
}

/** A meter is not usable or answered garbage. */
export class MeterError extends NebulaError {
  constructor(code: 'METER_UNAVAILABLE' | 'METER_PROTOCOL', message: string, options?: NebulaErrorOptions) {
    super(code, message, options);
    this.name = 'MeterError';
  }
}

/** True when `value` is a {@link NebulaError} (also across module copies, by shape). */
export function isNebulaError(value: unknown): value is NebulaError {
  return (
    value instanceof NebulaError ||
    (value instanceof Error &&
      typeof (value as { code?: unknown }).code === 'string' &&
      value.name.endsWith('Error') &&
      'details' in value)
  );
}

/**
 * A value as an error message shows it: JSON text cut at 60 characters. A number that is not
 * finite (NaN, or a JSON literal such as 1e400, which parses to Infinity) says so, where JSON
 * would print `null`.
 */
export function shownValue(value: unknown): string {
  if (typeof value === 'number' && !Number.isFinite(value)) return `${String(value)} (not a finite number)`;
  let text: string;
  try {
    text =
      JSON.stringify(value, (_k, v: unknown) =>
        typeof v === 'number' && !Number.isFinite(v) ? `${String(v)} (not a finite number)` : v,
      ) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/**
 * True when `error` is a {@link NebulaError} whose code says the caller asked for something wrong
 * (`INVALID_ARGUMENT`, `INVALID_CONFIG`, `FUNCTION_NOT_FOUND`, ...), whatever its class; false for
 * a failure (`RUNTIME_UNAVAILABLE`, `INVALID_FUNCTION`, `TIMEOUT`, ...) and for anything else.
 */
export function isUsageError(error: unknown): boolean {
  return isNebulaError(error) && (USAGE_CODES as readonly string[]).includes(error.code);
}

/** Wraps anything thrown into a {@link NebulaError}, keeping it as `cause`. */
export function toNebulaError(value: unknown, fallback: ErrorCode = 'INTERNAL'): NebulaError {
  if (isNebulaError(value)) return value;
  const message = value instanceof Error ? value.message : String(value);
  return new NebulaError(fallback, message, { cause: value });
}
