// A user's ES module importing every subpath export: each resolves and is typed, and all of them
// share the root's classes (an error thrown by the server is the root's NebulaError).
import { Nebula, NebulaError, type InvocationRecord } from 'nebula-faas';
import { recordsToCsv, type ExperimentConfig } from 'nebula-faas/experiment';
import { GudeSimulator, decodeBlock, encodeBlock, sensorBase, type GudeReading } from 'nebula-faas/gude';
import { createServer } from 'nebula-faas/server';
import { summarize, type Summary } from 'nebula-faas/stats';

const nebula = new Nebula({ meter: null });
const simulator = new GudeSimulator({ trace: 60 });
try {
  const rec: InvocationRecord = await nebula.invoke('fib', 10, { runtime: 'wasm' });
  const csvHeader = recordsToCsv([rec]).split('\n')[0]!.split(',');
  const config: ExperimentConfig = { functions: ['fib'], outDir: 'unused' };
  const stats: Summary = summarize([1, 2, 3, 4]);
  const reading: GudeReading = decodeBlock(encodeBlock({ ...decodeBlock(Buffer.alloc(52)), activePowerW: 42 }));
  const { port } = await simulator.start();
  let shared = false;
  try {
    await createServer(nebula).listen(0, '0.0.0.0'); // public without a token: refused
  } catch (e) {
    shared = e instanceof NebulaError && e.code === 'INVALID_ARGUMENT';
  }
  console.log(
    JSON.stringify({
      csv: csvHeader.includes('result'),
      functions: config.functions,
      median: stats.median,
      powerW: reading.activePowerW,
      outlet1: sensorBase({ port: 1 }),
      simulator: port > 0,
      shared,
    }),
  );
} finally {
  await simulator.stop();
  await nebula.close();
}
