import { defineConfig } from 'tsup';

/**
 * The public entry points, each published as ESM, CJS and declarations: the package root (the
 * engine) and its subpath exports (package.json `exports`).
 */
const entries = {
  index: 'src/index.ts',
  experiment: 'src/experiment/index.ts',
  server: 'src/server/index.ts',
  gude: 'src/meters/gude/index.ts',
  stats: 'src/stats.ts',
};

// No source maps: the output is readable, unminified JavaScript with the source's names, so stack
// traces already point at code a person can read; maps would double the package's own size.
export default defineConfig([
  {
    // ESM: the public entries plus those loaded by path at run time: the CLI (package.json `bin`)
    // and the Wasm worker (started with `new Worker(file)`). Code they share goes into chunks once
    // instead of into each entry.
    entry: { ...entries, 'cli/main': 'src/cli/main.ts', 'runtimes/wasm/worker': 'src/runtimes/wasm/worker/worker.ts' },
    format: ['esm'],
    dts: { entry: entries },
    sourcemap: false,
    clean: false,
    target: 'node20',
    splitting: true,
  },
  {
    // CJS for `require('nebula-faas')` and its subpaths (the worker and the CLI are ESM). Split
    // too, so the entries share one copy of each class: `require('nebula-faas/experiment')` and
    // `require('nebula-faas')` see the same `Nebula` and `NebulaError`.
    entry: entries,
    format: ['cjs'],
    dts: { entry: entries },
    sourcemap: false,
    clean: false,
    target: 'node20',
    shims: true,
    splitting: true,
    // Rollup turns the split ESM into CommonJS (without it tsup uses sucrase, which also rewrites
    // every `?.` and `??` into helper calls on the hot path).
    treeshake: true,
  },
]);
