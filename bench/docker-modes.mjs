// Docker modes side by side, in one run: cold, prewarmed and warm invocations of fib(20) against
// `docker run --rm -i --network none` of the same image, plus `docker exec` into a kept container
// (the engine's own way to run a process in a running container, for reference). N rounds; each
// round runs every variant once, in an order rotated per round; medians and ratios at the end.
// Run: npm run build && node bench/docker-modes.mjs [N]     (needs a Docker engine)
// NEBULA_MODULE=<path to dist/index.js> runs it on another build.
import Docker from 'dockerode';
import { dockerRun } from './docker-cli.mjs';
import { median, quantile } from './stats.mjs';

const { Nebula } = await import(process.env.NEBULA_MODULE ?? 'nebula-faas');
const N = Number(process.argv[2] ?? 20);
const INPUT = 20;
const ANSWER = 6765;
const pause = (ms) => new Promise((r) => setTimeout(r, ms));

const nebula = new Nebula();
await nebula.prepare(['fib'], ['docker']);
const fibInfo = (await nebula.functions()).find((f) => f.name === 'fib');
const image = fibInfo.artifacts.docker.image;

async function cli() {
  const { ms, out } = await dockerRun(image, INPUT);
  if (out !== String(ANSWER)) throw new Error(`docker run printed ${out}`);
  return { totalMs: ms };
}

// docker exec of the image's command in a running container kept for it (idle process: the
// supervisor of warm mode, from its volume).
const docker = new Docker();
let execTarget;
const volume = (await docker.listVolumes({ filters: { label: ['nebula-faas'] } })).Volumes.find((v) =>
  v.Name.startsWith('nebula-faas-supervisor-'),
);
if (volume) {
  execTarget = await docker.createContainer({
    Image: image,
    Entrypoint: ['/.nebula-faas/nebula-supervisor'],
    Cmd: ['/fn'],
    OpenStdin: true,
    NetworkDisabled: true,
    Labels: { 'nebula-faas.bench': '1' },
    HostConfig: {
      NetworkMode: 'none',
      AutoRemove: true,
      Mounts: [{ Type: 'volume', Source: volume.Name, Target: '/.nebula-faas', ReadOnly: true }],
    },
  });
  await execTarget.start();
}
async function exec() {
  const t0 = performance.now();
  const e = await execTarget.exec({ Cmd: ['/fn'], AttachStdin: true, AttachStdout: true, AttachStderr: true });
  const stream = await e.start({ hijack: true, stdin: true });
  let out = '';
  docker.modem.demuxStream(stream, { write: (b) => (out += b) }, { write: () => undefined });
  stream.end(String(INPUT));
  await new Promise((r) => stream.on('end', r));
  if (out.trim() !== String(ANSWER)) throw new Error(`docker exec printed ${out.trim()}`);
  return { totalMs: performance.now() - t0 };
}

async function invoke(mode) {
  const rec = await nebula.invoke('fib', INPUT, { runtime: 'docker', mode });
  if (!rec.ok || rec.result !== ANSWER) throw new Error(`${mode}: ${JSON.stringify(rec.error)}`);
  // cleanupMs is set once the clean-up is over, after the result (read at the end).
  return {
    totalMs: rec.timing.totalMs,
    startupMs: rec.timing.startupMs,
    execMs: rec.timing.execMs,
    sandbox: rec.sandbox,
    timing: rec.timing,
  };
}

const variants = {
  cold: () => invoke('cold'),
  prewarmed: () => invoke('prewarmed'),
  warm: () => invoke('warm'),
  'docker run --rm -i': cli,
  ...(execTarget ? { 'docker exec (kept container)': exec } : {}),
};
const names = Object.keys(variants);
const samples = Object.fromEntries(names.map((n) => [n, []]));
for (const n of names) for (let i = 0; i < 2; i++) await variants[n](); // warm-up (and fills the pools)
for (let round = 0; round < N; round++) {
  for (let k = 0; k < names.length; k++) {
    const name = names[(k + round) % names.length];
    samples[name].push(await variants[name]());
    await pause(200); // as between requests: lets the prewarmed pool refill
  }
}
await execTarget?.remove({ force: true }).catch(() => undefined);
await nebula.close();

const med = (name, key) => {
  const xs = samples[name].map((s) => s[key] ?? s.timing?.[key]).filter((x) => x !== undefined && x !== null);
  return xs.length ? median(xs) : undefined;
};
const f = (ms) => (ms === undefined ? '-' : ms < 10 ? ms.toFixed(2) : ms.toFixed(1));
console.log(`fib(${INPUT}) on Docker, ${N} rounds, medians in ms`);
console.log('variant                          totalMs   p90     startupMs  execMs   cleanupMs  sandbox');
for (const n of names) {
  const p90 = quantile(
    samples[n].map((s) => s.totalMs),
    0.9,
  );
  const sandboxes = [...new Set(samples[n].map((s) => s.sandbox).filter(Boolean))].join(',');
  console.log(
    `${n.padEnd(32)} ${f(med(n, 'totalMs')).padStart(7)} ${f(p90).padStart(7)} ${f(med(n, 'startupMs')).padStart(10)} ${f(med(n, 'execMs')).padStart(8)} ${f(med(n, 'cleanupMs')).padStart(10)}   ${sandboxes}`,
  );
}
const ratio = (a, b, key = 'totalMs') => (med(a, key) / med(b, key)).toFixed(3);
console.log('\nratios of medians (totalMs unless said):');
console.log(
  `  prewarmed / cold               ${ratio('prewarmed', 'cold')}   startupMs ${ratio('prewarmed', 'cold', 'startupMs')}`,
);
console.log(
  `  warm / cold                    ${ratio('warm', 'cold')}   startupMs ${ratio('warm', 'cold', 'startupMs')}   (goal <= 0.05)`,
);
console.log(`  cold / docker run --rm -i      ${ratio('cold', 'docker run --rm -i')}`);
console.log(`  warm / docker run --rm -i      ${ratio('warm', 'docker run --rm -i')}`);
if (execTarget) console.log(`  docker exec / cold             ${ratio('docker exec (kept container)', 'cold')}`);
