// Energy shares under concurrent load, against a machine whose truth is known.
//
// The "machine" is a cgroup this script makes and moves itself into (cgroup v1 cpuacct): this
// process and its threads, the process runtime's runs and the Docker containers (their cgroup
// parents are put under it) are in it; the other programs of a shared host are not. The meter is a
// power model of that cgroup's CPU time, P = 20 W + 8 W per busy core, sampled every 100 ms as the
// estimate meter samples (each sample the mean of its interval, stamped at its middle): the energy
// above idle an invocation truly causes is 8 W x its CPU time. The machine's CPU time that shares
// divide by is the same cgroup's (Nebula option machineCpuMs).
//
// 1. For each runtime and for 1, 2, 4, 8 and 16 invocations at once of a mix of functions (rounds
//    of each): sum of the records' shares and of their window figures over the energy above the
//    baseline the ledger measured over the bursts, the ledger's balance (shares + unattributed)
//    / above baseline, the sum of the shares over the truth of the records' CPU time (what the
//    invocations caused, without the host process's own CPU time), and each record's share
//    against the truth of its CPU time (records whose window spans 5 meter intervals or more), and
//    the median of each record's share over its own window figure above idle (1 when alone).
// 2. Each runtime's cpuMs against an independent reading, runs of 50 ms or more, one at a time:
//    Wasm, the worker thread's /proc/self/task/<tid>/schedstat read from the main thread while the
//    worker sleeps between runs; process and Docker, the function's own CPU clock printed by
//    bench/programs/cpu-clock.c as it ends (its thread's, resp. its process's).
//
// Run: npm run build && node bench/energy-concurrency.mjs [runtimes] [levels|none] [rounds]
//   e.g. node bench/energy-concurrency.mjs wasm,process,docker 1,2,4,8,16 3 (the default)
// Needs root (to make the cgroup), cgroup v1 cpuacct, musl-gcc, and a Docker engine for docker.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { EventEmitter } from 'eventemitter3';
import { Nebula } from 'nebula-faas';
import { median } from './stats.mjs';

const RUNTIMES = (process.argv[2] ?? 'wasm,process,docker').split(',');
/** `none`: only part 2. */
const LEVELS = process.argv[3] === 'none' ? [] : (process.argv[3] ?? '1,2,4,8,16').split(',').map(Number);
const ROUNDS = Number(process.argv[4] ?? 3);
const INTERVAL_MS = Number(process.env.INTERVAL_MS ?? 100);
const IDLE_W = 20;
const W_PER_CORE = 8;
/** About 0.5 to 0.8 s of CPU each on the 2-core test machine: every window spans 5 meter intervals or more. */
const MIX = [
  ['fib', 42],
  ['prime', 350000],
  ['hash', 180000],
  ['exponential', { n: 1, repeat: 24000000 }],
];
const pause = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (x) => `${(x * 100).toFixed(1)}%`;

// The machine: a cgroup v1 cpuacct group holding this process.
const mountinfo = readFileSync('/proc/self/mountinfo', 'utf8').split('\n');
const cpuacctMount = mountinfo
  .map((l) => l.split(' - '))
  .filter(([, right]) => right?.startsWith('cgroup ') && right.split(' ')[2]?.split(',').includes('cpuacct'))
  .map(([left]) => left.split(' '))
  .find((f) => f[3] === '/')?.[4];
if (!cpuacctMount) throw new Error('This bench needs a cgroup v1 cpuacct hierarchy (mounted at its root).');
const ownCpuacct = readFileSync('/proc/self/cgroup', 'utf8')
  .split('\n')
  .map((l) => l.split(':'))
  .find((f) => f[1]?.split(',').includes('cpuacct'))?.[2];
const SCOPE = `/nebula-bench-${process.pid}`;
const scopeDir = join(cpuacctMount, SCOPE);
mkdirSync(scopeDir);
writeFileSync(join(scopeDir, 'cgroup.procs'), String(process.pid));
const scopeCpuMs = () => Number(readFileSync(join(scopeDir, 'cpuacct.usage'), 'latin1')) / 1e6;

/**
 * The power model of the scope's CPU time, sampled like the estimate meter. It samples in a worker
 * thread: spawning the process runtime's helpers blocks this thread's event loop for a moment
 * (Node forks), and a meter on it would then miss its ticks.
 */
