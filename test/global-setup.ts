/**
 * Around the whole suite: what the tests leave behind. Images and volumes that nebula-faas keeps
 * on purpose between runs (a function's image, reused by the next deploy; the warm-mode
 * supervisor's volume) are shared by the test files, so the suite removes those it created once
 * every file has run. Temporary folders are each test's own to remove (test/temp-dir.ts): one
 * left behind fails the run, named, after it has been removed.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Folders the test files share across files, removed here rather than by one of them. */
const SHARED = ['nebula-wasm-fixtures'];

function docker(...args: string[]): string[] | undefined {
  try {
    return execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 60_000 })
      .split('\n')
      .filter(Boolean);
  } catch {
    return undefined;
  }
}

/** nebula-faas images (every tag) and volumes, and test images, in the engine now. */
function engineItems(): { images: string[]; volumes: string[] } | undefined {
  const images = docker('images', '--format', '{{.Repository}}:{{.Tag}}');
  if (!images) return undefined;
  return {
    images: images.filter((i) => /^nebula-(faas|test)\//.test(i)),
    volumes: docker('volume', 'ls', '-q', '--filter', 'label=nebula-faas') ?? [],
  };
}

const ours = (name: string) => name.startsWith('nebula-');

export default function setup(): () => void {
  const tmpBefore = new Set(readdirSync(tmpdir()).filter(ours));
  const before = engineItems();
  return () => {
    const leftFolders = readdirSync(tmpdir()).filter((n) => ours(n) && !tmpBefore.has(n));
    for (const name of leftFolders) rmSync(join(tmpdir(), name), { recursive: true, force: true });
    const after = engineItems();
    if (before && after) {
      // Containers are each runtime's to remove (and are checked by the Docker tests); these stay shared to the end.
      const volumes = after.volumes.filter((v) => !before.volumes.includes(v));
      if (volumes.length) docker('volume', 'rm', ...volumes);
      const images = after.images.filter((i) => !before.images.includes(i));
      if (images.length) docker('rmi', ...images);
    }
    const leaked = leftFolders.filter((n) => !SHARED.includes(n));
    if (leaked.length)
      throw new Error(
        `The tests left ${leaked.length} folder(s) in ${tmpdir()} (now removed): ${leaked.join(', ')}. A test removes what it makes: use tempDir() from test/temp-dir.ts.`,
      );
  };
}
