/** Small HTTP helpers: JSON answers, errors as `{ error: { code, message } }`, bounded bodies, the Host check. */
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import { NebulaError, type ErrorCode } from '../errors.js';

/** A NebulaError with the HTTP status it answers. */
export class HttpError extends NebulaError {
  constructor(
    readonly status: number,
    code: ErrorCode,
    message: string,
  ) {
    super(code, message);
    this.name = 'HttpError';
  }
}

/** Which HTTP status each error code answers. */
const STATUS: Record<ErrorCode, number> = {
  FUNCTION_NOT_FOUND: 404,
  RUNTIME_NOT_DEPLOYED: 400,
  INVALID_INPUT: 400,
  INVALID_ARGUMENT: 400,
  INVALID_CONFIG: 400,
  INVALID_JSON: 400,
  INVALID_FUNCTION: 422,
  ENERGY_NOT_MEASURED: 422,
  UNAUTHORIZED: 401,
  FORBIDDEN_HOST: 403,
  NOT_FOUND: 404,
  RESULT_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  REQUEST_TIMEOUT: 408,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  // Thrown by the API only in records (ok: false), never for a request; listed for completeness.
  TIMEOUT: 504,
  ABORTED: 500,
  FUNCTION_FAILED: 500,
  MEMORY_LIMIT: 500,
  OUTPUT_LIMIT: 500,
  RESULTS_WRITE_FAILED: 500,
  RUNTIME_ERROR: 500,
  SANDBOX_PROTOCOL: 500,
  INTERNAL: 500,
  METER_PROTOCOL: 502,
  RUNTIME_UNAVAILABLE: 503,
  METER_UNAVAILABLE: 503,
  CLOSED: 503,
};

const HEADERS = { 'x-content-type-options': 'nosniff' };

/** Answers `body`: a string as text, anything else as JSON. @throws NebulaError `INTERNAL` when `body` has no JSON form. */
export function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (typeof body === 'string')
    return write(res, status, body, { 'content-type': 'text/plain; charset=utf-8', ...headers });
  let text: string;
  try {
    text = JSON.stringify(body);
  } catch (e) {
    throw new NebulaError('INTERNAL', `The answer could not be serialised as JSON: ${(e as Error).message}.`, {
      cause: e,
    });
  }
  sendJsonText(res, status, text, headers);
}

/** Answers JSON already serialised. */
export function sendJsonText(
  res: ServerResponse,
  status: number,
  text: string,
  headers: Record<string, string> = {},
): void {
  write(res, status, text, { 'content-type': 'application/json; charset=utf-8', ...headers });
}

function write(res: ServerResponse, status: number, text: string, headers: Record<string, string>): void {
  // Already answered, or the socket was answered and closed under us (a request timeout).
  if (res.headersSent || res.destroyed || res.socket?.writable === false) return;
  res.writeHead(status, { 'content-length': Buffer.byteLength(text), ...HEADERS, ...headers });
  res.end(text);
}

/** The JSON error body of `e`, and its status. */
function errorAnswer(e: unknown): { status: number; body: { error: { code: ErrorCode; message: string } } } {
  if (e instanceof HttpError) return { status: e.status, body: { error: { code: e.code, message: e.message } } };
  if (e instanceof NebulaError)
    return { status: STATUS[e.code] ?? 500, body: { error: { code: e.code, message: e.message } } };
  return {
    status: 500,
    body: { error: { code: 'INTERNAL', message: `Internal error: ${(e as Error)?.message ?? String(e)}` } },
  };
}

export function sendError(res: ServerResponse, e: unknown): void {
  const { status, body } = errorAnswer(e);
  send(res, status, body);
}

/**
 * Answers what node's HTTP parser refused before a handler could (a request that did not arrive
 * whole in time: 408; headers too large: 431; malformed: 400) straight on the socket, unless an
 * answer was already started there.
 */
export function answerClientError(
  e: NodeJS.ErrnoException,
  socket: Duplex,
  answering: ServerResponse | undefined,
  timeoutMs: number,
): void {
  if (!socket.writable || answering?.headersSent) return void socket.destroy();
  const [status, code, message]: [number, ErrorCode, string] =
    e.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'REQUEST_TIMEOUT', `The request did not arrive whole within ${timeoutMs} ms.`]
      : e.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'PAYLOAD_TOO_LARGE', 'The request headers are over the size limit.']
        : [400, 'INVALID_ARGUMENT', `Malformed HTTP request (${e.code ?? e.message}).`];
  const text = JSON.stringify({ error: { code, message } });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(text)}\r\n` +
      `x-content-type-options: nosniff\r\nconnection: close\r\n\r\n${text}`,
  );
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
    // Nobody is left to answer; the code only ends the handler.
    req.on('aborted', () =>
      reject(new HttpError(400, 'INVALID_ARGUMENT', 'The client closed the connection before sending the whole body.')),
    );
  });
}

/** Parses a JSON object body, requiring `application/json`. */
export async function readJson(req: IncomingMessage, limit: number): Promise<Record<string, unknown>> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json')
    throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', `Send the body as application/json (got "${type || 'none'}").`);
  const body = await readBody(req, limit);
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw new HttpError(400, 'INVALID_JSON', `The body is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new HttpError(400, 'INVALID_ARGUMENT', 'The body must be a JSON object.');
  return value as Record<string, unknown>;
}

export function invalid(field: string, why: string): HttpError {
  return new HttpError(400, 'INVALID_ARGUMENT', `Field "${field}" ${why}.`);
}

/** The host name of a Host header: no port, no brackets, lower case, no trailing dot. */
export function hostOf(header: string): string {
  const h = header.trim().toLowerCase();
  const name = h.startsWith('[') ? h.slice(1, h.indexOf(']') > 0 ? h.indexOf(']') : undefined) : h.replace(/:\d*$/, '');
  return name.replace(/\.$/, '');
}

/**
 * True for names that always mean this machine, which a DNS rebinding attack cannot borrow:
 * `localhost` and its sub-domains (RFC 6761), 127.0.0.0/8 and ::1.
 */
export function isLoopbackName(name: string): boolean {
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  if (isIP(name) === 4) return name.startsWith('127.');
  return name === '::1' || name === '0:0:0:0:0:0:0:1';
}