class ModelMeter extends EventEmitter {
  name = 'model';
  estimate = true;
  intervalMs = INTERVAL_MS;
  async start() {
    this.worker = new Worker(
      `const { parentPort, workerData: w } = require('node:worker_threads');
       const { readFileSync } = require('node:fs');
       const now = () => performance.timeOrigin + performance.now();
       const cpu = () => Number(readFileSync(w.file, 'latin1')) / 1e6;
       let prevT = now(), prevCpu = cpu();
       setInterval(() => {
         const t = now(), c = cpu();
         if (t > prevT) parentPort.postMessage({ t: (prevT + t) / 2, powerW: w.idleW + (w.wPerCore * (c - prevCpu)) / (t - prevT), estimate: true });
         prevT = t; prevCpu = c;
       }, w.intervalMs);`,
      {
        eval: true,
        workerData: {
          file: join(scopeDir, 'cpuacct.usage'),
          intervalMs: INTERVAL_MS,
          idleW: IDLE_W,
          wPerCore: W_PER_CORE,
        },
      },
    );
    this.worker.on('message', (s) => this.emit('sample', s));
    this.worker.unref();
  }
  async stop() {
    await this.worker?.terminate();
  }
}

const dir = mkdtempSync(join(tmpdir(), 'nebula-shares-'));
const binary = join(dir, 'cpu-clock');
execFileSync('musl-gcc', ['-static', '-O2', new URL('programs/cpu-clock.c', import.meta.url).pathname, '-o', binary]);

const nebula = new Nebula({
  meter: new ModelMeter(),
  machineCpuMs: scopeCpuMs,
  energyDeadlineMs: 120_000,
  docker: { cgroupParent: `${SCOPE}/docker` },
});
await nebula.deploy({ name: 'cpuclock', process: { binary }, docker: { binary } });
await nebula.prepare([...new Set(MIX.map(([f]) => f))], RUNTIMES);
for (const runtime of RUNTIMES) for (const [fn, input] of MIX) await nebula.invoke(fn, input, { runtime });
await nebula.cleanedUp();
console.log(
  `machine: cgroup ${SCOPE} (this process, its runs and containers); meter: P = ${IDLE_W} W + ${W_PER_CORE} W per busy core of it, every ${INTERVAL_MS} ms`,
);
const baseline = await nebula.measureBaseline({ durationMs: 3000 });
console.log(
  `baseline: ${baseline.powerW.toFixed(2)} W, ${baseline.busyCores?.toFixed(3)} cores busy while idle (the host process)\n`,
);

// 1. Shares at each level of concurrency.
console.log('1. Shares against the truth (8 W x CPU time), and the books, per runtime and invocations at once');
console.log(
  'runtime  at once  records  shares/above  windows/above  balance  their CPU/machine CPU  shares/truth  share/window  share error vs truth: median  max   (records of 5+ intervals)',
);
const summary = [];
for (const runtime of RUNTIMES) {
  for (const level of LEVELS) {
    const records = [];
    let from = Infinity;
    let to = -Infinity;
    for (let round = 0; round < ROUNDS; round++) {
      await nebula.cleanedUp();
      await pause(INTERVAL_MS * 4);
      const burst = await Promise.all(
        Array.from({ length: level }, (_, i) => {
          const [fn, input] = MIX[(i + round) % MIX.length];
          return nebula.invoke(fn, input, { runtime });
        }),
      );
      await nebula.settled();
      for (const r of burst) {
        records.push(r);
        from = Math.min(from, r.timing.requestAt + r.timing.prepareMs);
        to = Math.max(to, r.timing.functionEndAt);
      }
    }
    // The ledger of the whole series: from before the first to after the last invocation.
    let ledger;
    try {
      ledger = await nebula.energyLedger({ from: from - INTERVAL_MS * 2, to: to + INTERVAL_MS * 2 });
    } catch (e) {
      console.log(`${runtime.padEnd(8)} ${String(level).padStart(7)}  no ledger: ${e.message}`);
      continue;
    }
    const settled = records.filter((r) => r.energy?.method === 'cpu-share');
    const shares = settled.reduce((a, r) => a + r.energy.shareJ, 0);
    const windows = records.reduce((a, r) => a + (r.energy ? r.energy.isolatedEnergyWh * 3600 : 0), 0);
    const long = settled.filter((r) => r.energy.window.to - r.energy.window.from >= INTERVAL_MS * 5);
    const truthJ = settled.reduce((a, r) => a + (W_PER_CORE * r.resources.cpuMs) / 1000, 0);
    const errors = long.map((r) => {
      const truth = (W_PER_CORE * r.resources.cpuMs) / 1000;
      return Math.abs(r.energy.shareJ - truth) / truth;
    });
    const row = {
      runtime,
      level,
      records: records.length,
      withShare: settled.length,
      sharesOverAbove: shares / ledger.aboveBaselineJ,
      windowsOverAbove: windows / ledger.aboveBaselineJ,
      balance: ledger.balance,
      cpuShare: ledger.invocationCpuMs / ledger.machineCpuMs,
      sharesOverTruth: shares / truthJ,
      shareOverWindow: median(settled.map((r) => r.energy.shareJ / (r.energy.isolatedEnergyWh * 3600))),
      medianError: errors.length ? median(errors) : NaN,
      maxError: errors.length ? Math.max(...errors) : NaN,
      long: long.length,
    };
    summary.push(row);
    console.log(
      `${runtime.padEnd(8)} ${String(level).padStart(7)}  ${`${row.withShare}/${row.records}`.padStart(7)}  ${row.sharesOverAbove.toFixed(3).padStart(12)}  ${row.windowsOverAbove.toFixed(2).padStart(13)}  ${row.balance.toFixed(4).padStart(7)}  ${row.cpuShare.toFixed(3).padStart(21)}  ${row.sharesOverTruth.toFixed(3).padStart(12)}  ${row.shareOverWindow.toFixed(3).padStart(12)}  ${pct(row.medianError).padStart(35)}  ${pct(row.maxError).padStart(5)}   (${row.long})`,
    );
  }
}

