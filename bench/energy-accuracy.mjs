// Energy accuracy against the Gude simulator with known power traces, and the meter's sample rate.
// Run: npm run build && node bench/energy-accuracy.mjs
import { EnergyTracker, GudeMeter, GudeSimulator, Nebula, nowMs } from 'nebula-faas';
import { median } from './stats.mjs';

const pct = (x) => `${(x * 100).toFixed(2)}%`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// 1. Sample power against the truth, and samples per second at intervalMs 10.
{
  const truth = (t) => 50 + 10 * Math.sin((2 * Math.PI * t) / 2000);
  const sim = new GudeSimulator({ trace: truth });
  const addr = await sim.start();
  const meter = new GudeMeter({ ...addr, intervalMs: 10 });
  const samples = [];
  meter.on('sample', (s) => samples.push(s));
  await meter.start();
  await sleep(3000);
  await meter.stop();
  await sim.stop();
  const errs = samples.map((s) => Math.abs(s.powerW - truth(s.t)) / truth(s.t));
  console.log(`samples/s at intervalMs 10: ${(samples.length / 3).toFixed(0)}   (target >= 50)`);
  console.log(`sample power vs truth: median error ${pct(median(errs))}, p95 ${pct(errs.sort((a, b) => a - b)[Math.floor(errs.length * 0.95)])}   (target within 1%)`);
}

// 2. Attributed avgPowerW against the truth integrated over each record's window.
{
  const truth = (t) => 50 + 10 * Math.sin((2 * Math.PI * t) / 700);
  const sim = new GudeSimulator({ trace: truth });
  const addr = await sim.start();
  const nebula = new Nebula({ meter: new GudeMeter({ ...addr, intervalMs: 20 }) });
  await nebula.prepare(['prime'], ['wasm']);
  const errs = [];
  for (let i = 0; i < 15; i++) {
    const rec = await nebula.invoke('prime', 30000 + i * 2000);
    const { from, to } = rec.energy.window;
    let j = 0;
    const steps = 2000;
    for (let k = 0; k < steps; k++) j += truth(from + ((k + 0.5) * (to - from)) / steps);
    const avgTruth = j / steps;
    errs.push(Math.abs(rec.energy.avgPowerW - avgTruth) / avgTruth);
  }
  await nebula.close();
  await sim.stop();
  console.log(`attributed avgPowerW vs integrated truth (15 invocations, 20 ms sampling): median error ${pct(median(errs))}, max ${pct(Math.max(...errs))}   (target within 3%)`);
}

// 3. Batch energy of a 1 ms "function" (20 W above a 40 W idle while it runs) against the truth.
// The invocations are laid out in time (1 ms each, gaps of 0.2-1.8 ms from a seeded generator),
// as a worker pool would run them, while the meter samples on its own schedule.
{
  const windows = [];
  const truth = (t) => {
    let lo = 0;
    let hi = windows.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (windows[mid][1] <= t) lo = mid + 1;
      else if (windows[mid][0] > t) hi = mid - 1;
      else return 60;
    }
    return 40;
  };
  const sim = new GudeSimulator({ trace: truth, powerFactor: 1 });
  const addr = await sim.start();
  const tracker = new EnergyTracker(new GudeMeter({ ...addr, intervalMs: 4 }));
  await tracker.start();
  await tracker.measureBaseline(1000);
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const from = nowMs() + 50;
  let t = from;
  while (t < from + 8000 - 2) {
    windows.push([t, t + 1]);
    t += 1 + 0.2 + 1.6 * rand();
  }
  const to = t;
  await sleep(to - nowMs() + 50);
  const b = await tracker.batch(from, to, windows.length);
  await tracker.stop();
  await sim.stop();
  const truthJ = (20 * 1) / 1000;
  console.log(
    `batch: ${windows.length} invocations of 1 ms over ${((to - from) / 1000).toFixed(1)} s, ${b.samples} samples: isolated energy per invocation ${(b.isolatedEnergyPerInvocationJ * 1000).toFixed(2)} mJ ` +
      `(95% CI ${(b.ci95Wh[0] * 3.6e6).toFixed(2)}-${(b.ci95Wh[1] * 3.6e6).toFixed(2)} mJ) vs truth ${(truthJ * 1000).toFixed(2)} mJ: error ${pct(Math.abs(b.isolatedEnergyPerInvocationJ - truthJ) / truthJ)}   (target within 5%)`,
  );
}
