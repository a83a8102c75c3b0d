// What energy attribution costs an invocation, and how soon a record's energy settles.
// 1. Wall time of `await invoke()` (fib(1), Wasm, prewarmed and cold) with the default meter
//    attached vs `meter: null`, in the same process, on one shared worker pool, alternating
//    invocation by invocation (pairs in both orders) so drift and noise hit both alike.
// 2. Settle latency: from invoke() returning to the record's `invocation:settled` event, for the
//    default meter and for a Gude meter (simulator) polled every 100 ms.
// Run: npm run build && node bench/energy-overhead.mjs [pairs]
import { GudeMeter, Nebula, WasmRuntime } from 'nebula-faas';
import { GudeSimulator } from 'nebula-faas/gude';
import { medianRatio } from 'nebula-faas/stats';
import { fmt, median, quantile } from './stats.mjs';

const PAIRS = Number(process.argv[2] ?? 10_000);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Both instances share one WasmRuntime (one worker pool): the energy path is all that differs.
const wasm = new WasmRuntime();
const off = new Nebula({ meter: null, runtimes: { wasm } });
const on = new Nebula({ runtimes: { wasm } });
console.log(
  `default meter here: ${on.meter.name} (${on.meter.estimate ? 'an estimate' : 'measured'}), every ${on.meter.intervalMs} ms`,
);
for (const n of [off, on]) {
  await n.prepare(['fib'], ['wasm']);
  for (let i = 0; i < 300; i++) await n.invoke('fib', 1, { mode: i % 2 ? 'cold' : 'prewarmed' });
}

async function once(nebula, mode, into) {
  const t0 = performance.now();
  await nebula.invoke('fib', 1, { mode });
  into.push(performance.now() - t0);
}

/** Bootstrap 95% interval of median(b) - median(a), seeded (mulberry32). */
function medianDiffCi(a, b, rounds = 1000) {
  let seed = 1;
  const rand = () => {
    seed = (seed + 0x6d2b79f5) >>> 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = (xs) => median(Array.from({ length: xs.length }, () => xs[Math.floor(rand() * xs.length)]));
  const d = Array.from({ length: rounds }, () => pick(b) - pick(a)).sort((x, y) => x - y);
  return [quantile(d, 0.025), quantile(d, 0.975)];
}

async function compare(on, off, mode, label, pairs) {
  const t = { off: [], on: [] };
  for (let i = 0; i < pairs; i++) {
    if (i % 2) {
      await once(on, mode, t.on);
      await once(off, mode, t.off);
    } else {
      await once(off, mode, t.off);
      await once(on, mode, t.on);
    }
  }
  const d = median(t.on) - median(t.off);
  const ci = medianDiffCi(t.off, t.on);
  const { ratio, ci95 } = medianRatio(t.off, t.on, 1, 1000);
  console.log(`\ninvoke() wall time, ${label}, ${t.on.length} invocations each`);
  console.log(
    `  meter: null        p50 ${fmt(median(t.off)).padStart(9)}   p95 ${fmt(quantile(t.off, 0.95)).padStart(9)}`,
  );
  console.log(
    `  default meter      p50 ${fmt(median(t.on)).padStart(9)}   p95 ${fmt(quantile(t.on, 0.95)).padStart(9)}`,
  );
  console.log(
    `  attached - off, p50: ${(d * 1000).toFixed(2)} us [95% CI ${(ci[0] * 1000).toFixed(2)}, ${(ci[1] * 1000).toFixed(2)}]   ratio ${ratio.toFixed(3)} [${ci95[0].toFixed(3)}, ${ci95[1].toFixed(3)}]   (target <= 5 us)`,
  );
}

// The energy bookkeeping alone: a Runtime that answers at once, so the invocation itself costs a
// few microseconds and the difference the meter makes is not lost in the Wasm worker's noise.
const instant = () => ({
  kind: 'wasm',
  async prepare() {
    return {
      info: {},
      async run() {
        const t = performance.timeOrigin + performance.now();
        return {
          exitCode: 0,
          stdout: '1',
          stderr: '',
          functionStartAt: t,
          functionEndAt: t,
          phases: {},
          compiled: false,
          sandbox: 'fresh',
        };
      },
      async release() {},
    };
  },
  async close() {},
});
{
  const a = new Nebula({ meter: null, runtimes: { wasm: instant() } });
  const b = new Nebula({ runtimes: { wasm: instant() } });
  for (const n of [a, b]) for (let i = 0; i < 2000; i++) await n.invoke('fib', 1);
  await compare(b, a, 'cold', 'an instant runtime (the bookkeeping alone)', PAIRS * 4);
  await Promise.all([a.close(), b.close()]);
}
for (const mode of ['prewarmed', 'cold']) await compare(on, off, mode, `fib(1) wasm ${mode}`, PAIRS);
const pendingAtEnd = on.pendingEnergy;
await on.settled();
console.log(`\nrecords pending at the end of the timing runs: ${pendingAtEnd}, after settled(): ${on.pendingEnergy}`);

// 2. Settle latency.
async function settleLatency(nebula, label) {
  const lat = [];
  const returned = new Map();
  nebula.on('invocation:settled', (rec) => {
    const t = returned.get(rec.id);
    if (t !== undefined) lat.push(performance.now() - t);
  });
  let seed = 7;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let i = 0; i < 150; i++) {
    const rec = await nebula.invoke('fib', 1, { mode: 'prewarmed' });
    returned.set(rec.id, performance.now());
    await sleep(rand() * 30);
  }
  await nebula.settled();
  console.log(
    `settle latency after invoke() returns, ${label}: p50 ${fmt(median(lat))}, p95 ${fmt(quantile(lat, 0.95))}, max ${fmt(Math.max(...lat))} (${lat.length} records)`,
  );
}
console.log('');
await settleLatency(on, `${on.meter.name} every ${on.meter.intervalMs} ms`);
await on.close();
await off.close();
const sim = new GudeSimulator({ trace: (t) => 50 + 5 * Math.sin(t / 300) });
const addr = await sim.start();
const gude = new Nebula({ meter: new GudeMeter({ ...addr, intervalMs: 100 }) });
await gude.prepare(['fib'], ['wasm']);
await sleep(300);
await settleLatency(gude, 'Gude simulator every 100 ms');
await gude.close();
await sim.stop();
