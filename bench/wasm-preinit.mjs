// Functions with start-up work, cold, without and with pre-initialisation at deploy (the deploy
// option preinit, which runs Wizer, the optional @bytecodealliance/wizer 10.0.0): each function is
// deployed twice as a WASI preview1 module on one Wasm runtime, preinit: false and preinit: true,
// and invoked cold, interleaved. Prints medians of totalMs, startupMs, the instantiate phase and
// execMs, the snapshot's deploy time, and the module size and initial memory, without and with.
// The functions: the built-in primecount (a sieve) and bench/programs/wordrank.c (a dictionary of
// words hashed into a table), built here with clang as functions/build.sh builds the built-ins;
// or the core modules given, each with its input.
// Run: npm run build && node bench/wasm-preinit.mjs [runs=21] [core.wasm input-JSON ...]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Nebula } from 'nebula-faas';
import { median } from './stats.mjs';

// Without Wizer (an optional peer dependency) nothing would be pre-initialised: say so at once.
await import('@bytecodealliance/wizer').catch(() => {
  throw new Error('bench/wasm-preinit.mjs needs Wizer: npm install @bytecodealliance/wizer@10.0.0');
});
const runs = Number(process.argv[2] ?? 21);
const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'nebula-preinit-bench-'));
// Its own cache folder: each deploy makes its snapshot afresh, none comes from an earlier run.
const nebula = new Nebula({ builtins: false, wasm: { cacheDir: join(scratch, 'cache') } });

try {
  const given = process.argv.slice(3);
  let cases;
  if (given.length) {
    cases = [];
    for (let i = 0; i < given.length; i += 2) cases.push({ file: given[i], input: JSON.parse(given[i + 1] ?? 'null') });
  } else {
    const wordrank = join(scratch, 'wordrank.wasm');
    // The built-ins' wasm flags (functions/build.sh).
    const flags = ['--target=wasm32-wasi', '-O2', '-ffp-contract=off', '-msimd128', '-Wl,--strip-all'];
    execFileSync('clang', [...flags, '-Wall', '-Wextra', '-Werror', here('programs/wordrank.c'), '-o', wordrank]);
    cases = [
      { file: here('../functions/wasm/core/primecount.wasm'), input: 1000000 },
      { file: wordrank, input: 123456 },
    ];
  }
  console.log(`load average ${loadavg()[0].toFixed(1)}; ${runs} cold invocations each, interleaved, medians`);
  for (const c of cases) await measure(c);
} finally {
  await nebula.close();
  rmSync(scratch, { recursive: true, force: true });
}

async function measure({ file, input }) {
  const wasm = readFileSync(file);
  const name = basename(file, '.wasm').replace(/[^a-z0-9_-]/g, '-');
  const deployMs = async (spec) => {
    const t = performance.now();
    await nebula.deploy(spec);
    return performance.now() - t;
  };
  const plainMs = await deployMs({ name: `${name}-plain`, wasm, preinit: false });
  const snapMs = await deployMs({ name: `${name}-snap`, wasm, preinit: true, checkInput: input });
  const info = (await nebula.functions()).find((f) => f.name === `${name}-snap`).artifacts.wasm;
  if (!info.preinitialized) throw new Error(`${name} was not pre-initialised: ${info.preinitNote}`);
  const rows = { plain: [], snap: [] };
  for (let i = 0; i < runs + 2; i++)
    for (const v of i % 2 ? ['plain', 'snap'] : ['snap', 'plain']) {
      const rec = await nebula.invoke(`${name}-${v}`, input, { mode: 'cold' });
      if (!rec.ok) throw new Error(`${name}-${v}: ${rec.error?.message}`);
      if (rec.preinitialized !== (v === 'snap')) throw new Error(`${name}-${v}: preinitialized ${rec.preinitialized}`);
      if (i >= 2) rows[v].push(rec); // the first two rounds wait for V8's optimised code
    }
  const a = JSON.stringify(rows.plain[0].result);
  const b = JSON.stringify(rows.snap[0].result);
  if (a !== b) throw new Error(`${name}: results differ: ${a} vs ${b}`);

  console.log(`\n${name} (${JSON.stringify(input)} -> ${a})`);
  console.log(`${''.padEnd(18)}${'module'.padStart(12)}${'snapshot'.padStart(12)}${'ratio'.padStart(9)}`);
  const line = (label, x, y, f = (v) => v.toFixed(3)) =>
    console.log(`${label.padEnd(18)}${f(x).padStart(12)}${f(y).padStart(12)}${`${(y / x).toFixed(2)}x`.padStart(9)}`);
  for (const [label, f] of [
    ['totalMs', (r) => r.timing.totalMs],
    ['startupMs', (r) => r.timing.startupMs],
    ['instantiate ms', (r) => r.timing.phases.instantiate ?? 0],
    ['execMs', (r) => r.timing.execMs],
  ])
    line(label, median(rows.plain.map(f)), median(rows.snap.map(f)));
  const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
  const s = info.snapshot;
  line('module size', s.originalBytes, s.snapshotBytes, kib);
  line('initial memory', s.originalMemoryBytes, s.snapshotMemoryBytes, kib);
  line('deploy ms', plainMs, snapMs, (v) => v.toFixed(1));
  console.log(`snapshot: ${s.snapshotMs.toFixed(1)} ms by ${s.tool} (its process, its compile and the initialiser)`);
}
