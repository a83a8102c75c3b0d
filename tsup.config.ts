import { defineConfig } from 'tsup';

export default defineConfig([
  {
    // The public library: ESM + CJS + declarations.
    entry: { index: 'src/index.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    shims: true,
    splitting: false,
  },
  {
    // Separate entry points loaded by path at run time: the CLI (package.json `bin`)
    // and the Wasm worker (started with `new Worker(file)`).
    entry: { 'cli/main': 'src/cli/main.ts', 'runtimes/wasm/worker': 'src/runtimes/wasm/worker.ts' },
    format: ['esm'],
    sourcemap: true,
    clean: false,
    target: 'node20',
    shims: true,
    splitting: false,
  },
]);
