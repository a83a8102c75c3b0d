// Run a small experiment from code: two functions on Wasm (and Docker when an engine answers),
// energy from the CPU-utilisation estimate, reports written to a new folder.
// Run: node examples/run-experiment.mjs [outDir]
import { EstimateMeter } from 'nebula-faas';
import { runExperiment } from 'nebula-faas/experiment';

// Each run needs its own folder (a used one is refused, so runs are never mixed).
const outDir = process.argv[2] ?? `nebula-results/example-${new Date().toISOString().replace(/[:.]/g, '-')}`;
// A progress line redrawn in place on a terminal; plain lines when the output goes to a file.
const tty = process.stdout.isTTY;
const result = await runExperiment(
  {
    functions: ['fib', 'prime'],
    inputs: { fib: [22], prime: [3000] },
    runtimes: ['wasm', 'docker'],
    skipUnavailable: true, // measure Wasm only when no Docker engine answers
    repetitions: 5,
    warmup: 1,
    baselineMs: 1000,
    micro: false,
    outDir,
  },
  {
    meter: new EstimateMeter({ intervalMs: 100 }),
    on: {
      progress: (done, total) => {
        if (tty) process.stdout.write(`\r${done}/${total}`);
        else if (done === total) console.log(`${done}/${total} invocations`);
      },
    },
  },
);
if (tty) console.log('');
for (const c of result.cells) {
  const energy = c.energy
    ? c.energy.aboveIdle
      ? `${(c.energy.valueWh * 1e6).toFixed(3)} µWh above idle`
      : 'energy not distinguishable from idle'
    : 'no energy';
  console.log(
    `${c.function.padEnd(6)} ${c.runtime.padEnd(6)} startup ${c.metrics.startupMs.median.toFixed(3)} ms, exec ${c.metrics.execMs.median.toFixed(3)} ms, ${energy}`,
  );
}
console.log(
  result.outputCheck.mismatches.length
    ? `outputs differ: ${JSON.stringify(result.outputCheck.mismatches)}`
    : 'outputs: the same on every runtime',
);
for (const n of result.notes) console.log(`note: ${n}`);
console.log(`reports: ${result.reports.html}`);
