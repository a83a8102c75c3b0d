// Memory of the server's results history: 500 invocations with 1 MB inputs through POST /invoke,
// with the default byte bound (historyBytes, 64 MiB), with the byte bound lifted (the count bound
// of 10 000 alone, as before), and keeping one record (the floor: what the invocations cost
// without a history), each in its own process, side by side.
// Run: npm run build && node --expose-gc bench/server-history-memory.mjs
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const N = 500;
const MiB = 1024 * 1024;

async function child(mode) {
  const { Nebula } = await import('nebula-faas');
  const { createServer } = await import('nebula-faas/server');
  const nebula = new Nebula();
  const options = { bytes: {}, 'count-only': { historyBytes: Number.MAX_SAFE_INTEGER }, floor: { historySize: 1 } }[
    mode
  ];
  const api = createServer(nebula, options);
  const { url } = await api.listen(0);
  await fetch(url + '/invoke', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"function":"fib","input":1}',
  });
  const measure = () => {
    global.gc();
    global.gc();
    const m = process.memoryUsage();
    return { rss: m.rss / MiB, heap: (m.heapUsed + m.external + m.arrayBuffers) / MiB };
  };
  const before = measure();
  for (let i = 0; i < N; i++) {
    const body = JSON.stringify({ function: 'fib', input: `${i}:`.padEnd(1_000_000, 'x') });
    const r = await fetch(url + '/invoke', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    await r.arrayBuffer();
  }
  const after = measure();
  const kept = (await (await fetch(url + '/results?limit=1000')).json()).results.length;
  await api.close();
  await nebula.close();
  process.send({ before, after, kept });
}

if (process.argv[2]) await child(process.argv[2]);
else {
  const run = (mode) =>
    new Promise((resolve, reject) => {
      const c = fork(fileURLToPath(import.meta.url), [mode], { execArgv: ['--expose-gc'] });
      c.on('message', resolve);
      c.on('exit', (code) => code && reject(new Error(`${mode} exited ${code}`)));
    });
  const rows = [];
  for (const mode of ['bytes', 'count-only', 'floor']) rows.push([mode, await run(mode)]);
  console.log(`${N} invocations with 1 MB inputs through POST /invoke (memory after GC, MiB)`);
  for (const [mode, r] of rows)
    console.log(
      `${mode.padEnd(11)} rss ${r.before.rss.toFixed(0)} -> ${r.after.rss.toFixed(0)}   heap+external ${r.before.heap.toFixed(0)} -> ${r.after.heap.toFixed(0)}   records kept ${r.kept}`,
    );
  const growth = (r) => r.after.heap - r.before.heap - (rows[2][1].after.heap - rows[2][1].before.heap);
  console.log(
    `heap growth over the floor, MiB: byte bound ${growth(rows[0][1]).toFixed(0)}, count only ${growth(rows[1][1]).toFixed(0)}; ratio ${(growth(rows[0][1]) / growth(rows[1][1])).toFixed(3)}`,
  );
}
