// The Wasm hot path, side by side in one process: the floor (a bare `new WebAssembly.Instance`
// of the same clang-built fib module), cold / prewarmed / warm start-up and engine overhead
// (totalMs - execMs), each step of the hand-over, fib(1) throughput from 1, 8 and 32 callers,
// and the first invocation after `new Nebula()` in fresh processes (with its dispatch and
// instantiate steps). Medians; ratios to the floor.
// Run: npm run build && node bench/wasm-hotpath.mjs [invocations] [seconds per throughput cell]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Nebula } from 'nebula-faas';
import { fmt, median } from './stats.mjs';

const N = Number(process.argv[2] ?? 2000);
const SECONDS = Number(process.argv[3] ?? 2);
const core = readFileSync(fileURLToPath(new URL('../functions/wasm/core/fib.wasm', import.meta.url)));
const module = new WebAssembly.Module(core);
const stubs = {};
for (const i of WebAssembly.Module.imports(module)) (stubs[i.module] ??= {})[i.name] = () => 0;

// A second floor: the same module with its memory made an import (as the runtime's rewrite does),
// instantiated over one recycled memory zeroed after each use: what a fresh instance costs when
// no memory has to be mapped and faulted in.
function memoryAsImport(bytes) {
  const u32 = (b, p) => {
    let r = 0,
      s = 0;
    for (;;) {
      const x = b[p++];
      r += (x & 0x7f) * 2 ** s;
      if (!(x & 0x80)) return [r, p];
      s += 7;
    }
  };
  const leb = (v) => {
    const o = [];
    do {
      let b = v & 0x7f;
      v = Math.floor(v / 128);
      if (v) b |= 0x80;
      o.push(b);
    } while (v);
    return o;
  };
  const name = (t) => [...leb(t.length), ...Buffer.from(t)];
  const out = [...bytes.subarray(0, 8)];
  let min = 0;
  for (let p = 8; p < bytes.length;) {
    const id = bytes[p];
    const [size, at] = u32(bytes, p + 1);
    let body = [...bytes.subarray(at, at + size)];
    p = at + size;
    if (id === 5) {
      min = u32(body, 2)[0];
      continue;
    }
    if (id === 2) {
      const [n, q] = u32(body, 0);
      body = [...leb(n + 1), ...body.slice(q), ...name('nebula'), ...name('memory'), 2, 1, ...leb(2), ...leb(4096)];
    }
    out.push(id, ...leb(body.length), ...body);
  }
  return { bytes: new Uint8Array(out), min };
}
const pooledModule = new WebAssembly.Module(memoryAsImport(core).bytes);
const recycled = new WebAssembly.Memory({ initial: 2, maximum: 4096 });
const pooledImports = { ...stubs, nebula: { memory: recycled } };

const nebula = new Nebula();
await nebula.prepare(['fib'], ['wasm']);
const modes = ['cold', 'prewarmed', 'warm'];
for (let i = 0; i < 500; i++) for (const mode of modes) await nebula.invoke('fib', 1, { mode });

const bare = [];
const pooledBare = [];
const recs = Object.fromEntries(modes.map((m) => [m, []]));
const steps = [
  () => {
    const t0 = performance.now();
    new WebAssembly.Instance(module, stubs);
    bare.push(performance.now() - t0);
  },
  () => {
    const t0 = performance.now();
    new WebAssembly.Instance(pooledModule, pooledImports);
    pooledBare.push(performance.now() - t0);
    new Uint8Array(recycled.buffer).fill(0);
  },
  ...modes.map((mode) => async () => {
    const rec = await nebula.invoke('fib', 1, { mode });
    if (!rec.ok || rec.result !== 1) throw new Error(`wrong result: ${JSON.stringify(rec)}`);
    recs[mode].push(rec);
  }),
];
let seed = 12345;
const random = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
for (let i = 0; i < N; i++) {
  // Interleaved, in a new random order each round, so drift of the machine and what ran just
  // before (a 100 us instantiation on this thread, during which a worker may go to sleep) affect every series alike.
  const order = steps.map((step) => [random(), step]).sort((a, b) => a[0] - b[0]);
  for (const [, step] of order) await step();
}
const floor = median(bare);
const p50 = (xs, f) => median(xs.map(f));
console.log(`fib(1), ${N} invocations per mode, interleaved; floor = bare new WebAssembly.Instance p50 ${fmt(floor)}`);
console.log(`(second floor: the same instance over a recycled, zeroed memory, p50 ${fmt(median(pooledBare))})`);
console.log(
  `${'mode'.padEnd(24)} ${'startupMs'.padStart(10)} ${'x floor'.padStart(8)} ${'overhead'.padStart(10)} ${'execMs'.padStart(10)} ${'totalMs'.padStart(10)}   steps (p50)`,
);
for (const mode of modes) {
  const rs = recs[mode];
  const startup = p50(rs, (r) => r.timing.startupMs);
  const overhead = p50(rs, (r) => r.timing.totalMs - r.timing.execMs);
  const steps = {};
  for (const k of Object.keys(rs.at(-1).timing.phases)) steps[k] = p50(rs, (r) => r.timing.phases[k] ?? 0);
  steps.after = p50(rs, (r) => r.timing.totalMs - r.timing.startupMs - r.timing.execMs);
  const stepText = Object.entries(steps)
    .map(([k, v]) => `${k} ${fmt(v)}`)
    .join(', ');
  console.log(
    `${mode.padEnd(24)} ${fmt(startup).padStart(10)} ${(startup / floor).toFixed(2).padStart(7)}x ${fmt(overhead).padStart(10)} ${fmt(p50(rs, (r) => r.timing.execMs)).padStart(10)} ${fmt(p50(rs, (r) => r.timing.totalMs)).padStart(10)}   ${stepText}`,
  );
}

