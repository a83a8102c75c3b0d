// A cold Docker invocation's totalMs against `docker run --rm -i --network none` of the same image
// from the CLI, median of N each, interleaved A B A B; then how much of the cold start the
// prewarmed pool removes. bench/docker-modes.mjs compares all modes at once.
// Run: npm run build && node bench/docker-cold-vs-cli.mjs [N]   (needs a Docker engine)
import { Nebula } from 'nebula-faas';
import { dockerRun } from './docker-cli.mjs';
import { median } from './stats.mjs';

const N = Number(process.argv[2] ?? 10);
const nebula = new Nebula();
await nebula.prepare(['fib'], ['docker']);
const image = (await nebula.functions()).find((f) => f.name === 'fib').artifacts.docker.image;

const cli = (input) => dockerRun(image, input);

await cli(20);
await nebula.invoke('fib', 20, { runtime: 'docker' });
const ours = [];
const theirs = [];
for (let i = 0; i < N; i++) {
  const rec = await nebula.invoke('fib', 20, { runtime: 'docker' });
  if (!rec.ok || rec.result !== 6765) throw new Error(JSON.stringify(rec.error));
  ours.push(rec.timing.totalMs);
  const c = await cli(20);
  if (c.out !== '6765') throw new Error(`cli printed ${c.out}`);
  theirs.push(c.ms);
}
const cold = [];
const prewarmed = [];
for (let i = 0; i < N; i++) {
  cold.push((await nebula.invoke('fib', 20, { runtime: 'docker' })).timing.startupMs);
  prewarmed.push((await nebula.invoke('fib', 20, { runtime: 'docker', mode: 'prewarmed' })).timing.startupMs);
  await new Promise((r) => setTimeout(r, 300)); // let the pool refill, as between requests
}
await nebula.close();
console.log(`fib(20) on docker, median of ${N} each, interleaved`);
console.log(`nebula cold invoke totalMs                 ${median(ours).toFixed(1)} ms`);
console.log(`docker run --rm -i --network none (wall)   ${median(theirs).toFixed(1)} ms`);
console.log(`ratio nebula / CLI: ${(median(ours) / median(theirs)).toFixed(2)}   (target <= 1.0, aim 0.8)`);
console.log(
  `startupMs cold ${median(cold).toFixed(1)} ms, prewarmed ${median(prewarmed).toFixed(1)} ms: the pool removes ${(100 * (1 - median(prewarmed) / median(cold))).toFixed(0)}% of the cold start`,
);
