import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // The tests live in test/, the config beside them; paths are from the package root.
  root: fileURLToPath(new URL('..', import.meta.url)),
  // Test fixtures written as users write plug-ins (`import ... from 'nebula-faas'`) get the
  // source the tests run, so a plug-in and the test share one registry and one NebulaError.
  resolve: {
    alias: [{ find: /^nebula-faas$/, replacement: fileURLToPath(new URL('../src/index.ts', import.meta.url)) }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    // The CLI and the Wasm worker run from dist/: a build older than src/ fails the run at once.
    // Removes what the files share (images, volumes) at the end, and fails on a temporary folder left behind.
    globalSetup: ['test/dist-fresh.ts', 'test/global-setup.ts'],
    // Real engines (Docker, Modbus sockets, Chromium) are slow to start; no test asserts a duration.
    testTimeout: 120_000,
    hookTimeout: 180_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
