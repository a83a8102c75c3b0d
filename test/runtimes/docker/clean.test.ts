import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Nebula } from '../../../src/index.js';
import { main } from '../../cli/run-cli.js';
import { compile, dockerAvailable } from './engine.js';

const enabled = dockerAvailable();
const d = enabled ? describe : describe.skip;

/** True when the engine has this image. */
const has = (image: string) => spawnSync('docker', ['image', 'inspect', image], { stdio: 'ignore' }).status === 0;

d('removing what the Docker runtime keeps', () => {
  it('keeps a built image after close(), and close({ removeImages }) removes it and says so', async () => {
    // A program of its own (a unique string inside), so its image is this test's alone.
    const marker = randomUUID();
    const { own } = compile({ own: `#include <stdio.h>\nint main(void){puts("\\"${marker}\\"");return 0;}` });
    const first = new Nebula({ builtins: false, meter: null });
    const [info] = await first.deploy({ name: 'own', docker: { binary: own! } });
    const image = info!.artifacts.docker!.image!;
    expect(image).toMatch(/^nebula-faas\/own:[0-9a-f]{16}$/);
    // What ran is recorded: the binary's path and sha256, the image and its id.
    const rec = await first.invoke('own', null, { runtime: 'docker' });
    expect(rec.result).toBe(marker);
    expect(rec.artifact).toMatchObject({ path: own, image, digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) });
    expect(rec.artifact!.imageId).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(rec.artifact!.imageId).not.toBe(rec.artifact!.digest);
    await first.close();
    expect(has(image)).toBe(true);

    // `nebula clean --dry-run` lists it and removes nothing.
    const listed = spawnSync(process.execPath, [main, 'clean', '--dry-run', '--json'], { encoding: 'utf8' });
    expect(listed.status, listed.stderr).toBe(0);
    const items = (JSON.parse(listed.stdout) as { items: Array<{ kind: string; name: string; removed: boolean }> })
      .items;
    expect(items).toContainEqual(expect.objectContaining({ kind: 'image', name: image, removed: false }));
    expect(has(image)).toBe(true);

    const second = new Nebula({ builtins: false, meter: null });
    await second.deploy({ name: 'own', docker: { binary: own! } });
    const removed = await second.close({ removeImages: true });
    expect(removed).toContainEqual(expect.objectContaining({ kind: 'image', name: image, removed: true }));
    expect(has(image)).toBe(false);
  });
});
