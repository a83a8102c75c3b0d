// The knee of fib(20) at p99 <= 10 ms under open-loop load: Wasm cold, prewarmed and warm, Docker
// warm and the process runtime, measured side by side in one run (a sweep of rates per series,
// each stopped at the first rate whose p99 passes 50 ms), and the generator's own lag at the
// highest rate it was asked for with an instant function (the goal: under 1 ms p99 at 2000/s).
//
// The generator's lag is measured first, on a machine no runtime has loaded yet.
//
// Run: npm run build && node bench/load-knee.mjs [rates] [stepSeconds]
//   e.g. node bench/load-knee.mjs 50,100,200,400,800,1600 5 (the default)
// Docker is skipped with a note when no engine answers. Prints one table; writes nothing that
// stays (the run folders are made in a temporary folder and removed).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Nebula, nowMs } from 'nebula-faas';
import { runLoad } from 'nebula-faas/experiment';

const RATES = (process.argv[2] ?? '50,100,200,400,800,1600').split(',').map(Number);
const STEP_MS = Number(process.argv[3] ?? 5) * 1000;
const LAG_RATE = 2000;
const SERIES = [
  ['wasm', 'cold'],
  ['wasm', 'prewarmed'],
  ['wasm', 'warm'],
  ['docker', 'warm'],
  ['process', 'cold'],
];

const dir = mkdtempSync(join(tmpdir(), 'nebula-load-knee-'));
const rows = [];
try {
  // The generator alone: a runtime whose runs return at once, so its lag is the generator's and the host's.
  const instant = {
    kind: 'wasm',
    async prepare() {
      return {
        info: {},
        release: async () => undefined,
        run: async (_input, ctx) => {
          const at = Math.max(nowMs(), ctx.requestAt);
          return {
            exitCode: 0,
            stdout: '1',
            stderr: '',
            functionStartAt: at,
            functionEndAt: at,
            phases: {},
            compiled: false,
            sandbox: 'reused',
          };
        },
      };
    },
    async close() {},
  };
  const bare = new Nebula({ meter: null, runtimes: { wasm: instant } });
  try {
    const r = await runLoad(bare, {
      functions: ['fib'],
      runtimes: ['wasm'],
      rates: [LAG_RATE],
      durationMs: 10_000,
      warmup: 0,
      baselineMs: 0,
      outDir: join(dir, 'lag'),
    });
    const s = r.results[0];
    console.log(
      `\ngenerator lag at ${LAG_RATE}/s for 10 s (instant function): p50 ${s.lagMs.p50.toFixed(3)} ms, p99 ${s.lagMs.p99.toFixed(3)} ms, max ${s.lagMs.max.toFixed(2)} ms; achieved ${s.achievedPerS.toFixed(0)}/s${s.generatorBehind ? ' (BEHIND: over 1 ms p99)' : ''}`,
    );
  } finally {
    await bare.close();
  }
  const nebula = new Nebula({ meter: null });
  try {
    // Side by side: the rates are the outer loop, so every series meets the machine in the same state.
    const stopped = new Set();
    const knees = new Map();
    for (const rate of RATES)
      for (const [runtime, mode] of SERIES) {
        const key = `${runtime} ${mode}`;
        if (stopped.has(key)) continue;
        let result;
        try {
          result = await runLoad(nebula, {
            functions: ['fib'],
            inputs: { fib: 20 },
            runtimes: [runtime],
            modes: [mode],
            rates: [rate],
            durationMs: STEP_MS,
            stopP99Ms: 50,
            kneeP99Ms: 10,
            maxInFlight: 32,
            warmup: 3,
            baselineMs: 0,
            outDir: join(dir, `${runtime}-${mode}-${rate}`),
          });
        } catch (e) {
          console.error(`${key}: skipped (${e.message})`);
          stopped.add(key);
          continue;
        }
        // A runtime pushed past its knee leaves work behind (hundreds of containers to remove): let
        // it end before the next series meets the machine.
        await nebula.cleanedUp(300_000);
        const s = result.results[0];
        rows.push({ key, rate, s });
        if (result.series[0]?.knee) knees.set(key, Math.max(knees.get(key) ?? 0, rate));
        if (result.series[0]?.stopped) stopped.add(key);
      }
    console.log(
      `fib(20), ${STEP_MS / 1000} s a step, constant arrivals, at most 32 in flight; knee: highest rate with p99 <= 10 ms`,
    );
    console.log('series             rate  achieved    p50 ms    p99 ms [95%]          cold  lag p99 ms  failed');
    for (const { key, rate, s } of rows)
      console.log(
        `${key.padEnd(17)} ${String(rate).padStart(5)}  ${s.achievedPerS.toFixed(0).padStart(8)}  ${s.latencyMs.p50.value.toFixed(2).padStart(8)}  ${s.latencyMs.p99.value.toFixed(2).padStart(8)} [${s.latencyMs.p99.ci95[0].toFixed(2)}, ${s.latencyMs.p99.ci95[1].toFixed(2)}${s.latencyMs.p99.open ? '+' : ''}]`.padEnd(
          75,
        ) + `${(s.coldShare * 100).toFixed(0).padStart(4)}%  ${s.lagMs.p99.toFixed(3).padStart(10)}  ${s.failed}`,
      );
    console.log('\nknee per series (p99 <= 10 ms):');
    for (const [runtime, mode] of SERIES)
      console.log(`  ${`${runtime} ${mode}`.padEnd(17)} ${knees.get(`${runtime} ${mode}`) ?? 'none of the rates'}`);
  } finally {
    await nebula.close();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
