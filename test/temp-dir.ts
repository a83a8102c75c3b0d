/**
 * Temporary folders for tests: each is removed once its test file has run, so a full `npm test`
 * leaves nothing in $TMPDIR (the suite's global teardown checks it).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

const made: string[] = [];

// Registered once per test file (each file imports its own copy of this module).
afterAll(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A new empty folder `$TMPDIR/nebula-<name>-XXXXXX`, removed after the last test of the file. */
export function tempDir(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `nebula-${name}-`));
  made.push(dir);
  return dir;
}
