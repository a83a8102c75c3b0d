/**
 * `nebula-faas/server`: the REST API and web page over a Nebula instance (node:http, no
 * framework: eleven routes and a body reader are fewer lines than adapting one).
 *
 * @example
 * ```ts
 * import { Nebula } from 'nebula-faas';
 * import { createServer } from 'nebula-faas/server';
 * const api = createServer(new Nebula(), { token: process.env.NEBULA_TOKEN });
 * const { url } = await api.listen(3090);
 * ```
 * @module
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer as createHttpServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { UsageError } from '../errors.js';
import { checkKnownKeys, keysOf } from '../known-keys.js';
import type { Nebula } from '../nebula.js';
import { answerClientError, hostOf, HttpError, isLoopbackName, sendError } from './http.js';
import { Metrics } from './metrics.js';
import { ResultsStore } from './results-store.js';
import { match, type RouteContext } from './routes.js';

/** Options of {@link createServer}. */
export interface ServerOptions {
  /** When set, every route but `/` and `/healthz` needs `Authorization: Bearer <token>`, and any Host header is answered. */
  token?: string;
  /**
   * Without a token, the server answers only requests whose Host header names this machine
   * (`localhost`, `*.localhost`, 127.x.x.x, `[::1]`), so a web page cannot reach it through DNS
   * rebinding. These host names (no port, e.g. `['pi.local', '10.0.0.5']`) are answered too.
   */
  allowedHosts?: string[];
  /** Largest JSON body, bytes. Default 1 MiB. */
  jsonLimitBytes?: number;
  /** Largest wasm upload, bytes. Default 8 MiB. */
  uploadLimitBytes?: number;
  /** A request (headers and body) must arrive within this, ms; else 408. Default 30 000. */
  requestTimeoutMs?: number;
  /** Records kept for `/results`, at most. Default 10 000. */
  historySize?: number;
  /** Bytes of the kept records' JSON, at most (the oldest go first). Default 64 MiB. */
  historyBytes?: number;
  /** Allow listening on a non-loopback address without a token. Default false. */
  allowPublic?: boolean;
}

/** A running (or ready) API server. */
export interface NebulaServer {
  readonly server: Server;
  /** Starts listening; resolves with the URL. @throws UsageError `INVALID_ARGUMENT` for a public host without a token. */
  listen(port?: number, host?: string): Promise<{ url: string; port: number }>;
  /** Stops listening and closes connections (the Nebula instance stays open). */
  close(): Promise<void>;
}

const OPTION_KEYS = keysOf<ServerOptions>({
  token: true,
  allowedHosts: true,
  jsonLimitBytes: true,
  uploadLimitBytes: true,
  requestTimeoutMs: true,
  historySize: true,
  historyBytes: true,
  allowPublic: true,
});

const digest = (s: string) => createHash('sha256').update(s).digest();
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

function whole(name: string, value: unknown, min: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min)
    throw new UsageError(
      'INVALID_ARGUMENT',
      `Server option ${name} must be a whole number from ${min}, got ${typeof value === 'number' || typeof value === 'boolean' ? String(value) : JSON.stringify(value)}.`,
    );
  return value;
}

/**
 * Serves a Nebula instance over HTTP: `POST /invoke`, `GET /results`, `GET|POST /functions`,
 * `DELETE /functions/:name`, `GET /healthz`, `GET /metrics` (Prometheus), `GET /samples` and the page at `/`.
 * @throws UsageError `INVALID_ARGUMENT` for an option out of range.
 * @example
 * ```ts
 * const api = createServer(new Nebula(), { token: process.env.NEBULA_TOKEN });
 * const { url } = await api.listen(3090);
 * ```
 */
export function createServer(nebula: Nebula, options: ServerOptions = {}): NebulaServer {
  checkKnownKeys(options, OPTION_KEYS, 'createServer() options');
  const requestTimeout = whole('requestTimeoutMs', options.requestTimeoutMs, 1, 30_000);
  const store = new ResultsStore({
    maxRecords: whole('historySize', options.historySize, 1, 10_000),
    maxBytes: whole('historyBytes', options.historyBytes, 0, 64 * 1024 * 1024),
  });
  const allowed = new Set((options.allowedHosts ?? []).map((h) => hostOf(String(h))));
  const metrics = new Metrics();
  // Each on its own: a record one of them cannot take must not keep it from the other.
  nebula.on('invocation:end', (r) => store.add(r));
  nebula.on('invocation:end', (r) => metrics.record(r));
  nebula.on('sample', (s) => store.addSample(s));
  const ctx: RouteContext = {
    nebula,
    store,
    metrics,
    jsonLimit: whole('jsonLimitBytes', options.jsonLimitBytes, 1, 1024 * 1024),
    uploadLimit: whole('uploadLimitBytes', options.uploadLimitBytes, 1, 8 * 1024 * 1024),
    startedAt: Date.now(),
  };
  const token = options.token ? digest(options.token) : undefined;
  // The response being answered on each socket, so a parser error does not write over it.
  const answering = new WeakMap<Socket, ServerResponse>();

  const server = createHttpServer(
    {
      requestTimeout,
      headersTimeout: Math.min(requestTimeout, 60_000),
      connectionsCheckingInterval: Math.max(100, Math.min(1000, requestTimeout / 4)),
    },
    (req, res) => {
      answering.set(req.socket, res);
      void (async () => {
        try {
          const host = req.headers.host;
          if (!token && host !== undefined && !isLoopbackName(hostOf(host)) && !allowed.has(hostOf(host)))
            throw new HttpError(
              403,
              'FORBIDDEN_HOST',
              `This server answers Host "${hostOf(host)}" only with a token or when it is listed in allowedHosts.`,
            );
          let url: URL;
          try {
            url = new URL(req.url ?? '/', 'http://localhost');
          } catch {
            throw new HttpError(400, 'INVALID_ARGUMENT', 'The request target is not a valid URL path.');
          }
          const m = match(req.method ?? 'GET', url.pathname);
          if ('allowed' in m) {
            if (m.allowed.length)
              throw new HttpError(
                405,
                'METHOD_NOT_ALLOWED',
                `${req.method} is not allowed here; use ${m.allowed.join(' or ')}.`,
              );
            throw new HttpError(404, 'NOT_FOUND', `No route ${url.pathname}. See docs/server.md for the API.`);
          }
          if (token && !m.open) {
            const given = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
            if (!given || !timingSafeEqual(digest(given), token))
              throw new HttpError(401, 'UNAUTHORIZED', 'This server needs "Authorization: Bearer <token>".');
          }
          await m.handler(req, res, ctx, m.params, url);
        } catch (e) {
          if (e instanceof HttpError && e.status === 413) res.setHeader('connection', 'close');
          sendError(res, e);
          if (e instanceof HttpError && e.status === 413) res.on('finish', () => req.destroy());
        }
      })();
    },
  );
  server.on('clientError', (e: NodeJS.ErrnoException, socket: Socket) =>
    answerClientError(e, socket, answering.get(socket), requestTimeout),
  );

  return {
    server,
    async listen(port = 3090, host = '127.0.0.1') {
      if (!LOOPBACK.has(host) && !options.token && !options.allowPublic)
        throw new UsageError(
          'INVALID_ARGUMENT',
          `Refusing to listen on ${host} without a token: set a token (--token) or allowPublic.`,
        );
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => resolve());
      });
      const actual = (server.address() as AddressInfo).port;
      return { url: `http://${host.includes(':') ? `[${host}]` : host}:${actual}`, port: actual };
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
