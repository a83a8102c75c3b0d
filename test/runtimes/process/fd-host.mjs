// Run by process-runtime.test.ts as a child with an extra inherited descriptor (fd 40, not
// close-on-exec, as a shell or a parent process might leave it). Prints which descriptors a
// function sees through the process runtime and through a bare child_process.spawn.
import { spawnSync } from 'node:child_process';
import { dirname } from 'node:path';
import { Nebula } from '../../../dist/index.js';

const probe = process.argv[2];
const nebula = new Nebula({ builtins: false });
await nebula.deploy({ name: 'probe', process: { binary: probe } });
const rec = await nebula.invoke('probe', null);
await nebula.close();
const bare = JSON.parse(spawnSync(probe, { encoding: 'utf8', cwd: dirname(probe) }).stdout);
console.log(JSON.stringify({ nebula: rec.ok ? rec.result.fds : rec.error, bare: bare.fds }));
