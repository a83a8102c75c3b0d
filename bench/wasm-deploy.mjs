// Deploy time of the built-in Wasm functions with an empty artifact cache, in fresh processes, as
// a user's first run pays it: the first component deployed (fib) on its own, then the rest (the
// other four components and the two core modules), each in a new Nebula with a new cache folder.
// With a second package folder (another revision: its `dist/` built, its dependencies resolvable)
// both run alternately in the same run and the ratios are printed.
// Run: npm run build && node bench/wasm-deploy.mjs [runs] [other-package-dir]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { median } from './stats.mjs';

const here = fileURLToPath(new URL('..', import.meta.url));
const runs = Number(process.argv[2] ?? 7);
const dirs = [process.argv[3] && resolve(process.argv[3]), here].filter(Boolean);
const labels = dirs.length === 2 ? ['other', 'this tree'] : ['this tree'];

// One cold process: deploy times in ms (wall clock, performance.now()), printed as JSON.
const script = (dir, cacheDir) => `
const { Nebula } = await import(${JSON.stringify(pathToFileURL(join(dir, 'dist', 'index.js')).href)});
const wasm = (p) => ${JSON.stringify(join(here, 'functions', 'wasm'))} + '/' + p;
const nebula = new Nebula({ builtins: false, wasm: { cacheDir: ${JSON.stringify(cacheDir)}, workers: 1 } });
let t = performance.now();
await nebula.deploy({ name: 'fib', wasm: wasm('fib.wasm') });
const first = performance.now() - t;
t = performance.now();
for (const f of ['exponential', 'factorial', 'prime', 'hash']) await nebula.deploy({ name: f, wasm: wasm(f + '.wasm') });
for (const f of ['fib', 'prime']) await nebula.deploy({ name: f + '-core', wasm: wasm('core/' + f + '.wasm') });
const rest = performance.now() - t;
const ok = (await nebula.invoke('fib-core', 20)).result === 6765 && (await nebula.invoke('hash', 1)).ok;
await nebula.close();
console.log(JSON.stringify({ first, rest, ok }));`;

const results = dirs.map(() => ({ first: [], rest: [] }));
for (let i = 0; i < runs; i++)
  for (const [j, dir] of dirs.entries()) {
    const cacheDir = mkdtempSync(join(tmpdir(), 'nebula-deploy-bench-'));
    try {
      const r = JSON.parse(
        execFileSync(process.execPath, ['--input-type=module', '-e', script(dir, cacheDir)], { encoding: 'utf8' }),
      );
      if (!r.ok) throw new Error(`${labels[j]}: a deployed function gave a wrong result`);
      results[j].first.push(r.first);
      results[j].rest.push(r.rest);
    } finally {
      rmSync(cacheDir, { recursive: true, force: true });
    }
  }
const ms = (x) => `${x.toFixed(1)} ms`;
for (const [j, r] of results.entries())
  console.log(
    `${labels[j]} (${dirs[j]}): first component deploy median ${ms(median(r.first))}; then 4 components + 2 core modules median ${ms(median(r.rest))} (${runs} cold processes)`,
  );
if (results.length === 2) {
  const [a, b] = results.map((r) => ({ first: median(r.first), rest: median(r.rest) }));
  console.log(`this tree / other: first ${(b.first / a.first).toFixed(2)}x, rest ${(b.rest / a.rest).toFixed(2)}x`);
}
