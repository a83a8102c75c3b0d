// Soak of the Docker runtime, in two parts, 4 invocations at a time:
// 1. misbehaving functions: N invocations (crashes, fork bombs, output floods, 1 GiB allocations,
//    timeouts, aborts, and correct runs) in cold, prewarmed and warm mode;
// 2. warm reuse against a hostile function: M warm invocations, each either leaving something in
//    its kept container (files of every kind, name, depth and permission in /dev/shm and an image
//    VOLUME, 3000-level trees, thousands of files, IPC objects, lock holders, TCP connections in
//    TIME_WAIT, changed attributes of process 1, a replaced /dev as root) or attacking the supervisor (reading its memory for an
//    earlier caller's input, forging its frames, signalling it), or checking what it was given: a
//    survey of everything a run can see (compared with a fresh container's), or its own input back.
// Then it prints host crashes, lost records, wrong results, contaminated runs, leftover containers
// and the growth of this process's memory.
// Run: npm run build && node --expose-gc bench/soak-docker.mjs [N] [M]   (needs a Docker engine and musl-gcc)
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DockerRuntime, Nebula } from 'nebula-faas';

const N = Number(process.argv[2] ?? 300);
const M = Number(process.argv[3] ?? 300);
const CONCURRENCY = 4;
const dir = mkdtempSync(join(tmpdir(), 'nebula-soak-'));
const compile = (source, out) =>
  execFileSync('musl-gcc', ['-static', '-O2', new URL(source, import.meta.url).pathname, '-o', join(dir, out)]);
compile('programs/chaos.c', 'chaos');
compile('../test/runtimes/docker/programs/hostile.c', 'hostile');
const HOSTILE_IMAGE = `nebula-bench/hostile:${process.pid}`;
writeFileSync(join(dir, 'Dockerfile'), 'FROM scratch\nCOPY hostile /hostile\nVOLUME /tmp\nENTRYPOINT ["/hostile"]\n');
execFileSync('docker', ['build', '-q', '-t', HOSTILE_IMAGE, dir], { stdio: 'pipe' });

let uncaught = 0;
process.on('uncaughtException', (e) => {
  uncaught++;
  console.error('uncaught:', e);
});
process.on('unhandledRejection', (e) => {
  uncaught++;
  console.error('unhandled rejection:', e);
});

let seed = 7;
const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
const pick = (xs) => xs[Math.floor(random() * xs.length)];

