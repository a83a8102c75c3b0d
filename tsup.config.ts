import { defineConfig } from 'tsup';

// No source maps: the output is readable, unminified JavaScript with the source's names, so stack
// traces already point at code a person can read; maps would double the package's own size.
export default defineConfig([
  {
    // ESM: the public library plus the entry points loaded by path at run time: the CLI
    // (package.json `bin`) and the Wasm worker (started with `new Worker(file)`). Code they share
    // goes into chunks once instead of into each entry.
    entry: { index: 'src/index.ts', 'cli/main': 'src/cli/main.ts', 'runtimes/wasm/worker': 'src/runtimes/wasm/worker/worker.ts' },
    format: ['esm'],
    dts: { entry: { index: 'src/index.ts' } },
    sourcemap: false,
    clean: false,
    target: 'node20',
    splitting: true,
  },
  {
    // CJS for `require('nebula-faas')`: the library only (the worker and the CLI are ESM). Its
    // declarations, dist/index.d.cts, are a copy of dist/index.d.ts made by `npm run build`
    // (the same text, read as CommonJS), which saves a second declaration build.
    entry: { index: 'src/index.ts' },
    format: ['cjs'],
    dts: false,
    sourcemap: false,
    clean: false,
    target: 'node20',
    shims: true,
    splitting: false,
  },
]);
