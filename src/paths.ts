/** Where the package's own files (built-in functions, worker script) live on disk. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/** The nebula-faas package root (the folder of its package.json), from src/ or dist/ alike. */
export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'nebula-faas') return (root = dir);
      } catch {
        // not ours; keep walking up
      }
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('nebula-faas: cannot find the package root from ' + import.meta.url);
    dir = parent;
  }
}

/** The folder holding the built-in functions' sources and built artifacts. */
export function functionsDir(): string {
  return join(packageRoot(), 'functions');
}
