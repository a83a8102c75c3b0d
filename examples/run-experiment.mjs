// Run a small experiment from code: two functions on Wasm (and Docker when an engine answers),
// energy from the CPU-utilisation estimate, reports written to a folder.
// Run: node examples/run-experiment.mjs [outDir]
import { EstimateMeter, runExperiment } from 'nebula-faas';

const outDir = process.argv[2] ?? 'nebula-results/example';
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
    on: { progress: (done, total) => process.stdout.write(`\r${done}/${total}`) },
  },
);
console.log('');
for (const c of result.cells) {
  console.log(`${c.function.padEnd(6)} ${c.runtime.padEnd(6)} startup ${c.metrics.startupMs.median.toFixed(3)} ms, exec ${c.metrics.execMs.median.toFixed(3)} ms`);
}
for (const n of result.notes) console.log(`note: ${n}`);
console.log(`reports: ${result.reports.html}`);
