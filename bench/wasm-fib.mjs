// fib(35) run time on the Wasm runtime against the same C source compiled natively with
// clang -O2, median of 10 runs each, side by side (A B A B).
// Run: npm run build && node bench/wasm-fib.mjs [n] [runs]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Nebula } from 'nebula-faas';
import { median } from './stats.mjs';

const n = Number(process.argv[2] ?? 35);
const runs = Number(process.argv[3] ?? 10);
const src = fileURLToPath(new URL('../functions/src/fib.c', import.meta.url));
const exe = join(mkdtempSync(join(tmpdir(), 'nebula-fib-')), 'fib');
execFileSync('clang', ['-O2', src, '-o', exe]);

// The native program's own run time: fib's work dominates; process start is measured apart and subtracted.
function native(input) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(exe, { input: String(input) });
  if (r.status !== 0) throw new Error(r.stderr.toString());
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

const nebula = new Nebula();
await nebula.prepare(['fib'], ['wasm']);
await nebula.invoke('fib', 30);
const w = [];
const nat = [];
const startOnly = [];
for (let i = 0; i < runs; i++) {
  const rec = await nebula.invoke('fib', n);
  if (!rec.ok) throw new Error(rec.error.message);
  w.push(rec.timing.execMs);
  nat.push(native(n));
  startOnly.push(native(0));
}
await nebula.close();
const natExec = median(nat) - median(startOnly);
console.log(`fib(${n}), median of ${runs} each, interleaved`);
console.log(`wasm execMs (cold instance)          ${median(w).toFixed(2)} ms`);
console.log(`native clang -O2 (wall - fib(0) wall) ${natExec.toFixed(2)} ms   (wall ${median(nat).toFixed(2)} ms, process start ${median(startOnly).toFixed(2)} ms)`);
console.log(`ratio wasm / native: ${(median(w) / natExec).toFixed(2)}x   (target <= 1.1x)`);
