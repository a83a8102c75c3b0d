// Cold start of the Wasm runtime (invoke() call until the function's code starts, fresh instance,
// compiled code cached) against a bare `new WebAssembly.Instance` of the same small clang-built
// module, and against instantiating jco's transpiled glue afresh, all measured in this process.
// Run: npm run build && node bench/wasm-coldstart.mjs [invocations]
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Nebula } from 'nebula-faas';
import { fmt, median, quantile } from './stats.mjs';

const N = Number(process.argv[2] ?? 400);
const core = readFileSync(fileURLToPath(new URL('../functions/wasm/core/fib.wasm', import.meta.url)));
const module = new WebAssembly.Module(core);
const stubs = {};
for (const i of WebAssembly.Module.imports(module)) (stubs[i.module] ??= {})[i.name] = () => 0;

const nebula = new Nebula();
await nebula.prepare(['fib'], ['wasm']);
// The same component instantiated through jco's generated glue on every call, for comparison.
const viaGlue = new Nebula({ wasm: { componentHost: 'glue' } });
await viaGlue.prepare(['fib'], ['wasm']);
for (let i = 0; i < 20; i++) await viaGlue.invoke('fib', 1);
for (let i = 0; i < 50; i++) await nebula.invoke('fib', 1); // let both workers start and warm up

const bare = [];
const cold = [];
const prewarmed = [];
const glue = [];
for (let i = 0; i < N; i++) {
  // Interleaved, so drift of the machine affects all three alike.
  const t0 = performance.now();
  new WebAssembly.Instance(module, stubs);
  bare.push(performance.now() - t0);
  cold.push((await nebula.invoke('fib', 1)).timing.startupMs);
  prewarmed.push((await nebula.invoke('fib', 1, { mode: 'prewarmed' })).timing.startupMs);
  if (i % 4 === 0) glue.push((await viaGlue.invoke('fib', 1)).timing.startupMs);
}
await nebula.close();
await viaGlue.close();

const row = (name, xs) =>
  console.log(`${name.padEnd(40)} p50 ${fmt(median(xs)).padStart(10)}   p95 ${fmt(quantile(xs, 0.95)).padStart(10)}`);
console.log(`wasm cold start, ${N} invocations each, fib(1)`);
row('bare new WebAssembly.Instance', bare);
row('nebula invoke, cold (startupMs)', cold);
row('nebula invoke, prewarmed (startupMs)', prewarmed);
row('nebula invoke, cold, through jco glue', glue);
console.log(`ratio cold / bare instance (p50): ${(median(cold) / median(bare)).toFixed(2)}x   (target <= 3x)`);
console.log(
  `ratio prewarmed / bare instance (p50): ${(median(prewarmed) / median(bare)).toFixed(2)}x   (target <= 1.5x)`,
);
