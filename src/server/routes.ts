/** The REST API's routes: invoke, results, functions, health, metrics, samples, the page. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Nebula } from '../nebula.js';
import { checkSchema } from '../json-schema.js';
import { isRuntimeKind, runtimeDescriptors, runtimeKinds } from '../runtimes/registry.js';
import { INVOCATION_MODES, type FunctionSpec, type InvocationMode } from '../types.js';
import { unknownKey } from '../known-keys.js';
import { HttpError, invalid, readBody, readJson, send, sendJsonText } from './http.js';
import type { Metrics } from './metrics.js';
import { page } from './page.js';
import type { ResultsStore } from './results-store.js';

export interface RouteContext {
  nebula: Nebula;
  store: ResultsStore;
  metrics: Metrics;
  jsonLimit: number;
  uploadLimit: number;
  startedAt: number;
}

type Handler = (
  req: IncomingMessage,
  res: ServerResponse,
  ctx: RouteContext,
  params: string[],
  url: URL,
) => Promise<void> | void;

/** The fields each JSON body and query takes: any other is 400 naming the nearest (docs/server.md). */
const INVOKE_FIELDS = ['function', 'input', 'runtime', 'mode', 'timeoutMs'] as const;
/** @throws HttpError 400 `INVALID_ARGUMENT` for a field (or query parameter) that is not `known`. */
function knownFields(value: unknown, known: readonly string[], what: string): void {
  const problem = unknownKey(value, known);
  if (problem) throw new HttpError(400, 'INVALID_ARGUMENT', `${what}: ${problem}.`);
}

/** The query's parameter names as an object's keys, for {@link knownFields}. */
const queryKeys = (url: URL) => Object.fromEntries([...url.searchParams.keys()].map((k) => [k, true]));

async function invoke(req: IncomingMessage, res: ServerResponse, ctx: RouteContext): Promise<void> {
  const body = await readJson(req, ctx.jsonLimit);
  knownFields(body, INVOKE_FIELDS, 'The body');
  const fn = body.function;
  if (typeof fn !== 'string' || !fn) throw invalid('function', 'must be the name of a deployed function');
  // Which runtimes and modes exist is Nebula's to say (it answers INVALID_ARGUMENT naming them).
  const runtime = body.runtime;
  if (runtime !== undefined && !isRuntimeKind(runtime))
    throw invalid('runtime', `must be one of ${runtimeKinds().join(', ')}`);
  const mode = body.mode;
  if (mode !== undefined && !INVOCATION_MODES.includes(mode as InvocationMode))
    throw invalid('mode', `must be one of ${INVOCATION_MODES.join(', ')}`);
  const timeoutMs = body.timeoutMs;
  if (timeoutMs !== undefined && (typeof timeoutMs !== 'number' || !(timeoutMs > 0) || timeoutMs > 600_000))
    throw invalid('timeoutMs', 'must be a number of milliseconds from 1 to 600000');
  const ac = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) ac.abort();
  });
  const rec = await ctx.nebula.invoke(fn, body.input ?? null, {
    ...(runtime ? { runtime } : {}),
    ...(mode ? { mode: mode as InvocationMode } : {}),
    ...(typeof timeoutMs === 'number' ? { timeoutMs } : {}),
    signal: ac.signal,
  });
  let text: string;
  try {
    text = JSON.stringify(rec);
  } catch (e) {
    throw new HttpError(
      500,
      'INTERNAL',
      `The record of invocation ${rec.id} could not be serialised as JSON (${(e as Error).message}); it is kept, and GET /results lists it under "omitted".`,
    );
  }
  sendJsonText(res, 200, text);
}

