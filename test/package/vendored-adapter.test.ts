import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot, preview1AdapterCommandPath } from '../../src/paths.js';

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

describe('the vendored preview1 command adapter', () => {
  const vendored = preview1AdapterCommandPath();

  it('is the one the jco development dependency ships (the built-in components were adapted with it)', () => {
    const shipped = join(packageRoot(), 'node_modules', '@bytecodealliance', 'jco', 'lib', 'wasi_snapshot_preview1.command.wasm');
    expect(sha256(vendored)).toBe(sha256(shipped));
  });

  it('matches the digest its README states, beside its licence', () => {
    const readme = readFileSync(join(dirname(vendored), 'README.md'), 'utf8');
    expect(readme).toContain(sha256(vendored));
    expect(readFileSync(join(dirname(vendored), 'LICENSE'), 'utf8')).toContain('LLVM Exceptions to the Apache 2.0 License');
  });
});
