// Soak test of the Wasm runtime: 10 000 mixed invocations from 16 concurrent callers in every mode
// (good and bad inputs, traps, exits, timeouts, aborts, output and memory over their caps, large
// inputs, hostile deploys), run in a child process so a host crash is seen from outside. The
// hostile classes: modules whose instances would make the host hold too much (a 10 000 000-entry
// table in 153 bytes, 3 000 000 entries against a 1 MiB cap, a million passive element entries),
// imports of the wrong signature (proc_exit(i64)), a `_start` that is a global, an exit caught by
// the module's own handler, out-of-bounds pointers to WASI calls, tables grown at run time,
// unsnapshottable globals, and a function that crashes its worker thread (in a second pool whose
// workers get the smallest heap they start with) beside functions that must keep running there.
// Prints host crashes, unhandled rejections, lost records, wrong results, contaminated runs (a
// well-behaved function's record changed by what ran before or beside it) and RSS growth.
// Run: npm run build && node bench/soak-wasm.mjs [invocations] [callers]
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const N = Number(process.argv[2] ?? 10_000);
const CALLERS = Number(process.argv[3] ?? 16);
const dir = mkdtempSync(join(tmpdir(), 'nebula-soak-'));
const C = {
  echo: `#include <stdio.h>\nint main(void){int c; while((c=getchar())!=EOF) putchar(c); return 0;}`,
  loop: `int main(void){volatile unsigned long i=0; for(;;) i++; return 0;}`,
  trap: `int main(void){__builtin_trap(); return 0;}`,
  bigjson: `#include <stdio.h>\nint main(void){long n; if(scanf("%ld",&n)!=1) return 2; putchar('['); for(long i=0;i<n;i++) printf(i?",%ld":"%ld",i); putchar(']'); return 0;}`,
  bigmalloc: `#include <stdlib.h>\n#include <stdio.h>\nchar *volatile keep;\nint main(void){char*p=malloc(200<<20); if(!p){fprintf(stderr,"malloc failed\\n"); return 1;} p[0]=1; keep=p; return 0;}`,
  stderrflood: `#include <unistd.h>\nint main(void){for(long i=0;i<200000;i++) write(2,"x",1); write(1,"1",1); return 0;}`,
  /** A static counter and buffer: a reused instance not put back would show runs 2, or the old input. */
  counter: `#include <stdio.h>\n#include <string.h>\nstatic int runs; static char seen[64];\nint main(void){char in[32]={0}; fgets(in,sizeof in,stdin); printf("{\\"runs\\":%d,\\"before\\":\\"%s\\"}",++runs,seen); strncpy(seen,in,sizeof seen-1); return 0;}`,
};
for (const [name, src] of Object.entries(C)) {
  writeFileSync(join(dir, `${name}.c`), src);
  execFileSync('clang', ['--target=wasm32-wasi', '-O2', join(dir, `${name}.c`), '-o', join(dir, `${name}.wasm`)]);
}
// Hostile modules (text format, assembled with jco's wasm-tools): start functions that loop or trap, 1 GiB of initial memory.
const { parse } = await import('@bytecodealliance/jco');
const exit = '(import "wasi_snapshot_preview1" "proc_exit" (func $e (param i32)))';
const command = '(func (export "_start") (call $e (i32.const 0)))';
const mem = '(memory (export "memory") 1)';
const WAT = {
  startLoop: `(module ${exit} ${mem} ${command} (func $s (loop $l (br $l))) (start $s))`,
  startTrap: `(module ${exit} ${mem} ${command} (func $s unreachable) (start $s))`,
  bigInitial: `(module ${exit} (memory (export "memory") 16384) ${command})`,
  table10m: `(module ${exit} ${mem} (table 10000000 funcref) ${command})`,
  table3m: `(module ${exit} ${mem} (table 3000000 funcref) ${command})`,
  elems: `(module ${exit} ${mem} ${command} (func $f) (elem func ${'$f '.repeat(1_000_000)}))`,
  exit64: `(module (import "wasi_snapshot_preview1" "proc_exit" (func $e (param i64))) ${mem} (func (export "_start") (call $e (i64.const 3))))`,
  startGlobal: `(module ${exit} ${mem} (global (export "_start") i32 (i32.const 0)))`,
  // exit(clock_time_get(0, 0, 65535) + random_get(-16, 16)): 42 when both answer EFAULT.
  oob: `(module ${exit} (import "wasi_snapshot_preview1" "clock_time_get" (func $c (param i32 i64 i32) (result i32)))
    (import "wasi_snapshot_preview1" "random_get" (func $r (param i32 i32) (result i32))) ${mem}
    (func (export "_start") (call $e (i32.add (call $c (i32.const 0) (i64.const 0) (i32.const 65535)) (call $r (i32.const -16) (i32.const 16))))))`,
  // exit(table.grow(null, 2000) + 1): 2 where the table may grow to 5000, 0 where it keeps its size.
  growFits: `(module ${exit} ${mem} (table 1 5000 funcref) (func (export "_start") (call $e (i32.add (table.grow 0 (ref.null func) (i32.const 2000)) (i32.const 1)))))`,
  growHuge: `(module ${exit} ${mem} (table 1 10000000 funcref) (func (export "_start") (call $e (i32.add (table.grow 0 (ref.null func) (i32.const 2000)) (i32.const 1)))))`,
  v128: `(module ${exit} ${mem} (global $g (mut v128) (v128.const i64x2 0 0)) ${command})`,
  // Grows its table by 240 000 entries: more than the smallest worker heap holds.
  crasher: `(module ${exit} ${mem} (table 1 240001 funcref) (func (export "_start") (drop (table.grow 0 (ref.null func) (i32.const 240000))) (call $e (i32.const 0))))`,
};
for (const [name, text] of Object.entries(WAT)) writeFileSync(join(dir, `${name}.wasm`), await parse(text));
// try { proc_exit(7) } catch_all {}; return: legacy exception handling, which the text assembler
// here does not write. Type 0 (i32)->(), type 1 ()->(); proc_exit is function 0, _start function 1.
const u8 = (...parts) => Uint8Array.from(parts.flat());
const sec = (id, ...body) => [id, body.flat().length, ...body.flat()];
const str = (t) => [t.length, ...Buffer.from(t)];
writeFileSync(
  join(dir, 'catchExit.wasm'),
  u8(
    [0, 0x61, 0x73, 0x6d, 1, 0, 0, 0],
    sec(1, [2, 0x60, 1, 0x7f, 0, 0x60, 0, 0]),
    sec(2, [1, ...str('wasi_snapshot_preview1'), ...str('proc_exit'), 0, 0]),
    sec(3, [1, 1]),
    sec(5, [1, 0, 1]),
    sec(7, [2, ...str('memory'), 2, 0, ...str('_start'), 0, 1]),
    sec(10, [1, 10, 0, 0x06, 0x40, 0x41, 7, 0x10, 0, 0x19, 0x0b, 0x0b]),
  ),
);
const entry = pathToFileURL(fileURLToPath(new URL('../dist/index.js', import.meta.url))).href;