function results(_req: IncomingMessage, res: ServerResponse, ctx: RouteContext, _p: string[], url: URL): void {
  knownFields(queryKeys(url), ['limit', 'runtime', 'function', 'cursor'], 'The query');
  const limitText = url.searchParams.get('limit') ?? '50';
  const limit = Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
    throw invalid('limit', 'must be a whole number from 1 to 1000');
  const runtime = url.searchParams.get('runtime') ?? undefined;
  if (runtime && !isRuntimeKind(runtime)) throw invalid('runtime', `must be one of ${runtimeKinds().join(', ')}`);
  const q = { limit, ...(runtime ? { runtime } : {}) } as Parameters<ResultsStore['query']>[0];
  const fn = url.searchParams.get('function');
  if (fn) q.function = fn;
  const cursor = url.searchParams.get('cursor');
  if (cursor) q.cursor = cursor;
  sendJsonText(res, 200, ctx.store.query(q));
}

function result(_req: IncomingMessage, res: ServerResponse, ctx: RouteContext, [id]: string[]): void {
  const r = ctx.store.get(id!);
  if (!r)
    throw new HttpError(404, 'RESULT_NOT_FOUND', `No result with id "${id}" (the server keeps the most recent ones).`);
  if ('failure' in r)
    throw new HttpError(
      500,
      'INTERNAL',
      `The result "${id}" could not be serialised as JSON (${r.failure}); the other results are served.`,
    );
  sendJsonText(res, 200, r.json);
}

/** The ways `POST /functions` takes a function, from the registry, for messages. */
function deployForms(): string {
  const forms = runtimeDescriptors().flatMap(({ kind, source }) => [
    ...(source.upload ? [`${source.upload.contentTypes[0]} (the ${kind} artifact as the body, ?name=)`] : []),
    ...(source.remote ? [`application/json ({ name, ${kind} })`] : []),
  ]);
  return forms.join(', or ');
}

/**
 * `POST /functions`: a body that is the artifact itself (a content type some runtime uploads,
 * e.g. application/wasm, with `?name=`), or JSON `{ name, description?, [kind]: source }` with the
 * sources runtimes take from a remote client (never a path on this machine).
 */
async function deploy(
  req: IncomingMessage,
  res: ServerResponse,
  ctx: RouteContext,
  _p: string[],
  url: URL,
): Promise<void> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  const uploader = runtimeDescriptors().find((d) => d.source.upload?.contentTypes.includes(type));
  let spec: FunctionSpec;
  if (uploader) {
    knownFields(queryKeys(url), ['name', 'preinit', 'initFunc'], 'The query');
    const name = url.searchParams.get('name');
    if (!name) throw invalid('name', `is required as a query parameter (?name=) with a ${type} upload`);
    const bytes = await readBody(req, ctx.uploadLimit);
    if (bytes.length === 0) throw invalid('body', `must hold the function's ${uploader.label} artifact`);
    spec = { name, [uploader.kind]: uploader.source.upload!.source(new Uint8Array(bytes)) };
    const preinit = url.searchParams.get('preinit');
    if (preinit !== null) {
      const values: Record<string, FunctionSpec['preinit']> = { auto: 'auto', true: true, false: false };
      if (!Object.hasOwn(values, preinit)) throw invalid('preinit', 'must be auto, true or false');
      spec.preinit = values[preinit];
    }
    const initFunc = url.searchParams.get('initFunc');
    if (initFunc) spec.initFunc = initFunc;
  } else if (type === 'application/json') {
    const body = await readJson(req, ctx.jsonLimit);
    const remoteKinds = runtimeDescriptors()
      .filter((d) => d.source.remote)
      .map((d) => d.kind);
    knownFields(body, ['name', 'description', ...remoteKinds], 'The body');
    if (typeof body.name !== 'string') throw invalid('name', 'must be a string');
    const fields: Record<string, unknown> = { name: body.name };
    if (typeof body.description === 'string') fields.description = body.description;
    for (const [key, value] of Object.entries(body)) {
      if (key === 'name' || key === 'description') continue;
      const remote = runtimeDescriptors().find((d) => d.kind === key)?.source.remote;
      if (!remote) throw invalid(key, `is not a source a JSON deploy takes: deploy with ${deployForms()}`);
      const problem = checkSchema(value, remote, key);
      if (problem) throw new HttpError(400, 'INVALID_ARGUMENT', `Field ${problem}.`);
      fields[key] = value;
    }
    spec = fields as unknown as FunctionSpec;
  } else {
    throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', `Deploy with ${deployForms()}; got "${type || 'none'}".`);
  }
  const [info] = await ctx.nebula.deploy(spec);
  send(res, 201, info);
}

