// Run by process-runtime.test.ts as a child: leaves parked helpers behind (prewarmed invocations),
// then either closes Nebula ("close") or just lets the event loop end ("exit"). Parked helpers
// must neither keep the process alive nor outlive it.
import { Nebula } from '../../../dist/index.js';

const [probe, tmpDir, how] = process.argv.slice(2);
const nebula = new Nebula({ builtins: false, process: { tmpDir, prewarmedProcesses: 2 } });
await nebula.deploy({ name: 'probe', process: { binary: probe } });
for (let i = 0; i < 3; i++) {
  const rec = await nebula.invoke('probe', null, { mode: 'prewarmed' });
  if (!rec.ok) throw new Error(rec.error.message);
  await new Promise((r) => setTimeout(r, 50));
}
if (how === 'close') await nebula.close();
console.log(how);
