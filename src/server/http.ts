/** Small HTTP helpers: JSON answers, errors as `{ error: { code, message } }`, bounded bodies. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { NebulaError, type ErrorCode } from '../errors.js';

/** An error with the HTTP status it answers. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Which HTTP status each error code answers. */
const STATUS: Partial<Record<ErrorCode, number>> = {
  FUNCTION_NOT_FOUND: 404,
  RUNTIME_NOT_DEPLOYED: 400,
  INVALID_INPUT: 400,
  INVALID_ARGUMENT: 400,
  INVALID_CONFIG: 400,
  INVALID_FUNCTION: 422,
  RUNTIME_UNAVAILABLE: 503,
  METER_UNAVAILABLE: 503,
  CLOSED: 503,
};

export function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'x-content-type-options': 'nosniff',
    ...headers,
  });
  res.end(text);
}

export function sendError(res: ServerResponse, e: unknown): void {
  if (e instanceof HttpError) return send(res, e.status, { error: { code: e.code, message: e.message } });
  if (e instanceof NebulaError) return send(res, STATUS[e.code] ?? 500, { error: { code: e.code, message: e.message } });
  send(res, 500, { error: { code: 'INTERNAL', message: `Internal error: ${(e as Error)?.message ?? String(e)}` } });
}

/**
 * Reads the body up to `limit` bytes. A declared or actual size over the limit answers 413 and
 * stops reading (the connection is closed after the answer).
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? NaN);
    const tooLarge = () => new HttpError(413, 'PAYLOAD_TOO_LARGE', `The request body is over the ${limit}-byte limit.`);
    if (declared > limit) return reject(tooLarge());
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.pause();
        reject(tooLarge());
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
    req.on('aborted', () => reject(new HttpError(400, 'BAD_REQUEST', 'The client aborted the request.')));
  });
}

/** Parses a JSON object body, requiring `application/json`. */
export async function readJson(req: IncomingMessage, limit: number): Promise<Record<string, unknown>> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', `Send the body as application/json (got "${type || 'none'}").`);
  const body = await readBody(req, limit);
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw new HttpError(400, 'MALFORMED_JSON', `The body is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new HttpError(400, 'INVALID_ARGUMENT', 'The body must be a JSON object.');
  return value as Record<string, unknown>;
}

export function invalid(field: string, why: string): HttpError {
  return new HttpError(400, 'INVALID_ARGUMENT', `Field "${field}" ${why}.`);
}
