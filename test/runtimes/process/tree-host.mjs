// Run by process-tree.test.ts as a child. "invoke": starts a function that forks a grandchild and
// sleeps, and never awaits it (the test kills this host); "deploy": only deploys, which in a new
// host removes the cgroups that killed helpers left behind.
import { Nebula } from '../../../dist/index.js';

const [forker, tmpDir, how] = process.argv.slice(2);
const nebula = new Nebula({ builtins: false, meter: null, process: { tmpDir } });
await nebula.deploy({ name: 'forker', process: { binary: forker } });
if (how === 'invoke') {
  void nebula.invoke('forker', 'wait', { timeoutMs: 600_000 });
} else await nebula.close();
console.log(how);
