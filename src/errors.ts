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
  /** The function wrote more than the output cap to stdout; the cut result is not returned. */
  | 'OUTPUT_LIMIT'
  /** The results file could not be written; the record is still returned. */
  | 'RESULTS_WRITE_FAILED'
  /** The runtime (Docker engine, Wasm workers) cannot be reached or started. */
  | 'RUNTIME_UNAVAILABLE'
  /** The runtime failed for a reason that is not the function's fault. */
  | 'RUNTIME_ERROR'
  /** The meter cannot be read (device unreachable, file not readable, ...). */
  | 'METER_UNAVAILABLE'
  /** The meter answered with something that is not a valid reading. */
  | 'METER_PROTOCOL'
  /** The instance was closed; no more work is accepted. */
  | 'CLOSED'
  /** A config file or experiment config is malformed. */
  | 'INVALID_CONFIG'
  /** Something went wrong on our side; please report it. */
  | 'INTERNAL';

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

/** Thrown (never returned) for a wrong use of the API: bad options, unknown names. */
export class UsageError extends NebulaError {
  constructor(code: ErrorCode, message: string, options?: NebulaErrorOptions) {
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
    (value instanceof Error && typeof (value as { code?: unknown }).code === 'string' && value.name.endsWith('Error') &&
      'details' in value)
  );
}

/** Wraps anything thrown into a {@link NebulaError}, keeping it as `cause`. */
export function toNebulaError(value: unknown, fallback: ErrorCode = 'INTERNAL'): NebulaError {
  if (isNebulaError(value)) return value;
  const message = value instanceof Error ? value.message : String(value);
  return new NebulaError(fallback, message, { cause: value });
}
