import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Nebula, type InvocationRecord } from '../../src/index.js';
import { createServer, type NebulaServer } from '../../src/server/index.js';
import { functionsDir } from '../../src/paths.js';

let nebula: Nebula;
let api: NebulaServer;
let base: string;

beforeAll(async () => {
  nebula = new Nebula({ meter: null });
  api = createServer(nebula);
  base = (await api.listen(0)).url;
});
afterAll(async () => {
  await api.close();
  await nebula.close();
});

const post = (path: string, body: unknown) =>
  fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const code = async (r: Response) => ((await r.json()) as { error?: { code: string; message: string } }).error;

describe('the server with names from outside', () => {
  it('deploys, invokes, lists, filters and deletes a function named constructor', async () => {
    const wasm = readFileSync(join(functionsDir(), 'wasm', 'core', 'fib.wasm'));
    const d = await fetch(base + '/functions?name=constructor', {
      method: 'POST',
      headers: { 'content-type': 'application/wasm' },
      body: wasm,
    });
    expect(d.status).toBe(201);
    const rec = (await (await post('/invoke', { function: 'constructor', input: 10 })).json()) as InvocationRecord;
    expect(rec).toMatchObject({ function: 'constructor', ok: true, result: 55 });
    const listed = (await (await fetch(base + '/results?function=constructor')).json()) as {
      results: InvocationRecord[];
    };
    expect(listed.results.map((r) => r.id)).toEqual([rec.id]);
    expect(await (await fetch(base + '/metrics')).text()).toMatch(
      /function="constructor",runtime="wasm",outcome="ok"\} 1/,
    );
    expect((await fetch(base + '/functions/constructor', { method: 'DELETE' })).status).toBe(204);
  });

  it.each(['__proto__', 'toString', 'hasOwnProperty', 'constructor'])(
    'answers 404 for an undeployed function named %s, and 400 when deploying one with an invalid name',
    async (name) => {
      const r = await post('/invoke', { function: name, input: 1 });
      expect(r.status).toBe(404);
      expect((await code(r))?.code).toBe('FUNCTION_NOT_FOUND');
      expect((await fetch(`${base}/functions/${name}`, { method: 'DELETE' })).status).toBe(404);
      if (name === 'constructor') return;
      const d = await post('/functions', { name, docker: { image: 'nebula-faas/none:latest' } });
      expect(d.status).toBe(400);
      expect((await code(d))?.code).toBe('INVALID_ARGUMENT');
    },
  );

  it.each([
    [
      'POST /invoke with "timeout"',
      () => post('/invoke', { function: 'fib', input: 5, timeout: 100 }),
      /^The body: unknown key "timeout" \(did you mean "timeoutMs"\?\); known: function, input, runtime, mode, timeoutMs\.$/,
    ],
    [
      'POST /invoke with "inputs"',
      () => post('/invoke', { function: 'fib', inputs: 5 }),
      /unknown key "inputs" \(did you mean "input"\?\)/,
    ],
    [
      'POST /invoke with "__proto__"',
      () =>
        fetch(base + '/invoke', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"function": "fib", "__proto__": {"mode": "warm"}}',
        }),
      /unknown key "__proto__"/,
    ],
    [
      'POST /functions with "image" at the top',
      () => post('/functions', { name: 'mine', image: 'x:1' }),
      /unknown key "image"/,
    ],
    [
      'POST /functions with a docker "tag"',
      () => post('/functions', { name: 'mine', docker: { image: 'x', tag: '1' } }),
      /^Field docker\.tag is not a known field/,
    ],
    [
      'GET /results?limt=5',
      () => fetch(base + '/results?limt=5'),
      /^The query: unknown key "limt" \(did you mean "limit"\?\)/,
    ],
    ['GET /samples?from=0', () => fetch(base + '/samples?from=0'), /^The query: unknown key "from"; known: since\.$/],
    [
      'a wasm upload with ?nam=',
      () =>
        fetch(base + '/functions?nam=x', {
          method: 'POST',
          headers: { 'content-type': 'application/wasm' },
          body: 'x',
        }),
      /did you mean "name"/,
    ],
  ] as const)(
    'answers %s with 400 naming the nearest field, as docs/server.md promises',
    async (_what, call, message) => {
      const r = await call();
      expect(r.status).toBe(400);
      const error = await code(r);
      expect(error?.code).toBe('INVALID_ARGUMENT');
      expect(error?.message).toMatch(message);
    },
  );
});
