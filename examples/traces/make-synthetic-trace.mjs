// Makes synthetic-azure.csv: one day of four functions in the Azure Functions 2019 invocation
// format (HashOwner,HashApp,HashFunction,Trigger,1..1440: invocations per minute), seeded so the
// same file comes out every time. The functions:
//   steady  an HTTP API: about 3 invocations a minute all day (Poisson counts)
//   bursty  a queue consumer: nothing for 30-90 minutes, then a burst of 20-80 over 1-3 minutes
//   timer   a timer trigger: one invocation every 15 minutes
//   rare    an HTTP hook called 8 times a day at random minutes
// Run: node examples/traces/make-synthetic-trace.mjs [out.csv]
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MINUTES = 1440;
const out = process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), 'synthetic-azure.csv');

/** mulberry32: a small seeded generator, so the trace repeats. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = rng(2019);
const hash = (text) => createHash('sha256').update(text).digest('hex').slice(0, 64);

/** A Poisson count of mean `mean` (Knuth's method, fine for small means). */
function poisson(mean) {
  const limit = Math.exp(-mean);
  let k = 0;
  for (let p = rand(); p > limit; p *= rand()) k++;
  return k;
}

const steady = Array.from({ length: MINUTES }, () => poisson(3));

const bursty = new Array(MINUTES).fill(0);
for (let m = Math.floor(rand() * 30); m < MINUTES; m += 30 + Math.floor(rand() * 60)) {
  const length = 1 + Math.floor(rand() * 3);
  const size = 20 + Math.floor(rand() * 61);
  for (let i = 0; i < length && m + i < MINUTES; i++) bursty[m + i] += Math.round(size / length);
}

const timer = Array.from({ length: MINUTES }, (_, m) => (m % 15 === 0 ? 1 : 0));

const rare = new Array(MINUTES).fill(0);
for (let i = 0; i < 8; i++) rare[Math.floor(rand() * MINUTES)] += 1;

const rows = [
  ['steady', 'http', steady],
  ['bursty', 'queue', bursty],
  ['timer', 'timer', timer],
  ['rare', 'http', rare],
].map(([name, trigger, counts]) => [hash('owner'), hash(`app-${name}`), hash(name), trigger, ...counts].join(','));
const header = ['HashOwner', 'HashApp', 'HashFunction', 'Trigger', ...Array.from({ length: MINUTES }, (_, i) => i + 1)];
writeFileSync(out, [header.join(','), ...rows].join('\n') + '\n');
const total = [steady, bursty, timer, rare].map((c) => c.reduce((a, b) => a + b, 0));
console.log(
  `${out}: ${total.reduce((a, b) => a + b, 0)} invocations (steady ${total[0]}, bursty ${total[1]}, timer ${total[2]}, rare ${total[3]})`,
);
