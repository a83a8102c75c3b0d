// A function with start-up work, cold, against its Wizer snapshot: both deployed side by side as
// preview1 modules on one Wasm runtime and invoked cold, interleaved; medians of totalMs,
// startupMs, the instantiate phase and execMs, the snapshot's time and the sizes. The snapshot is
// made by Wizer's binary (the optional @bytecodealliance/wizer, 10.0.0) with the options
// src/runtimes/wasm/preinit.ts passes it; the default module is the built-in primecount.
// Run: npm run build && node bench/wasm-preinit.mjs [runs=21] [core.wasm] [input JSON]
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Nebula } from 'nebula-faas';
import { median } from './stats.mjs';

const runs = Number(process.argv[2] ?? 21);
const file = process.argv[3] ?? fileURLToPath(new URL('../functions/wasm/core/primecount.wasm', import.meta.url));
const input = JSON.parse(process.argv[4] ?? '1000000');
const core = readFileSync(file);

const wizer = (await import('@bytecodealliance/wizer')).default;
const snapMs = [];
let snapshot;
for (let i = 0; i < 5; i++) {
  const t = performance.now();
  const r = spawnSync(
    wizer,
    ['--init-func', 'wizer.initialize', '--inherit-stdio', 'false', '--inherit-env', 'false'],
    { input: core, maxBuffer: 1 << 30 },
  );
  snapMs.push(performance.now() - t);
  if (r.status !== 0) throw new Error(`wizer: ${r.stderr}`);
  snapshot = r.stdout;
}

/** Initial memory the module declares (first memory), bytes. */
function initialMemory(bytes) {
  const m = new WebAssembly.Module(bytes);
  const memory = new WebAssembly.Instance(
    m,
    Object.fromEntries(WebAssembly.Module.imports(m).map((i) => [i.module, new Proxy({}, { get: () => () => 0 })])),
  ).exports.memory;
  return memory.buffer.byteLength;
}

const nebula = new Nebula({ builtins: false });
const t0 = performance.now();
await nebula.deploy({ name: 'plain', wasm: core });
const deployPlainMs = performance.now() - t0;
const t1 = performance.now();
await nebula.deploy({ name: 'snapshot', wasm: snapshot });
const deploySnapMs = performance.now() - t1;

const rows = { plain: [], snapshot: [] };
for (let i = 0; i < runs + 2; i++)
  for (const name of i % 2 ? ['plain', 'snapshot'] : ['snapshot', 'plain']) {
    const rec = await nebula.invoke(name, input, { mode: 'cold' });
    if (!rec.ok) throw new Error(`${name}: ${rec.error?.message}`);
    if (i >= 2) rows[name].push(rec); // the first two rounds wait for V8's optimised code
  }
await nebula.close();
const a = rows.plain[0].result;
const b = rows.snapshot[0].result;
if (JSON.stringify(a) !== JSON.stringify(b))
  throw new Error(`results differ: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);

const med = (name, f) => median(rows[name].map(f));
const fields = [
  ['totalMs', (r) => r.timing.totalMs],
  ['startupMs', (r) => r.timing.startupMs],
  ['instantiate ms', (r) => r.timing.phases.instantiate ?? 0],
  ['execMs', (r) => r.timing.execMs],
];
console.log(
  `${file.split('/').pop()} (${JSON.stringify(input)} -> ${JSON.stringify(a)}), ${runs} cold invocations each, interleaved, medians; load average ${loadavg()[0].toFixed(1)}`,
);
console.log(`${''.padEnd(16)}${'module'.padStart(12)}${'snapshot'.padStart(12)}${'ratio'.padStart(9)}`);
for (const [label, f] of fields) {
  const x = med('plain', f);
  const y = med('snapshot', f);
  console.log(
    `${label.padEnd(16)}${x.toFixed(3).padStart(12)}${y.toFixed(3).padStart(12)}${`${(y / x).toFixed(2)}x`.padStart(9)}`,
  );
}
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
console.log(
  `module size     ${kib(core.length).padStart(12)}${kib(snapshot.length).padStart(12)}${`${(snapshot.length / core.length).toFixed(1)}x`.padStart(9)}`,
);
console.log(
  `initial memory  ${kib(initialMemory(core)).padStart(12)}${kib(initialMemory(snapshot)).padStart(12)}${`${(initialMemory(snapshot) / initialMemory(core)).toFixed(1)}x`.padStart(9)}`,
);
console.log(`deploy ms       ${deployPlainMs.toFixed(1).padStart(12)}${deploySnapMs.toFixed(1).padStart(12)}`);
console.log(`Wizer snapshot: median ${median(snapMs).toFixed(1)} ms of 5 (its process, compile and the initialiser)`);