console.log(
  `\nfib(1) throughput, invocations/s (every result checked): ${SECONDS} s per cell in 20 interleaved slices, median slice`,
);
const callers = [1, 8, 32];
const slices = Object.fromEntries(modes.flatMap((m) => callers.map((c) => [`${m}/${c}`, []])));
for (let round = 0; round < 20; round++) {
  for (const mode of modes) {
    for (const c of callers) {
      const end = performance.now() + (SECONDS * 1000) / 20;
      let done = 0;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: c }, async () => {
          while (performance.now() < end) {
            const rec = await nebula.invoke('fib', 1, { mode });
            if (!rec.ok || rec.result !== 1) throw new Error(`wrong result: ${JSON.stringify(rec)}`);
            done++;
          }
        }),
      );
      slices[`${mode}/${c}`].push(done / ((performance.now() - t0) / 1000));
    }
  }
}
console.log(`${'mode'.padEnd(24)} ${callers.map((c) => `${c} caller${c > 1 ? 's' : ''}`.padStart(12)).join('')}`);
for (const mode of modes)
  console.log(
    `${mode.padEnd(24)} ${callers.map((c) => `${(median(slices[`${mode}/${c}`]) / 1000).toFixed(1)}k`.padStart(12)).join('')}`,
  );
await nebula.close();

// Fresh processes: `new Nebula()` then invoke with no prepare (the README's first call); the
// same after an explicit prepare (a prepared first cold start); then the steady state there.
const child = `
import { Nebula } from ${JSON.stringify(new URL('../dist/index.js', import.meta.url).href)};
const nebula = new Nebula();
if (process.argv[2] === 'prepare') await nebula.prepare(['fib'], ['wasm']);
const first = await nebula.invoke('fib', 1);
const cold = [];
for (let i = 0; i < 2000; i++) cold.push((await nebula.invoke('fib', 1)).timing.startupMs);
cold.sort((a, b) => a - b);
await nebula.close();
console.log(JSON.stringify({ startupMs: first.timing.startupMs, prepareMs: first.timing.prepareMs, dispatch: first.timing.phases.dispatch, instantiate: first.timing.phases.instantiate, steadyP50: cold[1000] }));
`;
const childFile = join(mkdtempSync(join(tmpdir(), 'nebula-bench-')), 'first.mjs');
writeFileSync(childFile, child);
const runChild = (arg) => {
  const r = spawnSync(process.execPath, [childFile, arg], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').at(-1));
};
const fresh = [];
const prepared = [];
const PROCESSES = 7;
for (let i = 0; i < PROCESSES; i++) {
  fresh.push(runChild('fresh'));
  prepared.push(runChild('prepare'));
}
const first = median(fresh.map((f) => f.startupMs));
const firstPrepared = median(prepared.map((f) => f.startupMs));
const steady = median([...fresh, ...prepared].map((f) => f.steadyP50));
const firstSteps = (fs) =>
  `dispatch ${fmt(median(fs.map((f) => f.dispatch)))}, instantiate ${fmt(median(fs.map((f) => f.instantiate)))}`;
console.log(`\nfirst invocation after new Nebula(), ${PROCESSES} fresh processes each, medians:`);
console.log(
  `  no prepare: startupMs ${fmt(first)} (prepareMs ${fmt(median(fresh.map((f) => f.prepareMs)))} apart; ${firstSteps(fresh)})`,
);
console.log(
  `  after nebula.prepare(): startupMs ${fmt(firstPrepared)} (${firstSteps(prepared)}); steady-state cold p50 there ${fmt(steady)}`,
);
console.log(
  `  ratio first / prepared first ${(first / firstPrepared).toFixed(2)}x, first / steady cold ${(first / steady).toFixed(2)}x (target <= 2x), prepared first / steady cold ${(firstPrepared / steady).toFixed(2)}x`,
);
console.log(
  `\nratios (p50): cold / floor ${(p50(recs.cold, (r) => r.timing.startupMs) / floor).toFixed(2)}x (target <= 3x); cold / recycled-memory floor ${(p50(recs.cold, (r) => r.timing.startupMs) / median(pooledBare)).toFixed(2)}x`,
);
const pre = 'prewarmed';
console.log(
  `              prewarmed / floor ${(p50(recs[pre], (r) => r.timing.startupMs) / floor).toFixed(2)}x (target <= 1.5x); prewarmed / recycled-memory floor ${(p50(recs[pre], (r) => r.timing.startupMs) / median(pooledBare)).toFixed(2)}x`,
);
