/** The server against hostile or heavy use, over real HTTP: bad paths, foreign Host headers, big histories, records that cannot be serialised. */
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { Nebula, type InvocationRecord } from '../../src/index.js';
import { createServer, type NebulaServer, type ServerOptions } from '../../src/server/index.js';

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s();
});

async function serve(options: ServerOptions = {}) {
  const nebula = new Nebula();
  const api: NebulaServer = createServer(nebula, options);
  const { url, port } = await api.listen(0);
  stops.push(() => nebula.close());
  stops.push(() => api.close());
  return { nebula, url, port };
}

/** What these tests read from a JSON answer: an error, a record's result, a page of /results. */
interface Answer {
  error?: { code: string; message: string };
  result?: unknown;
  results?: InvocationRecord[];
  omitted?: Array<{ id: string; code: string; message: string }>;
  nextCursor?: string;
}

/** One request with any headers (fetch will not send a foreign Host); `json` is empty when the answer is not JSON. */
function raw(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<{ status: number; json: Answer }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers, setHost: !('host' in headers) }, (res) => {
      let text = '';
      res.on('data', (b) => (text += b));
      res.on('end', () =>
        resolve({
          status: res.statusCode!,
          json: res.headers['content-type']?.includes('json') ? (JSON.parse(text) as Answer) : {},
        }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('paths', () => {
  it.each(['/results/%', '/results/%zz', '/results/%E0%A4%A'])(
    'answers a malformed percent-encoding (%s) with 400 INVALID_ARGUMENT',
    async (path) => {
      const { port } = await serve();
      const r = await raw(port, 'GET', path);
      expect(r.status).toBe(400);
      expect(r.json.error).toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: expect.stringContaining('percent-encoding'),
      });
      expect((await raw(port, 'DELETE', '/functions/%')).status).toBe(400);
      expect((await raw(port, 'GET', '/healthz')).status).toBe(200);
    },
  );
});

describe('Host header', () => {
  it('without a token answers loopback host names only: 403 FORBIDDEN_HOST for any other', async () => {
    const { port } = await serve();
    for (const host of [
      'localhost',
      `localhost:${port}`,
      '127.0.0.1',
      `127.0.0.1:${port}`,
      '127.1.2.3',
      `[::1]:${port}`,
      'app.localhost',
      'LOCALHOST.',
    ])
      expect((await raw(port, 'GET', '/healthz', { host })).status, host).toBe(200);
    for (const host of [
      'evil.example',
      `evil.example:${port}`,
      '10.0.0.5',
      'localhost.evil.example',
      '127.0.0.1.evil.example',
    ]) {
      for (const [method, path] of [
        ['GET', '/healthz'],
        ['GET', '/results'],
        ['POST', '/invoke'],
      ] as const) {
        const r = await raw(
          port,
          method,
          path,
          { host, 'content-type': 'application/json' },
          method === 'POST' ? '{"function":"fib","input":5}' : undefined,
        );
        expect(r.status, `${host} ${path}`).toBe(403);
        expect(r.json.error).toMatchObject({ code: 'FORBIDDEN_HOST' });
      }
    }
  });

  it('answers the host names in allowedHosts, and any host when a token is set (the token guards it)', async () => {
    const listed = await serve({ allowedHosts: ['pi.local', '10.0.0.5'] });
    expect((await raw(listed.port, 'GET', '/healthz', { host: 'pi.local:3090' })).status).toBe(200);
    expect((await raw(listed.port, 'GET', '/healthz', { host: '10.0.0.5' })).status).toBe(200);
    expect((await raw(listed.port, 'GET', '/healthz', { host: 'evil.example' })).status).toBe(403);
    const tokened = await serve({ token: 's3cret' });
    expect((await raw(tokened.port, 'GET', '/functions', { host: 'evil.example' })).status).toBe(401);
    expect(
      (await raw(tokened.port, 'GET', '/functions', { host: 'evil.example', authorization: 'Bearer s3cret' })).status,
    ).toBe(200);
  });
});

describe('results history', () => {
  it('is bounded by bytes: old records go first, the newest stays, and what is kept fits the bound', async () => {
    const historyBytes = 600_000;
    const { port } = await serve({ historyBytes, jsonLimitBytes: 300_000 });
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      const r = await raw(
        port,
        'POST',
        '/invoke',
        { 'content-type': 'application/json' },
        JSON.stringify({ function: 'fib', input: `${i}`.padEnd(100_000, 'x') }),
      );
      expect(r.status).toBe(200);
      ids.push((r.json as InvocationRecord).id);
    }
    const page = (await raw(port, 'GET', '/results?limit=1000')).json as { results: InvocationRecord[] };
    const kept = page.results.map((r) => r.id);
    expect(kept[0]).toBe(ids.at(-1));
    expect(kept.length).toBeLessThan(10);
    expect(kept.length).toBeGreaterThanOrEqual(4);
    expect(page.results.reduce((a, r) => a + Buffer.byteLength(JSON.stringify(r)), 0)).toBeLessThanOrEqual(
      historyBytes,
    );
    expect((await raw(port, 'GET', `/results/${ids[0]}`)).status).toBe(404);
  });

  it('keeps the count bound too', async () => {
    const { port } = await serve({ historySize: 3 });
    for (let i = 1; i <= 5; i++)
      await raw(
        port,
        'POST',
        '/invoke',
        { 'content-type': 'application/json' },
        JSON.stringify({ function: 'fib', input: i }),
      );
    const page = (await raw(port, 'GET', '/results')).json as { results: InvocationRecord[] };
    expect(page.results.map((r) => r.input)).toEqual([5, 4, 3]);
  });

  it('a record that cannot be serialised is an error for that record only; the list and the others stay servable', async () => {
    const { nebula, port } = await serve();
    const before = (
      await raw(port, 'POST', '/invoke', { 'content-type': 'application/json' }, '{"function":"fib","input":10}')
    ).json as InvocationRecord;
    let deep: unknown = 1;
    for (let i = 0; i < 20_000; i++) deep = [deep];
    // A record as the core hands it on, with a result too deeply nested for JSON.stringify.
    nebula.emit('invocation:end', { ...before, id: 'deep-one', result: deep } as InvocationRecord);
    const after = (
      await raw(port, 'POST', '/invoke', { 'content-type': 'application/json' }, '{"function":"fib","input":11}')
    ).json as InvocationRecord;
    const list = await raw(port, 'GET', '/results');
    expect(list.status).toBe(200);
    expect(list.json.results!.map((r) => r.id)).toEqual([after.id, before.id]);
    expect(list.json.omitted).toEqual([
      { id: 'deep-one', code: 'INTERNAL', message: expect.stringContaining('could not be serialised') },
    ]);
    const one = await raw(port, 'GET', '/results/deep-one');
    expect(one.status).toBe(500);
    expect(one.json.error).toMatchObject({ code: 'INTERNAL', message: expect.stringContaining('"deep-one"') });
    expect((await raw(port, 'GET', `/results/${before.id}`)).json.result).toBe(55);
    const page = (await raw(port, 'GET', '/results?limit=1')).json;
    expect(page.results![0]!.id).toBe(after.id);
    const next = (await raw(port, 'GET', `/results?limit=1&cursor=${page.nextCursor!}`)).json;
    expect(next).toMatchObject({ results: [], omitted: [{ id: 'deep-one' }] });
    expect((await raw(port, 'GET', '/metrics')).status).toBe(200);
  });
});

describe('server options', () => {
  it.each<[string, ServerOptions]>([
    ['historyBytes -1', { historyBytes: -1 }],
    ['historySize 0', { historySize: 0 }],
    ['requestTimeoutMs NaN', { requestTimeoutMs: Number.NaN }],
    ['jsonLimitBytes 1.5', { jsonLimitBytes: 1.5 }],
  ])('refuses %s with INVALID_ARGUMENT', (_what, options) => {
    expect(() => createServer(new Nebula(), options)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});
