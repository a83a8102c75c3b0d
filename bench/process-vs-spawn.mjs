// The process runtime's cold startupMs against a bare child_process.spawn of the same binary (time
// from spawn() to its 'spawn' event), median of N each, interleaved A B A B in one process; then
// prewarmed startupMs, and totalMs against the bare spawn's time to 'close' (output read); and the
// cost of the run's cgroup: cold and prewarmed startupMs against a runtime with `cgroup: false`.
// Run: npm run build && node bench/process-vs-spawn.mjs [N]   (Linux; fib(1), so start-up dominates)
import { spawn } from 'node:child_process';
import { Nebula } from 'nebula-faas';
import { fmt, median, quantile } from './stats.mjs';

const N = Number(process.argv[2] ?? 200);
const nebula = new Nebula();
const plain = new Nebula({ process: { cgroup: false } });
await nebula.prepare(['fib'], ['process']);
await plain.prepare(['fib'], ['process']);
const binary = (await nebula.functions()).find((f) => f.name === 'fib').artifacts.process.path;

/** A bare spawn: stdio piped as the runtime does, the input written, the output read. */
function bare(input) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const p = spawn(binary, [], { stdio: ['pipe', 'pipe', 'pipe'] });
    let spawned = 0;
    let out = '';
    p.on('spawn', () => (spawned = performance.now() - t0));
    p.stdout.on('data', (b) => (out += b));
    p.on('error', reject);
    p.on('close', (code) =>
      code === 0
        ? resolve({ startupMs: spawned, totalMs: performance.now() - t0, out: out.trim() })
        : reject(new Error(`exit ${code}`)),
    );
    p.stdin.end(String(input));
  });
}

async function ours(mode, n = nebula) {
  const rec = await n.invoke('fib', 1, { runtime: 'process', mode });
  if (!rec.ok || rec.result !== 1) throw new Error(JSON.stringify(rec.error));
  return rec.timing;
}

for (let i = 0; i < 20; i++) {
  await ours('cold'); // warm-up, both paths
  await bare(1);
}
const cold = [];
const spawnMs = [];
const total = [];
const bareTotal = [];
const exec = [];
const coldPlain = [];
for (let i = 0; i < N; i++) {
  coldPlain.push((await ours('cold', plain)).startupMs);
  const t = await ours('cold');
  cold.push(t.startupMs);
  total.push(t.totalMs);
  exec.push(t.execMs);
  const b = await bare(1);
  if (b.out !== '1') throw new Error(`bare spawn printed ${b.out}`);
  spawnMs.push(b.startupMs);
  bareTotal.push(b.totalMs);
}
const pre = [];
const prePlain = [];
for (let i = 0; i < Math.min(N, 100); i++) {
  pre.push((await ours('prewarmed')).startupMs);
  await new Promise((r) => setTimeout(r, 20)); // let the parked helpers refill, as between requests
  prePlain.push((await ours('prewarmed', plain)).startupMs);
  await new Promise((r) => setTimeout(r, 20));
}
const memory = (await nebula.invoke('fib', 1, { runtime: 'process' })).limits.memoryMiB;
await nebula.close();
await plain.close();

const iqr = (xs) => `[${fmt(quantile(xs, 0.25))} .. ${fmt(quantile(xs, 0.75))}]`;
console.log(`fib(1), ${N} each, interleaved, node ${process.version}, ${process.arch}`);
console.log(`process cold startupMs (p50, IQR)            ${fmt(median(cold))}  ${iqr(cold)}`);
console.log(`bare spawn() to 'spawn' event (p50, IQR)     ${fmt(median(spawnMs))}  ${iqr(spawnMs)}`);
console.log(`ratio process cold / bare spawn: ${(median(cold) / median(spawnMs)).toFixed(2)}   (target <= 1.5)`);
console.log(`process prewarmed startupMs (p50 of ${pre.length})       ${fmt(median(pre))}  ${iqr(pre)}`);
console.log(`process cold execMs (p50)                     ${fmt(median(exec))}`);
console.log(
  `process cold totalMs / bare spawn to 'close': ${fmt(median(total))} / ${fmt(median(bareTotal))} = ${(median(total) / median(bareTotal)).toFixed(2)}`,
);
console.log(
  `the run's cgroup (${memory.held ? memory.how.split(':')[0] : 'none here'}): cold startupMs ${fmt(median(cold))} vs ${fmt(median(coldPlain))} with cgroup: false = ${(median(cold) / median(coldPlain)).toFixed(2)}; prewarmed ${fmt(median(pre))} vs ${fmt(median(prePlain))} = ${(median(pre) / median(prePlain)).toFixed(2)}`,
);
