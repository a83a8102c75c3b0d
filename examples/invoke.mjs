// Invoke a built-in function once on WebAssembly and print what the record says.
// Run: node examples/invoke.mjs   (after `npm run build`, or with nebula-faas installed)
import { Nebula } from 'nebula-faas';

const nebula = new Nebula();
try {
  // Prepare ahead (load, compile, start the workers). Without it, the first invocation waits for
  // that set-up and reports the wait as `timing.prepareMs`, outside its cold start (`startupMs`).
  await nebula.prepare(['fib'], ['wasm']);
  const rec = await nebula.invoke('fib', 25, { runtime: 'wasm' });
  if (!rec.ok) throw new Error(`${rec.error.code}: ${rec.error.message}`);
  console.log(`fib(25) = ${rec.result}`);
  console.log(
    `cold start ${rec.timing.startupMs.toFixed(3)} ms, run ${rec.timing.execMs.toFixed(3)} ms, total ${rec.timing.totalMs.toFixed(3)} ms`,
  );
  console.log('phases (ms):', rec.timing.phases);
  // Energy settles once the meter's covering sample arrives (RAPL, or a CPU-based estimate by default).
  // No idle baseline was measured here (nebula.measureBaseline() does), so this is the whole draw
  // of the machine over the invocation's window, idle power included.
  await nebula.settled();
  const e = rec.energy;
  console.log(
    e
      ? `energy ${(e.energyJ * 1000).toFixed(3)} mJ including idle, from ${e.meter}${e.estimate ? ' (an estimate)' : ''}, ${e.quality}`
      : `no energy figure: ${rec.energyNote?.reason}: ${rec.energyNote?.message}`,
  );

  // A failing function is a record, not an exception.
  const bad = await nebula.invoke('fib', 'not a number', { runtime: 'wasm' });
  console.log(`fib("not a number"): ok=${bad.ok}, ${bad.error.code}: ${bad.error.message}`);
} finally {
  await nebula.close();
}
