// Soak of the Docker runtime: 300 invocations of a misbehaving function (crashes, fork bombs,
// output floods, 1 GiB allocations, timeouts, aborts, and correct runs) in cold, prewarmed and
// warm mode, 4 at a time; then it prints lost records, wrong results, leftover containers and
// the growth of this process's memory.
// Run: npm run build && node --expose-gc bench/soak-docker.mjs [N]   (needs a Docker engine and musl-gcc)
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DockerRuntime, Nebula } from 'nebula-faas';

const N = Number(process.argv[2] ?? 300);
const CONCURRENCY = 4;
const binary = join(mkdtempSync(join(tmpdir(), 'nebula-soak-')), 'chaos');
execFileSync('musl-gcc', ['-static', '-O2', new URL('programs/chaos.c', import.meta.url).pathname, '-o', binary]);

// What each kind must give: a result check, or an error code.
const KINDS = {
  ok: { expect: (r) => r.ok && r.result === 6765 },
  crash: { expect: (r) => r.error?.code === 'FUNCTION_FAILED' && r.error.exitCode === 139 },
  forkbomb: { timeoutMs: 1500, expect: (r) => r.error?.code === 'TIMEOUT' },
  flood: { expect: (r) => r.error?.code === 'OUTPUT_LIMIT' },
  alloc: { expect: (r) => r.error?.code === 'MEMORY_LIMIT' },
  hang: { timeoutMs: 1000, expect: (r) => r.error?.code === 'TIMEOUT' },
  abort: { input: 'hang', abortMs: true, expect: (r) => r.error?.code === 'ABORTED' },
};
const MODES = ['cold', 'prewarmed', 'warm'];
let seed = 7;
const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
const pick = (xs) => xs[Math.floor(random() * xs.length)];

const runtime = new DockerRuntime();
const nebula = new Nebula({ builtins: false, runtimes: { docker: runtime } });
await nebula.deploy({ name: 'chaos', docker: { binary } });
let ended = 0;
nebula.on('invocation:end', () => ended++);
for (const mode of MODES) await nebula.invoke('chaos', 'ok', { mode });
globalThis.gc?.();
const { rss: rssBefore, heapUsed: heapBefore } = process.memoryUsage();

const plan = Array.from({ length: N }, () => ({
  kind: pick(Object.keys(KINDS)),
  mode: pick(MODES),
  abortMs: Math.floor(random() * 200),
}));
const wrong = [];
let lost = 0;
const counts = {};
const t0 = Date.now();
let next = 0;
async function worker() {
  while (next < plan.length) {
    const { kind, mode, abortMs } = plan[next++];
    const k = KINDS[kind];
    const ac = new AbortController();
    if (k.abortMs) setTimeout(() => ac.abort(), abortMs);
    const guard = new Promise((r) => setTimeout(() => r('lost'), (k.timeoutMs ?? 30_000) + 15_000).unref());
    const rec = await Promise.race([
      nebula.invoke('chaos', k.input ?? kind, { mode, timeoutMs: k.timeoutMs ?? 30_000, signal: ac.signal }),
      guard,
    ]);
    if (rec === 'lost') {
      lost++;
      continue;
    }
    const key = `${kind}/${mode}`;
    counts[key] = (counts[key] ?? 0) + 1;
    if (!k.expect(rec))
      wrong.push({
        kind,
        mode,
        ok: rec.ok,
        result: String(rec.result).slice(0, 40),
        error: rec.error?.code,
        message: rec.error?.message?.slice(0, 120),
      });
  }
}
await Promise.all(Array.from({ length: CONCURRENCY }, worker));
const seconds = (Date.now() - t0) / 1000;
await nebula.close();
globalThis.gc?.();
const { rss: rssAfter, heapUsed: heapAfter } = process.memoryUsage();
const left = execFileSync('docker', ['ps', '-aq', '--filter', `label=nebula-faas.runtime=${runtime.instanceId}`], {
  encoding: 'utf8',
})
  .split('\n')
  .filter(Boolean);

console.log(`${N} invocations in ${seconds.toFixed(0)} s, ${CONCURRENCY} at a time (kind/mode: count)`);
console.log(
  Object.entries(counts)
    .sort()
    .map(([k, v]) => `${k}: ${v}`)
    .join(', '),
);
console.log(`lost records (never settled, or no invocation:end event): ${lost + (N + MODES.length - lost - ended)}`);
console.log(`wrong results: ${wrong.length}`);
for (const w of wrong.slice(0, 20)) console.log('  ', JSON.stringify(w));
console.log(`leftover containers after close: ${left.length}`);
const mib = (b) => `${(b / 2 ** 20).toFixed(1)} MiB`;
const growth = (a, b) => `${(((b - a) / a) * 100).toFixed(1)}%`;
console.log(
  `RSS: ${mib(rssBefore)} before, ${mib(rssAfter)} after (${growth(rssBefore, rssAfter)}); JS heap used: ${mib(heapBefore)} before, ${mib(heapAfter)} after (${growth(heapBefore, heapAfter)})${globalThis.gc ? '' : ' (run with --expose-gc for steadier figures)'}`,
);
process.exitCode = lost || wrong.length || left.length ? 1 : 0;
