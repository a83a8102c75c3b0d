/**
 * Building invocation records: ids, input serialisation, result parsing (bounded), stderr
 * capping, and the one place a runtime's `RunOutcome` becomes an `InvocationRecord`.
 */
import { randomFillSync } from 'node:crypto';
import { isoFromMs, nowMs } from './clock.js';
import { NebulaError, UsageError } from './errors.js';
import { failedOutcome, unmeasured } from './runtimes/outcome.js';
import type { RunOutcome } from './runtimes/runtime.js';
import type { EnergyStatus, InvocationError, InvocationMode, InvocationRecord, RuntimeKind } from './types.js';

/** Deepest JSON nesting parsed from a function's stdout; deeper output is returned as text. */
const MAX_RESULT_DEPTH = 512;

let idCounter = 0;
/** Random bytes for ids, drawn 4 at a time: one call into the generator per 1 024 ids instead of one (~20 us) per id. */
const entropy = Buffer.alloc(4096);
let entropyAt = entropy.length;

/** A time-ordered unique id: 9 base-36 characters of epoch ms, then a counter and randomness. */
export function newId(): string {
  idCounter = (idCounter + 1) % 1296;
  if (entropyAt === entropy.length) {
    randomFillSync(entropy);
    entropyAt = 0;
  }
  const random = entropy.readUInt32BE(entropyAt);
  entropyAt += 4;
  return (
    Date.now().toString(36).padStart(9, '0') +
    idCounter.toString(36).padStart(2, '0') +
    random.toString(16).padStart(8, '0')
  );
}

/** Cuts `text` to at most `maxBytes` bytes of UTF-8, saying so. */
function capText(text: string, maxBytes: number, what = 'stderr'): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  return Buffer.from(text).subarray(0, maxBytes).toString('utf8') + `\n[${what} truncated]`;
}

/** The deepest nesting of arrays and objects in JSON text (strings skipped), stopping past `limit`. */
function jsonDepth(text: string, limit: number): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max && (max = depth) > limit) return max;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

/**
 * stdout that parses as JSON is returned parsed, otherwise as trimmed text (docs/function-contract.md).
 * JSON nested deeper than {@link MAX_RESULT_DEPTH} levels is returned as text: parsing and
 * storing it would need unbounded stack.
 */
function parseResult(stdout: string): unknown {
  const text = stdout.trim();
  if (text === '') return '';
  const first = text.charCodeAt(0);
  if ((first === 0x5b || first === 0x7b) && jsonDepth(text, MAX_RESULT_DEPTH) > MAX_RESULT_DEPTH) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * The JSON text handed to the function on stdin.
 * @throws UsageError `INVALID_INPUT` when the input cannot be serialised or is over `maxBytes`.
 */
export function serialiseInput(input: unknown, maxBytes: number): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(input);
  } catch (e) {
    throw new UsageError('INVALID_INPUT', `The input cannot be serialised to JSON: ${(e as Error).message}`, {
      cause: e,
    });
  }
  if (json === undefined)
    throw new UsageError(
      'INVALID_INPUT',
      'The input cannot be serialised to JSON (undefined, a function or a symbol).',
    );
  const size = Buffer.byteLength(json);
  if (size > maxBytes)
    throw new UsageError(
      'INVALID_INPUT',
      `The input is ${size} bytes as JSON, over the ${maxBytes}-byte cap (option maxInputBytes).`,
      {
        details: { size, max: maxBytes },
      },
    );
  return json;
}

/** The resources of a record whose runtime reported none (a runtime from outside the package). */
const NOT_REPORTED = Object.freeze(unmeasured('the runtime reports no CPU time or memory for its runs'));

/**
 * Builds a record of each kind once, outside any invocation, for `nebula.ready()`: V8 compiles each
 * function on its first call, and that is set-up, not a first invocation's time.
 */
export function warmRecordPath(): void {
  const at = nowMs();
  const facts: RecordFacts = {
    id: 'warm-up',
    name: 'warm-up',
    runtime: 'warm-up' as RuntimeKind,
    mode: 'cold',
    input: null,
    requestAt: at,
    prepareMs: 0,
    maxStderrBytes: 4096,
  };
  toRecord(facts, { ...failedOutcome('warm-up', 'RUNTIME_ERROR', at), exitCode: 0, error: undefined, stdout: '1' });
  toRecord(facts, failedOutcome('warm-up', 'RUNTIME_ERROR', at));
}

/** What a record is built from besides the outcome. */
export interface RecordFacts {
  id: string;
  name: string;
  runtime: RuntimeKind;
  mode: InvocationMode;
  input: unknown;
  /** Epoch ms of the `invoke()` call. */
  requestAt: number;
  /** ms waited for set-up before the run (Nebula's own wait plus the runtime's `setupWaitMs`). */
  prepareMs: number;
  maxStderrBytes: number;
}

function failure(o: RunOutcome, name: string, maxStderr: number): InvocationError | undefined {
  const stderr = capText(o.stderr, maxStderr);
  if (o.error) return { code: o.error.code, message: o.error.message, exitCode: o.exitCode, stderr };
  if (o.exitCode !== 0) {
    const first = o.stderr.trim().split('\n')[0] ?? '';
    return {
      code: 'FUNCTION_FAILED',
      message: `Function "${name}" exited with code ${String(o.exitCode)}${first ? `: ${first}` : ''}`,
      exitCode: o.exitCode,
      stderr,
    };
  }
  if (o.stdoutTruncated) {
    const e = new NebulaError(
      'OUTPUT_LIMIT',
      `Function "${name}" wrote more on stdout than the output cap (runtime option maxOutputBytes); its cut result is not returned.`,
    );
    return { code: e.code, message: e.message, exitCode: o.exitCode, stderr };
  }
  return undefined;
}

/** Turns a runtime's outcome into the invocation's record (energy is filled in later). */
export function toRecord<R>(f: RecordFacts, o: RunOutcome): InvocationRecord<R> {
  const error = failure(o, f.name, f.maxStderrBytes);
  const readyAt = f.requestAt + f.prepareMs;
  const start = Math.max(o.functionStartAt, readyAt);
  const end = Math.max(o.functionEndAt, start);
  const base = {
    id: f.id,
    function: f.name,
    runtime: f.runtime,
    mode: f.mode,
    sandbox: o.sandbox,
    ...(o.sandboxId !== undefined ? { sandboxId: o.sandboxId } : {}),
    input: f.input,
    startedAt: isoFromMs(f.requestAt),
    timing: {
      prepareMs: f.prepareMs,
      startupMs: start - readyAt,
      execMs: end - start,
      totalMs: nowMs() - f.requestAt,
      cleanupMs: null,
      phases: o.phases,
      compiled: o.compiled,
      requestAt: f.requestAt,
      functionStartAt: start,
      functionEndAt: end,
    },
    energy: null,
    energyStatus: 'pending' as EnergyStatus,
    ...(o.limits ? { limits: o.limits } : {}),
    resources: o.resources ?? NOT_REPORTED,
    preinitialized: o.preinitialized === true,
  };
  if (error) return { ...base, ok: false, result: null, error };
  return { ...base, ok: true, result: parseResult(o.stdout) as R };
}
