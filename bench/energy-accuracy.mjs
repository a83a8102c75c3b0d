// Energy accuracy against the Gude simulator with known power traces, and the meter's sample rate;
// the start-up / run split of a window against the integrated truth.
// Run: npm run build && node bench/energy-accuracy.mjs
import { execFileSync } from 'node:child_process';
import { EnergyTracker, GudeMeter, Nebula, nowMs } from 'nebula-faas';
import { GudeSimulator } from 'nebula-faas/gude';
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
  console.log(
    `sample power vs truth: median error ${pct(median(errs))}, p95 ${pct(errs.sort((a, b) => a - b)[Math.floor(errs.length * 0.95)])}   (target within 1%)`,
  );
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
    const rec = await nebula.invoke('prime', 30000 + i * 2000, { waitForEnergy: true });
    const { from, to } = rec.energy.window;
    let j = 0;
    const steps = 2000;
    for (let k = 0; k < steps; k++) j += truth(from + ((k + 0.5) * (to - from)) / steps);
    const avgTruth = j / steps;
    errs.push(Math.abs(rec.energy.avgPowerW - avgTruth) / avgTruth);
  }
  await nebula.close();
  await sim.stop();
  console.log(
    `attributed avgPowerW vs integrated truth (15 invocations, 20 ms sampling): median error ${pct(median(errs))}, max ${pct(Math.max(...errs))}   (target within 3%)`,
  );
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
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
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

// 4. The start-up and run parts against the integrated truth: windows of 5 or more meter intervals
// (10 ms sampling), laid out as invocations have them (ready -> start -> end); then Docker cold
// starts through invoke() when an engine answers.
{
  const truth = (t) => 50 + 15 * Math.sin((2 * Math.PI * t) / 1000);
  const truthAvg = (from, to) => {
    let s = 0;
    for (let k = 0; k < 4000; k++) s += truth(from + ((k + 0.5) * (to - from)) / 4000);
    return s / 4000;
  };
  const sim = new GudeSimulator({ trace: truth, powerFactor: 1 });
  const addr = await sim.start();
  const tracker = new EnergyTracker(new GudeMeter({ ...addr, intervalMs: 10 }));
  await tracker.start();
  await sleep(100);
  const errs = { startup: [], exec: [] };
  let sumErr = 0;
  let gaps = 0;
  let seed = 99;
  const rand = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
  for (let i = 0; i < 20; i++) {
    const startupMs = 50 + 200 * rand();
    const execMs = 50 + 200 * rand();
    const from = nowMs();
    await sleep(startupMs + execMs);
    const a = await tracker.attribute(from, from + startupMs + execMs, { startAt: from + startupMs });
    if (!a.energy) {
      gaps++;
      continue;
    }
    const e = a.energy;
    sumErr = Math.max(sumErr, Math.abs(e.startup.energyJ + e.exec.energyJ - e.energyJ) / e.energyJ);
    for (const part of ['startup', 'exec']) {
      const p = e[part];
      const want = truthAvg(p.window.from, p.window.to);
      errs[part].push(Math.abs(p.avgPowerW - want) / want);
    }
  }
  await tracker.stop();
  console.log(
    `split, ${errs.startup.length} windows of 50-250 ms + 50-250 ms at 10 ms sampling (${gaps} lost to meter gaps): ` +
      `start-up part vs truth median ${pct(median(errs.startup))}, max ${pct(Math.max(...errs.startup))}; run part median ${pct(median(errs.exec))}, max ${pct(Math.max(...errs.exec))}; ` +
      `|start-up + run - whole| / whole at most ${sumErr.toExponential(1)}   (target within 1%, parts add up)`,
  );
  let docker = true;
  try {
    execFileSync('docker', ['info'], { stdio: 'ignore', timeout: 20_000 });
  } catch {
    docker = false;
    console.log('split through invoke() on Docker: skipped (no Docker engine answers)');
  }
  if (docker) {
    const nebula = new Nebula({ meter: new GudeMeter({ ...addr, intervalMs: 10 }) });
    await nebula.prepare(['prime'], ['docker']);
    const d = { startup: [], exec: [] };
    for (let i = 0; i < 10; i++) {
      const rec = await nebula.invoke('prime', 60000, { runtime: 'docker', waitForEnergy: true });
      if (!rec.energy) continue;
      for (const part of ['startup', 'exec']) {
        const p = rec.energy[part];
        if (p.window.to - p.window.from < 50) continue;
        const want = truthAvg(p.window.from, p.window.to);
        d[part].push(Math.abs(p.avgPowerW - want) / want);
      }
    }
    await nebula.close();
    const show = (xs) =>
      xs.length
        ? `median ${pct(median(xs))}, max ${pct(Math.max(...xs))} (${xs.length} parts of 50 ms or more)`
        : 'no part of 50 ms or more';
    console.log(
      `split through invoke(), Docker cold prime(60000): start-up part ${show(d.startup)}; run part ${show(d.exec)}   (target within 1%)`,
    );
  }
  await sim.stop();
}