// 2. cpuMs against an independent reading.
console.log('\n2. cpuMs against an independent reading, runs of 50 ms or more, one at a time');
const cpuRows = [];
const schedstat = (tid) => Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'latin1').split(' ')[0]) / 1e6;
const threads = () => new Map(readdirSync('/proc/self/task').map((t) => [t, schedstat(t)]));
if (RUNTIMES.includes('wasm')) {
  const one = new Nebula({ meter: null, wasm: { workers: 1, idleSpinUs: 0 } });
  await one.prepare(['fib'], ['wasm']);
  // The worker thread: the one whose CPU time grew the most over a long run (this run is not compared).
  const before = threads();
  await one.invoke('fib', 38, { runtime: 'wasm' });
  await pause(50);
  let tid;
  let most = 0;
  for (const [t, ms] of threads()) {
    const grew = ms - (before.get(t) ?? 0);
    if (grew > most) [tid, most] = [t, grew];
  }
  const diffs = [];
  for (let i = 0; i < 10; i++) {
    await pause(50);
    const a = schedstat(tid);
    const r = await one.invoke('fib', 38 + (i % 2), { runtime: 'wasm' });
    await pause(50); // the worker finishes its chores and sleeps
    const b = schedstat(tid);
    if (r.resources.cpuMs >= 50) diffs.push({ cpu: r.resources.cpuMs, ref: b - a });
  }
  cpuRows.push(['wasm', "the worker thread's schedstat", diffs]);
  await one.close();
}
// The process runtime sets RLIMIT_CPU: its function's thread clock is the exact one (see cpu-clock.c).
// A container's process began as runc's init, whose other threads ended at exec: its process clock.
const clockOf = {
  process: ['threadNs', "the function's thread CPU clock at its end"],
  docker: ['processNs', "the function's process CPU clock at its end"],
};
for (const runtime of RUNTIMES.filter((r) => r !== 'wasm')) {
  const [field, what] = clockOf[runtime];
  const diffs = [];
  for (let i = 0; i < 10; i++) {
    await nebula.cleanedUp();
    const r = await nebula.invoke('cpuclock', 38 + (i % 2), { runtime });
    if (r.ok && r.resources.cpuMs >= 50) diffs.push({ cpu: r.resources.cpuMs, ref: r.result[field] / 1e6 });
  }
  cpuRows.push([runtime, what, diffs]);
}
console.log(
  'runtime  reference                                 runs  cpuMs median  reference median  |diff| median  max   diff median (ms)',
);
for (const [runtime, what, diffs] of cpuRows) {
  const rel = diffs.map((d) => Math.abs(d.cpu - d.ref) / d.ref);
  console.log(
    `${runtime.padEnd(8)} ${what.padEnd(41)} ${String(diffs.length).padStart(4)}  ${median(diffs.map((d) => d.cpu))
      .toFixed(2)
      .padStart(12)}  ${median(diffs.map((d) => d.ref))
      .toFixed(2)
      .padStart(16)}  ${pct(median(rel)).padStart(13)}  ${pct(Math.max(...rel)).padStart(5)}  ${median(
      diffs.map((d) => d.cpu - d.ref),
    )
      .toFixed(3)
      .padStart(17)}`,
  );
}

// Clean up: the deployed image, the scope (this process back where it was first).
const image = (await nebula.functions()).find((f) => f.name === 'cpuclock')?.artifacts.docker?.image;
await nebula.close();
if (image && RUNTIMES.includes('docker')) execFileSync('docker', ['rmi', '-f', image], { stdio: 'ignore' });
writeFileSync(join(cpuacctMount, ownCpuacct ?? '/', 'cgroup.procs'), String(process.pid));
// The engine made the containers' parents, under the scope, in every hierarchy.
const mounts = mountinfo
  .map((l) => l.split(' - '))
  .filter(([, right]) => /^cgroup2? /.test(right ?? ''))
  .map(([left]) => left.split(' ')[4]);
for (const mount of mounts)
  for (const sub of [`${SCOPE}/docker`, SCOPE]) {
    try {
      rmdirSync(join(mount, sub));
    } catch {
      // Removed already, or never made there.
    }
  }
rmSync(dir, { recursive: true, force: true });
