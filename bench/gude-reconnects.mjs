// Connections a Gude meter opens in 10 s against a peer that accepts and closes each one
// (default intervalMs 100): invoking in a loop through Nebula, and a running meter whose
// device turns into such a peer.
// Run: npm run build && node bench/gude-reconnects.mjs
import { GudeMeter, Nebula } from 'nebula-faas';
import { GudeSimulator } from 'nebula-faas/gude';

const WINDOW_MS = 10_000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

{
  const sim = new GudeSimulator({ fault: 'close' });
  const { host, port } = await sim.start();
  const nebula = new Nebula({ meter: new GudeMeter({ host, port }) });
  const end = Date.now() + WINDOW_MS;
  let invocations = 0;
  let last;
  while (Date.now() < end) {
    last = await nebula.invoke('fib', 10);
    invocations++;
  }
  console.log(
    `invoke() in a loop: ${sim.connections} connections in ${WINDOW_MS / 1000} s over ${invocations} invocations; last energyNote: ${last.energyNote}`,
  );
  await nebula.close();
  await sim.stop();
}
{
  const sim = new GudeSimulator();
  const { host, port } = await sim.start();
  const meter = new GudeMeter({ host, port });
  let errors = 0;
  meter.on('error', () => errors++);
  await meter.start();
  const before = sim.connections;
  sim.fault = 'close';
  await sleep(WINDOW_MS);
  console.log(
    `running meter, device turns to accept-and-close: ${sim.connections - before} connections, ${errors} errors in ${WINDOW_MS / 1000} s`,
  );
  await meter.stop();
  await sim.stop();
}
