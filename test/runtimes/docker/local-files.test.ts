/**
 * Files a Docker function's spec names on this machine (`{ tarball }`, `{ binary }`): only regular
 * files are read, never past the size they had when opened and never over a cap known before the
 * first byte; a device, a FIFO or a directory is refused at once, without blocking on it.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, ftruncateSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerRuntime, Nebula } from '../../../src/index.js';
import { MAX_BINARY_BYTES } from '../../../src/runtimes/docker/static-binary.js';
import { MAX_TARBALL_BYTES } from '../../../src/runtimes/docker/image.js';
import { dockerAvailable, noLeftovers } from './engine.js';

const d = dockerAvailable() ? describe : describe.skip;

/** A sparse file of `size` bytes: it takes no room on disk. */
function sparse(path: string, size: number): string {
  const fd = openSync(path, 'w');
  ftruncateSync(fd, size);
  closeSync(fd);
  return path;
}

d('files from outside for the Docker runtime', () => {
  let dir: string;
  let runtime: DockerRuntime;
  let nebula: Nebula;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'nebula-files-'));
    execFileSync('mkfifo', [join(dir, 'fifo')]);
    mkdirSync(join(dir, 'folder'));
    writeFileSync(join(dir, 'empty.tar'), '');
    runtime = new DockerRuntime();
    nebula = new Nebula({ builtins: false, runtimes: { docker: runtime } });
  });
  afterAll(async () => {
    await nebula.close();
    expect(await noLeftovers(runtime.instanceId)).toEqual([]);
    rmSync(dir, { recursive: true, force: true });
  });

  const refused = (source: { tarball: string } | { binary: string }, why: RegExp) =>
    expect(nebula.deploy({ name: 'f', docker: source })).rejects.toMatchObject({
      code: 'INVALID_FUNCTION',
      message: expect.stringMatching(why),
    });

  it('a device (/dev/zero, /dev/urandom) is refused as an image archive and as a binary', async () => {
    await refused({ tarball: '/dev/zero' }, /the image archive \/dev\/zero is a device: only a regular file is read/);
    await refused({ tarball: '/dev/urandom' }, /is a device/);
    await refused({ binary: '/dev/zero' }, /the binary \/dev\/zero is a device/);
  });

  it('a FIFO is refused without waiting for a writer', async () => {
    await refused({ tarball: join(dir, 'fifo') }, /is a FIFO/);
    await refused({ binary: join(dir, 'fifo') }, /is a FIFO/);
  });

  it('a directory, an empty archive and a missing file are refused', async () => {
    await refused({ tarball: join(dir, 'folder') }, /is a directory/);
    await refused({ tarball: join(dir, 'empty.tar') }, /is empty/);
    await refused({ tarball: join(dir, 'none.tar') }, /does not exist/);
  });

  it('a file over the cap is refused before its first byte is read', async () => {
    await refused(
      { tarball: sparse(join(dir, 'huge.tar'), MAX_TARBALL_BYTES + 1) },
      new RegExp(`over the ${MAX_TARBALL_BYTES}-byte cap`),
    );
    await refused(
      { binary: sparse(join(dir, 'huge.bin'), MAX_BINARY_BYTES + 1) },
      new RegExp(`over the ${MAX_BINARY_BYTES}-byte cap`),
    );
    expect(nebula.has('f')).toBe(false);
  });
});
