/**
 * Puts the supervisor (the process 1 of warm containers, a static binary shipped in
 * `src/runtimes/docker/supervisor/linux-<arch>/`, beside its C source) into a named volume the engine can mount read-only into any
 * container, local or remote engine alike: a FROM scratch image holds the binary, and creating a
 * container from it with the empty volume mounted makes the engine copy the binary in.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { nowMs } from '../../clock.js';
import { NebulaError } from '../../errors.js';
import { packageRoot } from '../../paths.js';
import { by } from './deadline.js';
import { engineError } from './engine.js';
import { buildScratchImage, DEPLOY_CALL_MS } from './image.js';
import { SUPERVISOR_DIR, SUPERVISOR_PATH } from './isolation.js';
import { LABEL } from './owner.js';
import type { Reaper } from './reaper.js';

/** The supervisor binary for an architecture (Docker's names: amd64, arm64). */
export function supervisorBinary(arch: string): string {
  return join(packageRoot(), 'src', 'runtimes', 'docker', 'supervisor', `linux-${arch}`, 'nebula-supervisor');
}

/** The image a supervisor volume was filled from (both are named for the binary's content hash). */
export const supervisorImageOf = (volume: string): string => `nebula-faas/supervisor:${volume.split('-').pop()}`;

/**
 * Makes sure the engine has the supervisor's volume; returns its name
 * (`nebula-faas-supervisor-<content hash>`, labelled `nebula-faas`).
 * @throws NebulaError `RUNTIME_UNAVAILABLE` (no binary for the engine's architecture, engine errors)
 */
export async function ensureSupervisorVolume(
  docker: Docker,
  arch: string,
  labels: Record<string, string>,
  reaper: Reaper,
): Promise<string> {
  const path = supervisorBinary(arch);
  let binary: Buffer;
  try {
    binary = await readFile(path);
  } catch (e) {
    throw new NebulaError(
      'RUNTIME_UNAVAILABLE',
      `Warm mode needs the supervisor built for ${arch} (${path}), and there is none: ` +
        'build it with src/runtimes/docker/supervisor/build.sh, or use the cold or prewarmed mode.',
      { cause: e },
    );
  }
  const dockerfile = `FROM scratch\nCOPY nebula-supervisor ${SUPERVISOR_PATH}\n`;
  const ref = await buildScratchImage(docker, 'nebula-faas/supervisor', dockerfile, { 'nebula-supervisor': binary });
  const volume = `nebula-faas-supervisor-${ref.image.split(':').pop()}`;
  const deadline = () => nowMs() + DEPLOY_CALL_MS;
  try {
    await by(deadline(), 'creating the supervisor volume', (abortSignal) =>
      docker.createVolume({ Name: volume, Labels: { [LABEL]: '1' }, abortSignal } as Docker.VolumeCreateOptions),
    );
    // The engine copies the image's files into an empty volume when a container mounting it is created.
    const filler = await reaper.create(
      {
        Image: ref.image,
        Cmd: [SUPERVISOR_PATH],
        Labels: labels,
        NetworkDisabled: true,
        HostConfig: { NetworkMode: 'none', Mounts: [{ Type: 'volume', Source: volume, Target: SUPERVISOR_DIR }] },
      },
      deadline(),
      'filling the supervisor volume',
    );
    await reaper.remove(filler.id);
  } catch (e) {
    throw engineError(e, 'preparing the warm-mode supervisor');
  }
  return volume;
}
