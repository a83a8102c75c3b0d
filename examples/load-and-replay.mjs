// Open-loop load and a trace replay from code: fib at two rates on Wasm (latency from each
// invocation's intended send time, the knee), then half an hour of the shipped synthetic trace:
// under none (every invocation cold), fixed:10m and the histogram policy on Wasm at 600x (three
// seconds each), and under the two keeping policies on Docker when an engine answers, at 60x
// (thirty seconds each). Docker's pace
// is slower because a container's start does not speed up with the trace: at 600x a start of a
// second is ten minutes of trace, longer than the histogram policy's pre-warm lead, so every
// pre-warmed container would arrive too late and each invocation would start cold.
// Run: node examples/load-and-replay.mjs [outDir]   (without outDir, a temporary folder, removed at the end)
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Nebula, builtinFunctions } from 'nebula-faas';
import { parseTrace, runLoad, runReplay } from 'nebula-faas/experiment';

const keep = process.argv[2];
const outDir = keep ?? mkdtempSync(join(tmpdir(), 'nebula-example-'));
const nebula = new Nebula({ meter: null });
try {
  const load = await runLoad(nebula, {
    functions: ['fib'],
    inputs: { fib: 20 },
    runtimes: ['wasm'],
    modes: ['warm'],
    rates: [50, 200],
    durationMs: 2000,
    baselineMs: 0,
    outDir: join(outDir, 'load'),
  });
  for (const s of load.results)
    console.log(
      `load ${s.ratePerS}/s: achieved ${s.achievedPerS.toFixed(0)}/s, p50 ${s.latencyMs.p50.value.toFixed(2)} ms, p99 ${s.latencyMs.p99.value.toFixed(2)} ms, generator lag p99 ${s.lagMs.p99.toFixed(3)} ms`,
    );
  const knee = load.series[0]?.knee;
  console.log(`knee (p99 <= 10 ms): ${knee == null ? 'none of the rates' : `${knee}/s`}`);

  const file = fileURLToPath(new URL('./traces/synthetic-azure.csv', import.meta.url));
  const trace = parseTrace(readFileSync(file, 'utf8'), file, { fromMs: 8 * 3_600_000, toMs: 8.5 * 3_600_000 });
  const fib = builtinFunctions().find((s) => s.name === 'fib');
  const mapping = Object.fromEntries(trace.functions.map((f) => [f, { spec: fib, input: 20 }]));
  const replay = async (runtimes, policies, name, speed) =>
    runReplay(nebula, { trace, mapping, runtimes, policies, speed, baselineMs: 0, outDir: join(outDir, name) });
  const runs = [await replay(['wasm'], ['none', 'fixed:10m', 'histogram'], 'replay-wasm', 600)];
  try {
    runs.push(await replay(['docker'], ['fixed:10m', 'histogram'], 'replay-docker', 60));
  } catch (e) {
    console.log(`docker replay skipped: ${e.message}`);
  }
  for (const r of runs)
    for (const p of r.results)
      console.log(
        `replay ${p.policy} on ${p.runtime}: ${p.invocations} invocations, ${p.coldStarts} cold starts, p99 ${p.latencyMs.p99.toFixed(1)} ms, at most ${p.keptPeak} sandboxes kept`,
      );
} finally {
  // The replay made an image per trace function; remove them with the instance.
  await nebula.close({ removeImages: true });
  if (!keep) rmSync(outDir, { recursive: true, force: true });
}
