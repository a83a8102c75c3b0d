// Soak test of the Wasm runtime: 10 000 mixed invocations from 16 concurrent callers in every mode
// (good and bad inputs, traps, exits, timeouts, aborts, output and memory over their caps, large
// inputs, hostile deploys), run in a child process so a host crash is seen from outside. Prints
// host crashes, unhandled rejections, lost records, wrong results and RSS growth.
// Run: npm run build && node bench/soak-wasm.mjs [invocations] [callers]
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
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
};
for (const [name, src] of Object.entries(C)) {
  writeFileSync(join(dir, `${name}.c`), src);
  execFileSync('clang', ['--target=wasm32-wasi', '-O2', join(dir, `${name}.c`), '-o', join(dir, `${name}.wasm`)]);
}
// Hostile modules (text format, assembled with jco's wasm-tools): start functions that loop or trap, 1 GiB of initial memory.
const { parse } = await import('@bytecodealliance/jco');
const exit = '(import "wasi_snapshot_preview1" "proc_exit" (func $e (param i32)))';
const command = '(func (export "_start") (call $e (i32.const 0)))';
const WAT = {
  startLoop: `(module ${exit} (memory (export "memory") 1) ${command} (func $s (loop $l (br $l))) (start $s))`,
  startTrap: `(module ${exit} (memory (export "memory") 1) ${command} (func $s unreachable) (start $s))`,
  bigInitial: `(module ${exit} (memory (export "memory") 16384) ${command})`,
};
for (const [name, text] of Object.entries(WAT)) writeFileSync(join(dir, `${name}.wasm`), await parse(text));
const entry = pathToFileURL(fileURLToPath(new URL('../dist/index.js', import.meta.url))).href;

const child = `
import { readFileSync } from 'node:fs';
import { Nebula } from ${JSON.stringify(entry)};
const dir = ${JSON.stringify(dir)};
let unhandled = 0;
process.on('unhandledRejection', (e) => { unhandled++; console.error('unhandled rejection:', e); });
const nebula = new Nebula();
const w = (name) => readFileSync(dir + '/' + name + '.wasm');
await nebula.deploy([
  { name: 'echo', wasm: w('echo') }, { name: 'loop', wasm: w('loop') }, { name: 'trap', wasm: w('trap') },
  { name: 'bigjson', wasm: w('bigjson') }, { name: 'bigmalloc', wasm: w('bigmalloc'), limits: { memoryMiB: 64 } },
  { name: 'stderrflood', wasm: w('stderrflood') },
]);
await nebula.prepare(['fib'], ['wasm']);
const hostile = { startLoop: w('startLoop'), startTrap: w('startTrap'), bigInitial: w('bigInitial') };
let ends = 0;
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
  (i) => { const name = ['startLoop', 'startTrap', 'bigInitial'][i % 3]; return [nebula.deploy({ name: 'hostile', wasm: hostile[name], limits: { memoryMiB: 64 } }).then(() => ({ deployed: true }), (e) => ({ error: e })), (r) => (r.error?.code === 'INVALID_FUNCTION' ? null : 'hostile deploy')]; },
];
const weights = [40, 8, 8, 4, 20, 2, 4, 2, 4, 1];
const pick = []; weights.forEach((w, k) => { for (let j = 0; j < w; j++) pick.push(k); });
const wrong = {}; let lost = 0; let invocations = 0; let deploys = 0;
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
    if (complaint) { wrong[complaint] = (wrong[complaint] ?? 0) + 1; if (wrong[complaint] <= 3) console.error('wrong', complaint, JSON.stringify(r).slice(0, 400)); }
  }
}));
const seconds = (performance.now() - t0) / 1000;
const rss1 = process.memoryUsage().rss;
await nebula.close();
console.log(JSON.stringify({ invocations, deploys, seconds, records: ends, lost, wrong, unhandled, rssStartMiB: rss0 / 2 ** 20, rssEndMiB: rss1 / 2 ** 20, rssSeries }));
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
  console.log(`unhandled rejections: ${s.unhandled}`);
  console.log(
    `RSS: ${s.rssStartMiB.toFixed(0)} MiB after start-up -> ${s.rssEndMiB.toFixed(0)} MiB at the end (+${(s.rssEndMiB - s.rssStartMiB).toFixed(0)} MiB); every tenth of the run: ${s.rssSeries.join(', ')} MiB`,
  );
} else console.log('no summary from the host (it crashed before the end)');
process.exitCode = code === 0 && line.startsWith('{') ? 0 : 1;
