// Measure energy with a Gude Expert Power Control over Modbus TCP.
// With hardware:    GUDE_HOST=10.0.0.7 GUDE_OUTLET=1 node examples/energy-gude.mjs
// Without hardware: node examples/energy-gude.mjs   (starts the built-in Gude simulator on localhost)
import { GudeMeter, Nebula } from 'nebula-faas';
import { GudeSimulator } from 'nebula-faas/gude';

let simulator;
let host = process.env.GUDE_HOST;
let port = Number(process.env.GUDE_PORT ?? 502);
if (!host) {
  // A simulated outlet drawing 40 W at idle and 55 W while the CPU is busy.
  simulator = new GudeSimulator({ port: 0, trace: 'cpu' });
  ({ host, port } = await simulator.start());
  console.log(`no GUDE_HOST given: using the Gude simulator on ${host}:${port}`);
}

const meter = new GudeMeter({ host, port, outlet: { port: Number(process.env.GUDE_OUTLET ?? 1) }, intervalMs: 100 });
const nebula = new Nebula({ meter });
try {
  const baseline = await nebula.measureBaseline({ durationMs: 2000 });
  console.log(
    `baseline ${baseline.powerW.toFixed(2)} W ± ${baseline.stdW.toFixed(2)} W over ${baseline.samples} samples`,
  );

  // The result comes back at once; waitForEnergy also waits for the meter's covering sample.
  const rec = await nebula.invoke('prime', 300000, { runtime: 'wasm', waitForEnergy: true });
  const e = rec.energy;
  console.log(`prime(300000) = ${rec.result} in ${rec.timing.execMs.toFixed(1)} ms`);
  if (e) {
    console.log(
      `  ${e.samples} samples (${e.quality}), avg ${e.avgPowerW.toFixed(2)} W including idle, ${e.isolatedPowerW.toFixed(2)} W above idle`,
    );
    console.log(
      `  energy ${e.energyWh.toExponential(3)} Wh including idle, ${e.isolatedEnergyWh.toExponential(3)} Wh above idle (meter ${e.meter})`,
    );
    console.log(
      `  start-up part ${e.startup.energyJ.toExponential(3)} J (${e.startup.quality}), run part ${e.exec.energyJ.toExponential(3)} J (${e.exec.quality}), both including idle`,
    );
  } else {
    console.log(`  no energy figure (${rec.energyNote?.reason}): ${rec.energyNote?.message}`);
  }
} finally {
  await nebula.close();
  await simulator?.stop();
}
