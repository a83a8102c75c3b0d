/**
 * The REST API and web page over a Nebula instance (node:http, no framework: eleven routes and
 * a body reader are fewer lines than adapting one).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { UsageError } from '../errors.js';
import type { Nebula } from '../nebula.js';
import { HttpError, sendError } from './http.js';
import { Metrics } from './metrics.js';
import { ResultsStore } from './results-store.js';
import { match, type RouteContext } from './routes.js';

/** Options of {@link createServer}. */
export interface ServerOptions {
  /** When set, every route but `/` and `/healthz` needs `Authorization: Bearer <token>`. */
  token?: string;
  /** Largest JSON body, bytes. Default 1 MiB. */
  jsonLimitBytes?: number;
  /** Largest wasm upload, bytes. Default 8 MiB. */
  uploadLimitBytes?: number;
  /** A request (headers and body) must arrive within this, ms. Default 30 000. */
  requestTimeoutMs?: number;
  /** Records kept for `/results`. Default 10 000. */
  historySize?: number;
  /** Allow listening on a non-loopback address without a token. Default false. */
  allowPublic?: boolean;
}

/** A running (or ready) API server. */
export interface NebulaServer {
  readonly server: Server;
  /** Starts listening; resolves with the URL. @throws UsageError for a public host without a token. */
  listen(port?: number, host?: string): Promise<{ url: string; port: number }>;
  /** Stops listening and closes connections (the Nebula instance stays open). */
  close(): Promise<void>;
}

const digest = (s: string) => createHash('sha256').update(s).digest();
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

/**
 * Serves a Nebula instance over HTTP: `POST /invoke`, `GET /results`, `GET|POST /functions`,
 * `DELETE /functions/:name`, `GET /healthz`, `GET /metrics` (Prometheus), `GET /samples` and the page at `/`.
 * @example
 * ```ts
 * const api = createServer(new Nebula(), { token: process.env.NEBULA_TOKEN });
 * const { url } = await api.listen(3090);
 * ```
 */
export function createServer(nebula: Nebula, options: ServerOptions = {}): NebulaServer {
  const store = new ResultsStore(options.historySize ?? 10_000);
  const metrics = new Metrics();
  nebula.on('invocation:end', (r) => {
    store.add(r);
    metrics.record(r);
  });
  nebula.on('sample', (s) => store.addSample(s));
  const ctx: RouteContext = {
    nebula,
    store,
    metrics,
    jsonLimit: options.jsonLimitBytes ?? 1024 * 1024,
    uploadLimit: options.uploadLimitBytes ?? 8 * 1024 * 1024,
    startedAt: Date.now(),
  };
  const token = options.token ? digest(options.token) : undefined;
  const requestTimeout = options.requestTimeoutMs ?? 30_000;

  const server = createHttpServer(
    { requestTimeout, headersTimeout: Math.min(requestTimeout, 60_000), connectionsCheckingInterval: Math.max(100, Math.min(1000, requestTimeout / 4)) },
    (req, res) => {
      void (async () => {
        try {
          const url = new URL(req.url ?? '/', 'http://localhost');
          const m = match(req.method ?? 'GET', url.pathname);
          if ('allowed' in m) {
            if (m.allowed.length) throw new HttpError(405, 'METHOD_NOT_ALLOWED', `${req.method} is not allowed here; use ${m.allowed.join(' or ')}.`);
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
  server.on('clientError', (_e, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    else socket.destroy();
  });

  return {
    server,
    async listen(port = 3090, host = '127.0.0.1') {
      if (!LOOPBACK.has(host) && !options.token && !options.allowPublic)
        throw new UsageError('INVALID_ARGUMENT', `Refusing to listen on ${host} without a token: set a token (--token) or allowPublic.`);
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

