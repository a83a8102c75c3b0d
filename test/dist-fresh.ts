/**
 * Before any test runs: the built package in dist/ must be as new as src/, because some tests run
 * it (the `nebula` command, the Wasm runtime's worker thread). A stale build fails the run at once,
 * naming the file that changed, instead of testing old code. `npm test` builds first.
 */
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** The newest file under `dir`: its path and modification time. */
function newest(dir: string): { path: string; mtimeMs: number } {
  let best = { path: dir, mtimeMs: 0 };
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
    const path = join(entry.parentPath, entry.name);
    const { mtimeMs } = statSync(path);
    if (mtimeMs > best.mtimeMs) best = { path, mtimeMs };
  }
  return best;
}

export default function distIsFresh(): void {
  const built = ['index.js', 'cli/main.js', 'runtimes/wasm/worker.js'].map(
    (f) => statSync(join(root, 'dist', f), { throwIfNoEntry: false })?.mtimeMs ?? 0,
  );
  const source = newest(join(root, 'src'));
  if (Math.min(...built) < source.mtimeMs)
    throw new Error(
      `dist/ is older than src/ (${relative(root, source.path)} changed after the last build): run \`npm run build\` first (npm test does), so the tests that run the built package test this code.`,
    );
}