const child = `
import { readFileSync } from 'node:fs';
import { Nebula, WasmRuntime } from ${JSON.stringify(entry)};
const dir = ${JSON.stringify(dir)};
let unhandled = 0;
process.on('unhandledRejection', (e) => { unhandled++; console.error('unhandled rejection:', e); });
const nebula = new Nebula();
const w = (name) => readFileSync(dir + '/' + name + '.wasm');
await nebula.deploy([
  { name: 'echo', wasm: w('echo') }, { name: 'loop', wasm: w('loop') }, { name: 'trap', wasm: w('trap') },
  { name: 'bigjson', wasm: w('bigjson') }, { name: 'bigmalloc', wasm: w('bigmalloc'), limits: { memoryMiB: 64 } },
  { name: 'stderrflood', wasm: w('stderrflood') }, { name: 'counter', wasm: w('counter') },
  { name: 'catch-exit', wasm: w('catchExit') }, { name: 'oob', wasm: w('oob') }, { name: 'grow-fits', wasm: w('growFits') },
  { name: 'grow-huge', wasm: w('growHuge') }, { name: 'v128', wasm: w('v128') },
]);
await nebula.prepare(['fib'], ['wasm']);
let ends = 0;
const hostile = {
  startLoop: w('startLoop'), startTrap: w('startTrap'), bigInitial: w('bigInitial'), table10m: w('table10m'),
  table3m: w('table3m'), elems: w('elems'), exit64: w('exit64'), startGlobal: w('startGlobal'),
};
// A second pool whose one worker has the smallest heap it starts with: the crasher kills it on every run.
let crashPool;
for (let mib = 4; mib <= 32 && !crashPool; mib++) {
  const n = new Nebula({ runtimes: { wasm: new WasmRuntime({ workers: 1, workerHeapMiB: mib }) } });
  if ((await n.invoke('fib', 10)).ok) crashPool = n;
  else await n.close();
}
await crashPool.deploy([{ name: 'crasher', wasm: w('crasher') }, { name: 'echo', wasm: w('echo') }]);
crashPool.on('invocation:end', () => ends++);
nebula.on('invocation:end', () => ends++);
const fib = (n) => (n < 2 ? n : fib(n - 1) + fib(n - 2));
const modes = ['cold', 'prewarmed', 'warm'];
/** Each case: invoke, then check the record; returns a complaint or null. */
const cases = [
  (i) => [nebula.invoke('fib', i % 25, { mode: modes[i % 3] }), (r) => (r.ok && r.result === fib(i % 25) ? null : 'fib')],
  (i) => [nebula.invoke('fib', 'abc', { mode: modes[i % 3] }), (r) => (r.error?.code === 'FUNCTION_FAILED' && r.error.exitCode === 2 ? null : 'bad input')],
  (i) => [nebula.invoke('trap', i, { mode: modes[i % 3] }), (r) => (r.error?.code === 'FUNCTION_FAILED' && /trapped/.test(r.error.message) ? null : 'trap')],
  (i) => [nebula.invoke('loop', null, { timeoutMs: 20 + (i % 30), mode: modes[i % 3] }), (r) => (r.error?.code === 'TIMEOUT' ? null : 'timeout')],
  (i) => { const input = { i, s: 'x'.repeat((i * 7919) % 100_000) }; return [nebula.invoke('echo', input, { mode: modes[i % 3] }), (r) => (r.ok && r.result.i === i && r.result.s.length === input.s.length ? null : 'echo')]; },
  (i) => [nebula.invoke('bigjson', 300_000, { mode: modes[i % 3] }), (r) => (r.error?.code === 'OUTPUT_LIMIT' ? null : 'output cap')],
  (i) => [nebula.invoke('bigmalloc', null, { mode: modes[i % 3] }), (r) => (r.error?.code === 'MEMORY_LIMIT' ? null : 'memory cap')],
  (i) => [nebula.invoke('stderrflood', null, { mode: modes[i % 3] }), (r) => (r.ok && r.result === 1 ? null : 'stderr flood')],
  (i) => { const ac = new AbortController(); const p = nebula.invoke('loop', null, { signal: ac.signal }); setTimeout(() => ac.abort(), i % 20); return [p, (r) => (r.error?.code === 'ABORTED' ? null : 'abort')]; },
  (i) => { const names = Object.keys(hostile); const name = names[i % names.length]; return [nebula.deploy({ name: 'hostile', wasm: hostile[name], limits: { memoryMiB: name === 'table3m' ? 1 : 64 } }).then(() => ({ deployed: true }), (e) => ({ error: e })), (r) => (r.error?.code === 'INVALID_FUNCTION' ? null : 'hostile deploy ' + name)]; },
  (i) => [nebula.invoke('counter', 'run' + i, { mode: modes[i % 3] }), (r) => (r.ok && r.result.runs === 1 && r.result.before === '' ? null : 'contaminated: counter')],
  (i) => [nebula.invoke('catch-exit', null, { mode: modes[i % 3] }), (r) => (r.error?.code === 'FUNCTION_FAILED' && r.error.exitCode === 7 ? null : 'caught exit')],
  (i) => [nebula.invoke('oob', null, { mode: modes[i % 3] }), (r) => (r.error?.exitCode === 42 ? null : 'out-of-bounds pointers')],
  (i) => { const huge = i % 2 === 1; return [nebula.invoke(huge ? 'grow-huge' : 'grow-fits', null, { mode: modes[i % 3] }), (r) => ((huge ? r.ok : r.error?.exitCode === 2) ? null : 'table.grow')]; },
  (i) => [nebula.invoke('v128', null, { mode: modes[i % 3] }), (r) => (r.ok && r.sandbox !== 'reused' ? null : 'v128 global')],
  (i) => [crashPool.invoke('crasher', null, { mode: modes[i % 3] }), (r) => (r.error?.code === 'FUNCTION_FAILED' && /crashed the wasm worker/.test(r.error.message) ? null : 'crasher')],
  (i) => { const input = { i, s: 'y'.repeat(i % 5000) }; return [crashPool.invoke('echo', input, { mode: modes[i % 3] }), (r) => (r.ok && r.result.i === i && r.result.s === input.s ? null : 'contaminated: echo beside the crasher')]; },
];
const weights = [40, 8, 8, 4, 20, 2, 4, 2, 4, 3, 8, 3, 3, 3, 3, 1, 3];
const CONTAMINATION = new Set([0, 4, 10, 16]);
const pick = []; weights.forEach((w, k) => { for (let j = 0; j < w; j++) pick.push(k); });
const wrong = {}; let lost = 0; let invocations = 0; let deploys = 0; let contaminated = 0;
const rss0 = process.memoryUsage().rss;
const rssSeries = [];
let next = 0;
let finished = 0;
const t0 = performance.now();
await Promise.all(Array.from({ length: ${CALLERS} }, async () => {
  for (let i = next++; i < ${N}; i = next++) {
    const k = pick[(i * 2654435761 >>> 0) % pick.length];
    const [p, check] = cases[k](i);
    if (k === 9) deploys++; else invocations++;
    let timer;
    const r = await Promise.race([p, new Promise((res) => (timer = setTimeout(() => res('lost'), 120_000)))]);
    clearTimeout(timer);
    if (++finished % ${Math.max(1, Math.floor(N / 10))} === 0) rssSeries.push(Math.round(process.memoryUsage().rss / 2 ** 20));
    if (r === 'lost') { lost++; continue; }
    const complaint = check(r);
    if (complaint && CONTAMINATION.has(k)) contaminated++;
    if (complaint) { wrong[complaint] = (wrong[complaint] ?? 0) + 1; if (wrong[complaint] <= 3) console.error('wrong', complaint, JSON.stringify(r).slice(0, 400)); }
  }
}));
const seconds = (performance.now() - t0) / 1000;
const rss1 = process.memoryUsage().rss;
await nebula.close();
await crashPool.close();
console.log(JSON.stringify({ invocations, deploys, seconds, records: ends, lost, wrong, contaminated, unhandled, rssStartMiB: rss0 / 2 ** 20, rssEndMiB: rss1 / 2 ** 20, rssSeries }));
`;
writeFileSync(join(dir, 'soak.mjs'), child);
const started = performance.now();
const proc = spawn(process.execPath, [join(dir, 'soak.mjs')], {
  cwd: fileURLToPath(new URL('..', import.meta.url)),
  stdio: ['ignore', 'pipe', 'inherit'],
});
let out = '';
proc.stdout.on('data', (d) => (out += d));
const [code, signal] = await new Promise((r) => proc.on('exit', (c, s) => r([c, s])));
const line = out.trim().split('\n').at(-1) ?? '';
console.log(
  `soak: ${N} mixed Wasm invocations and hostile deploys from ${CALLERS} callers, ${((performance.now() - started) / 1000).toFixed(1)} s`,
);
console.log(`host crashes: ${code === 0 && !signal ? 0 : `1 (exit code ${code}, signal ${signal})`}`);
if (line.startsWith('{')) {
  const s = JSON.parse(line);
  const wrongTotal = Object.values(s.wrong).reduce((a, b) => a + b, 0);
  console.log(
    `invocations ${s.invocations}, records ${s.records} (lost ${s.lost + (s.invocations - s.records)}), hostile deploys ${s.deploys}, in ${s.seconds.toFixed(1)} s`,
  );
  console.log(`wrong results: ${wrongTotal} ${wrongTotal ? JSON.stringify(s.wrong) : ''}`);
  console.log(`contaminated runs: ${s.contaminated}`);
  console.log(`unhandled rejections: ${s.unhandled}`);
  console.log(
    `RSS: ${s.rssStartMiB.toFixed(0)} MiB after start-up -> ${s.rssEndMiB.toFixed(0)} MiB at the end (+${(s.rssEndMiB - s.rssStartMiB).toFixed(0)} MiB); every tenth of the run: ${s.rssSeries.join(', ')} MiB`,
  );
} else console.log('no summary from the host (it crashed before the end)');
rmSync(dir, { recursive: true, force: true });
process.exitCode = code === 0 && line.startsWith('{') ? 0 : 1;