async function undeploy(
  _req: IncomingMessage,
  res: ServerResponse,
  ctx: RouteContext,
  [name]: string[],
): Promise<void> {
  if (!(await ctx.nebula.undeploy(name!)))
    throw new HttpError(404, 'FUNCTION_NOT_FOUND', `No function named "${name}" is deployed.`);
  res.writeHead(204).end();
}

function samples(_req: IncomingMessage, res: ServerResponse, ctx: RouteContext, _p: string[], url: URL): void {
  knownFields(queryKeys(url), ['since'], 'The query');
  const since = Number(url.searchParams.get('since') ?? 0);
  if (!Number.isFinite(since)) throw invalid('since', 'must be epoch milliseconds');
  const meter = ctx.nebula.meter;
  send(res, 200, {
    meter: meter ? { name: meter.name, estimate: meter.estimate, intervalMs: meter.intervalMs } : null,
    baseline: ctx.nebula.baseline,
    samples: ctx.store.samplesSince(since),
  });
}

/** Method, path pattern (segments; `:x` captures), handler, and whether it is open without a token. */
const ROUTES: Array<[string, string, Handler, boolean?]> = [
  [
    'GET',
    '/',
    (_q, res) =>
      send(res, 200, page(), {
        'content-type': 'text/html; charset=utf-8',
        'content-security-policy': "default-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'",
      }),
    true,
  ],
  [
    'GET',
    '/healthz',
    (_q, res, ctx) => send(res, 200, { status: 'ok', uptimeS: (Date.now() - ctx.startedAt) / 1000 }),
    true,
  ],
  [
    'GET',
    '/metrics',
    (_q, res, ctx) =>
      send(res, 200, ctx.metrics.render(ctx.store.lastSample, ctx.nebula.meter?.name), {
        'content-type': 'text/plain; version=0.0.4; charset=utf-8',
      }),
  ],
  ['POST', '/invoke', invoke],
  ['GET', '/results', results],
  ['GET', '/results/:id', result],
  ['GET', '/functions', async (_q, res, ctx) => send(res, 200, { functions: await ctx.nebula.functions() })],
  ['POST', '/functions', deploy],
  ['DELETE', '/functions/:name', undeploy],
  ['GET', '/samples', samples],
];

/** A path segment, percent-decoded. @throws HttpError 400 `INVALID_ARGUMENT` for a malformed escape such as `%` or `%zz`. */
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpError(400, 'INVALID_ARGUMENT', `The path segment "${segment}" has a malformed percent-encoding.`);
  }
}

/** Finds the route for a request: the handler and its captures, or the methods the path allows. */
export function match(
  method: string,
  path: string,
): { handler: Handler; params: string[]; open: boolean } | { allowed: string[] } {
  const parts = path.split('/').filter(Boolean);
  const allowed: string[] = [];
  for (const [m, pattern, handler, open] of ROUTES) {
    const want = pattern.split('/').filter(Boolean);
    if (want.length !== parts.length) continue;
    if (!want.every((w, i) => w.startsWith(':') || w === parts[i])) continue;
    const params = want.flatMap((w, i) => (w.startsWith(':') ? [decodeSegment(parts[i]!)] : []));
    if (m === method || (m === 'GET' && method === 'HEAD')) return { handler, params, open: open === true };
    allowed.push(m);
  }
  return { allowed };
}