/** Runs `plan` (items for `run`) `CONCURRENCY` at a time; an invocation that never settles is lost. */
async function soak(plan, run) {
  let next = 0;
  let lost = 0;
  const worker = async () => {
    while (next < plan.length) {
      const item = plan[next++];
      const guard = new Promise((r) => setTimeout(() => r('lost'), (item.timeoutMs ?? 30_000) + 15_000).unref());
      if ((await Promise.race([run(item), guard])) === 'lost') lost++;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return lost;
}

// --- 1. misbehaving functions, every mode -------------------------------------------------------
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

const runtime = new DockerRuntime();
const nebula = new Nebula({ builtins: false, runtimes: { docker: runtime } });
await nebula.deploy({ name: 'chaos', docker: { binary: join(dir, 'chaos') } });
let ended = 0;
nebula.on('invocation:end', () => ended++);
for (const mode of MODES) await nebula.invoke('chaos', 'ok', { mode });
globalThis.gc?.();
const { rss: rssBefore, heapUsed: heapBefore } = process.memoryUsage();

const chaosPlan = Array.from({ length: N }, () => {
  const kind = pick(Object.keys(KINDS));
  return { kind, mode: pick(MODES), abortMs: Math.floor(random() * 200), timeoutMs: KINDS[kind].timeoutMs };
});
const wrong = [];
const counts = {};
let t0 = Date.now();
const chaosLost = await soak(chaosPlan, async ({ kind, mode, abortMs }) => {
  const k = KINDS[kind];
  const ac = new AbortController();
  if (k.abortMs) setTimeout(() => ac.abort(), abortMs);
  const rec = await nebula.invoke('chaos', k.input ?? kind, {
    mode,
    timeoutMs: k.timeoutMs ?? 30_000,
    signal: ac.signal,
  });
  counts[`${kind}/${mode}`] = (counts[`${kind}/${mode}`] ?? 0) + 1;
  if (!k.expect(rec))
    wrong.push({
      kind,
      mode,
      ok: rec.ok,
      result: String(rec.result).slice(0, 40),
      error: rec.error?.code,
      message: rec.error?.message?.slice(0, 120),
    });
});
const chaosSeconds = (Date.now() - t0) / 1000;

// --- 2. warm reuse against a hostile function -------------------------------------------------
// Two runtimes: the default one (an image without USER runs as nobody) and one running the
// image's own user, root, which owns /dev.
const asRoot = new DockerRuntime({ user: 'image' });
const rootNebula = new Nebula({ builtins: false, runtimes: { docker: asRoot } });
for (const n of [nebula, rootNebula]) await n.deploy({ name: 'hostile', docker: { image: HOSTILE_IMAGE } });
rootNebula.on('invocation:end', () => ended++);
const baseline = new Map();
for (const n of [nebula, rootNebula])
  baseline.set(n, (await n.invoke('hostile', 'survey', { mode: 'warm' })).result?.survey);

const DENIED = {
  found: false,
  mem: false,
  environ: false,
  fd0: false,
  fd1: false,
  fd2: false,
  fdinfo: false,
  cwd: false,
  root: false,
  exe: false,
  fdlink: false,
  ptrace: false,
  vmread: false,
  pidfd_getfd: false,
};
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
// Each class: its input, and what its record must be (contaminated when not).
const HOSTILE = {
  litter: { input: () => 'litter', expect: (r) => r.ok },
  deep: { input: () => 'deep 3000', expect: (r) => r.ok },
  many: { input: () => 'many 5000', expect: (r) => same(r.result, { made: 5000 }) },
  ipc: { input: () => 'ipc', expect: (r) => r.ok },
  locks: { input: () => 'locks', expect: (r) => r.ok },
  tcp: { input: () => 'tcp', expect: (r) => r.ok },
  fill: { input: () => 'fill', expect: (r) => r.result?.full === true },
  signal: { input: () => 'signal', expect: (r) => r.ok },
  'renice limit': { input: () => 'renice limit', expect: (r) => r.ok },
  'renice nice': { input: () => 'renice nice', expect: (r) => r.ok },
  'renice cpus': { input: () => 'renice cpus', expect: (r) => r.ok },
  'touch-dev': { input: () => 'touch-dev', expect: (r) => r.ok },
  'root-dev': { root: true, input: () => 'root-dev', expect: (r) => r.ok },
  'renice oom': { root: true, input: () => 'renice oom', expect: (r) => r.ok },
  // The attacks: nothing of the supervisor is reachable, and the record is the function's own.
  peek: { input: (secret) => `peek ${secret}`, expect: (r) => same(r.result, DENIED) },
  forge: { input: () => 'forge', expect: (r) => r.ok && same(r.result, { forged: false }) },
  // The checks: what a run is given is its own, and it sees a container as fresh.
  survey: {
    input: () => 'survey',
    expect: (r, n) => r.ok && r.result?.survey === baseline.get(n) && r.result?.processes === 2,
  },
  echo: {
    input: (secret) => `echo SECRET-${secret}`,
    expect: (r, _n, secret) => same(r.result, { echo: `SECRET-${secret}` }),
  },
};
// Checks as often as attacks, so that most attacks are followed by a check in the same container.
const hostilePlan = Array.from({ length: M }, () => {
  const name =
    random() < 0.5
      ? pick(['survey', 'survey', 'echo'])
      : pick(Object.keys(HOSTILE).filter((k) => k !== 'survey' && k !== 'echo'));
  const root = HOSTILE[name].root || (name !== 'root-dev' && name !== 'renice oom' && random() < 0.25);
  return { name, root };
});
const contaminated = [];
const hostileCounts = {};
let reused = 0;
t0 = Date.now();
const hostileLost = await soak(hostilePlan, async ({ name, root }) => {
  const n = root ? rootNebula : nebula;
  const secret = randomBytes(8).toString('hex');
  const rec = await n.invoke('hostile', HOSTILE[name].input(secret), { mode: 'warm', timeoutMs: 30_000 });
  hostileCounts[name] = (hostileCounts[name] ?? 0) + 1;
  if (rec.sandbox === 'reused') reused++;
  if (!HOSTILE[name].expect(rec, n, secret))
    contaminated.push({
      name,
      root,
      sandbox: rec.sandbox,
      ok: rec.ok,
      error: rec.error?.code,
      result: JSON.stringify(rec.result)?.slice(0, 200),
    });
});
const hostileSeconds = (Date.now() - t0) / 1000;

await Promise.all([nebula.close(), rootNebula.close()]);
execFileSync('docker', ['rmi', '-f', HOSTILE_IMAGE], { stdio: 'ignore' });
rmSync(dir, { recursive: true, force: true });
globalThis.gc?.();
const { rss: rssAfter, heapUsed: heapAfter } = process.memoryUsage();
const left = [runtime, asRoot].flatMap((r) =>
  execFileSync('docker', ['ps', '-aq', '--filter', `label=nebula-faas.runtime=${r.instanceId}`], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean),
);

const lost = chaosLost + hostileLost + (N + MODES.length + M + 2 - chaosLost - hostileLost - ended);
console.log(
  `1. ${N} invocations of a misbehaving function in ${chaosSeconds.toFixed(0)} s, ${CONCURRENCY} at a time (kind/mode: count)`,
);
console.log(
  Object.entries(counts)
    .sort()
    .map(([k, v]) => `${k}: ${v}`)
    .join(', '),
);
console.log(
  `2. ${M} warm invocations of a hostile function in ${hostileSeconds.toFixed(0)} s, ${CONCURRENCY} at a time, ${reused} in a reused container (class: count)`,
);
console.log(
  Object.entries(hostileCounts)
    .sort()
    .map(([k, v]) => `${k}: ${v}`)
    .join(', '),
);
console.log(`host crashes (uncaught errors in this process): ${uncaught}`);
console.log(`lost records (never settled, or no invocation:end event): ${lost}`);
console.log(`wrong results (part 1): ${wrong.length}`);
for (const w of wrong.slice(0, 20)) console.log('  ', JSON.stringify(w));
console.log(
  `contaminated runs (part 2: saw another run's leftovers or input, reached the supervisor, or got a record not its own): ${contaminated.length}`,
);
for (const c of contaminated.slice(0, 20)) console.log('  ', JSON.stringify(c));
console.log(`leftover containers after close: ${left.length}`);
const mib = (b) => `${(b / 2 ** 20).toFixed(1)} MiB`;
const growth = (a, b) => `${(((b - a) / a) * 100).toFixed(1)}%`;
console.log(
  `RSS: ${mib(rssBefore)} before, ${mib(rssAfter)} after (${growth(rssBefore, rssAfter)}); JS heap used: ${mib(heapBefore)} before, ${mib(heapAfter)} after (${growth(heapBefore, heapAfter)})${globalThis.gc ? '' : ' (run with --expose-gc for steadier figures)'}`,
);
process.exitCode = uncaught || lost || wrong.length || contaminated.length || left.length ? 1 : 0;
