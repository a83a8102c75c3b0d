import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // The tests live in test/, the config beside them; paths are from the package root.
  root: fileURLToPath(new URL('..', import.meta.url)),
  test: {
    include: ['test/**/*.test.ts'],
    // Removes what the files share (images, volumes) at the end, and fails on a temporary folder left behind.
    globalSetup: ['test/global-setup.ts'],
    // Real engines (Docker, Modbus sockets, Chromium) are slow to start; no test asserts a duration.
    testTimeout: 120_000,
    hookTimeout: 180_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
