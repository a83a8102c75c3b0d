import { connect } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Nebula, type FunctionInfo, type InvocationRecord } from '../../src/index.js';
import { createServer, type NebulaServer } from '../../src/server/index.js';
import { functionsDir } from '../../src/paths.js';

let nebula: Nebula;
let api: NebulaServer;
let base: string;

beforeAll(async () => {
  nebula = new Nebula();
  api = createServer(nebula, { jsonLimitBytes: 64 * 1024, uploadLimitBytes: 1024 * 1024, requestTimeoutMs: 1000 });
  base = (await api.listen(0)).url;
});
afterAll(async () => {
  await api.close();
  await nebula.close();
});

const post = (path: string, body: unknown, type = 'application/json') =>
  fetch(base + path, {
    method: 'POST',
    headers: { 'content-type': type },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

describe('REST API over real HTTP', () => {
  it('invokes through /invoke, answering the record; the prototype route /invoke_function is gone', async () => {
    const a = await post('/invoke', { function: 'fib', input: 20 });
    expect(a.status).toBe(200);
    const rec = (await a.json()) as InvocationRecord;
    expect(rec).toMatchObject({ function: 'fib', runtime: 'wasm', ok: true, result: 6765 });
    const b = await post('/invoke', { function: 'factorial', input: 5, mode: 'prewarmed' });
    expect(((await b.json()) as InvocationRecord).result).toBe('120');
    const old = await post('/invoke_function', { function: 'factorial', input: 5 });
    expect(old.status).toBe(404);
    expect(((await old.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
  });

  it('answers a failing function with 200 and ok: false', async () => {
    const r = await post('/invoke', { function: 'fib', input: 'x' });
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ ok: false, error: { code: 'FUNCTION_FAILED', exitCode: 2 } });
  });

  it.each([
    ['malformed JSON', () => post('/invoke', '{"function": "fib",'), 400, 'INVALID_JSON'],
    ['a missing function field', () => post('/invoke', { input: 1 }), 400, 'INVALID_ARGUMENT'],
    ['a bad runtime', () => post('/invoke', { function: 'fib', runtime: 'lambda' }), 400, 'INVALID_ARGUMENT'],
    ['a bad timeout', () => post('/invoke', { function: 'fib', timeoutMs: -5 }), 400, 'INVALID_ARGUMENT'],
    ['an unknown function', () => post('/invoke', { function: 'nope', input: 1 }), 404, 'FUNCTION_NOT_FOUND'],
    [
      'the wrong content type',
      () => post('/invoke', 'function=fib', 'application/x-www-form-urlencoded'),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    ],
    ['an array body', () => post('/invoke', [1, 2]), 400, 'INVALID_ARGUMENT'],
    ['an unknown route', () => fetch(base + '/nothing'), 404, 'NOT_FOUND'],
    ['a wrong method', () => fetch(base + '/invoke'), 405, 'METHOD_NOT_ALLOWED'],
    ['an unknown result', () => fetch(base + '/results/zzz'), 404, 'RESULT_NOT_FOUND'],
    ['a bad limit', () => fetch(base + '/results?limit=0'), 400, 'INVALID_ARGUMENT'],
    [
      'a large input within the limits (a function failure, not an HTTP error)',
      () => post('/invoke', { function: 'fib', input: 'x'.repeat(60_000) }),
      200,
      null,
    ],
  ])('answers %s with the right status and code', async (_what, call, status, code) => {
    const r = await call();
    expect(r.status).toBe(status);
    const body = (await r.json()) as { error?: { code: string; message: string } };
    if (code) {
      expect(body.error?.code).toBe(code);
      expect(body.error?.message.length).toBeGreaterThan(5);
    }
  });

  it('refuses an oversized body with 413 without reading it all', async () => {
    const r = await post('/invoke', JSON.stringify({ function: 'fib', input: 'y'.repeat(200_000) }));
    expect(r.status).toBe(413);
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('pages /results newest first with filters, and finds each by id', async () => {
    for (const n of [1, 2, 3]) await post('/invoke', { function: 'prime', input: n });
    const page1 = (await (await fetch(base + '/results?function=prime&limit=2')).json()) as {
      results: InvocationRecord[];
      nextCursor: string;
    };
    expect(page1.results.map((r) => r.input)).toEqual([3, 2]);
    expect(page1.nextCursor).toBeTruthy();
    const page2 = (await (await fetch(`${base}/results?function=prime&limit=2&cursor=${page1.nextCursor}`)).json()) as {
      results: InvocationRecord[];
      nextCursor: string | null;
    };
    expect(page2.results.map((r) => r.input)).toEqual([1]);
    expect(page2.nextCursor).toBeNull();
    const one = await fetch(`${base}/results/${page1.results[0]!.id}`);
    expect(((await one.json()) as InvocationRecord).result).toBe(5);
    const none = (await (await fetch(base + '/results?runtime=docker&function=prime')).json()) as {
      results: unknown[];
    };
    expect(none.results).toEqual([]);
  });

  it('deploys a wasm upload, lists it, invokes it, and deletes it', async () => {
    const wasm = readFileSync(join(functionsDir(), 'wasm', 'core', 'fib.wasm'));
    const d = await fetch(base + '/functions?name=myfib', {
      method: 'POST',
      headers: { 'content-type': 'application/wasm' },
      body: wasm,
    });
    expect(d.status).toBe(201);
    const list = (await (await fetch(base + '/functions')).json()) as { functions: Array<{ name: string }> };
    expect(list.functions.map((f) => f.name)).toContain('myfib');
    expect(((await (await post('/invoke', { function: 'myfib', input: 10 })).json()) as InvocationRecord).result).toBe(
      55,
    );
    expect((await fetch(base + '/functions/myfib', { method: 'DELETE' })).status).toBe(204);
    expect((await fetch(base + '/functions/myfib', { method: 'DELETE' })).status).toBe(404);
    const bad = await fetch(base + '/functions?name=junk', {
      method: 'POST',
      headers: { 'content-type': 'application/wasm' },
      body: 'not wasm',
    });
    expect(bad.status).toBe(422);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('INVALID_FUNCTION');
    const noName = await fetch(base + '/functions', {
      method: 'POST',
      headers: { 'content-type': 'application/wasm' },
      body: wasm,
    });
    expect(noName.status).toBe(400);
    const noImage = await post('/functions', { name: 'x', docker: {} });
    expect(noImage.status).toBe(400);
  });

  it('takes preinit and initFunc with a wasm upload', async () => {
    const wasm = readFileSync(join(functionsDir(), 'wasm', 'core', 'primecount.wasm'));
    const upload = (query: string) =>
      fetch(`${base}/functions?name=mycount${query}`, {
        method: 'POST',
        headers: { 'content-type': 'application/wasm' },
        body: wasm,
      });
    const plain = await upload('&preinit=false');
    expect(plain.status).toBe(201);
    expect(((await plain.json()) as FunctionInfo).artifacts.wasm).toMatchObject({ preinitialized: false });
    const unknown = await upload('&preinit=true&initFunc=setup');
    expect(unknown.status).toBe(422);
    expect(((await unknown.json()) as { error: { message: string } }).error.message).toContain(
      'exports no function named "setup"',
    );
    const bad = await upload('&preinit=maybe');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('INVALID_ARGUMENT');
    expect((await fetch(base + '/functions/mycount', { method: 'DELETE' })).status).toBe(204);
  });

  it('answers many invocations at once correctly', async () => {
    const inputs = Array.from({ length: 20 }, (_, i) => i + 1);
    const recs = await Promise.all(
      inputs.map(
        async (n) => (await (await post('/invoke', { function: 'fib', input: n })).json()) as InvocationRecord,
      ),
    );
    const fib = (n: number): number => (n < 2 ? n : fib(n - 1) + fib(n - 2));
    expect(recs.map((r) => r.result)).toEqual(inputs.map(fib));
  });

  it('serves health and Prometheus metrics whose counters go up', async () => {
    expect(await (await fetch(base + '/healthz')).json()).toMatchObject({ status: 'ok' });
    const count = async () => {
      const text = await (await fetch(base + '/metrics')).text();
      expect(text).toContain('# TYPE nebula_invocations_total counter');
      expect(text).toContain('# TYPE nebula_startup_seconds histogram');
      const m = /nebula_invocations_total\{function="hash",runtime="wasm",outcome="ok"\} (\d+)/.exec(text);
      return m ? Number(m[1]) : 0;
    };
    const before = await count();
    await post('/invoke', { function: 'hash', input: 1 });
    expect(await count()).toBe(before + 1);
  });

  it('answers a stalled body with 408 REQUEST_TIMEOUT, and keeps serving', async () => {
    const port = Number(new URL(base).port);
    const answer = await new Promise<string>((resolve) => {
      const s = connect(port, '127.0.0.1', () =>
        s.write(
          'POST /invoke HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"fun',
        ),
      );
      let data = '';
      s.on('data', (b: Buffer) => (data += b.toString()));
      s.on('close', () => resolve(data));
      s.on('error', () => undefined);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toMatchObject({
      error: { code: 'REQUEST_TIMEOUT' },
    });
    expect((await fetch(base + '/healthz')).status).toBe(200);
  });
});

describe('REST API with a token', () => {
  it('requires the bearer token, except for the page and /healthz, and refuses public hosts without one', async () => {
    const n = new Nebula();
    const s = createServer(n, { token: 's3cret' });
    const url = (await s.listen(0)).url;
    expect((await fetch(url + '/functions')).status).toBe(401);
    expect((await fetch(url + '/functions', { headers: { authorization: 'Bearer nope' } })).status).toBe(401);
    expect((await fetch(url + '/functions', { headers: { authorization: 'Bearer s3cret' } })).status).toBe(200);
    expect((await fetch(url + '/healthz')).status).toBe(200);
    expect((await fetch(url + '/')).status).toBe(200);
    await s.close();
    await expect(createServer(n).listen(0, '0.0.0.0')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await n.close();
  });
});
