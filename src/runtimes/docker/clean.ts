/**
 * What the Docker runtime leaves in the engine between runs, and its removal: the images it built
 * (`nebula-faas/<function>:<content hash>`, the warm-mode supervisor's) and the supervisor's
 * volume, all labelled `nebula-faas`, and containers whose owner is gone. Images are kept on
 * purpose (a deploy of the same binary reuses them); this removes them when asked.
 */
import type Docker from 'dockerode';
import { nowMs } from '../../clock.js';
import type { Removal } from '../runtime.js';
import { by } from './deadline.js';
import { engineError, ping } from './engine.js';
import { LABEL, ownerGone } from './owner.js';
import { Reaper } from './reaper.js';

/** One engine call's deadline, ms. */
const CALL_MS = 30_000;

const status = (e: unknown) => (e as { statusCode?: number })?.statusCode;
const why = (e: unknown) =>
  status(e) === 409 ? 'in use by a container (one of a running nebula-faas, or yours)' : (e as Error).message;

/** Removes images by name or id (never forced: one a container uses stays, and says so). */
export async function removeImages(
  docker: Docker,
  images: Array<{ name: string; sizeBytes?: number }>,
): Promise<Removal[]> {
  const out: Removal[] = [];
  for (const image of images) {
    const item: Removal = { kind: 'image', name: image.name, removed: false };
    if (image.sizeBytes !== undefined) item.sizeBytes = image.sizeBytes;
    try {
      await by(nowMs() + CALL_MS, `removing image ${image.name}`, (abortSignal) =>
        docker.getImage(image.name).remove({ abortSignal } as object),
      );
      item.removed = true;
    } catch (e) {
      if (status(e) === 404) continue;
      item.reason = why(e);
    }
    out.push(item);
  }
  return out;
}

/** Removes volumes by name (one a container mounts stays, and says so). */
export async function removeVolumes(docker: Docker, names: string[]): Promise<Removal[]> {
  const out: Removal[] = [];
  for (const name of names) {
    const item: Removal = { kind: 'volume', name, removed: false };
    try {
      await by(nowMs() + CALL_MS, `removing volume ${name}`, (abortSignal) =>
        docker.getVolume(name).remove({ abortSignal } as object),
      );
      item.removed = true;
    } catch (e) {
      if (status(e) === 404) continue;
      item.reason = why(e);
    }
    out.push(item);
  }
  return out;
}

/**
 * Everything nebula-faas left in this engine: containers whose owner is gone, then every image
 * and volume labelled `nebula-faas`. With `dryRun`, lists them and removes nothing.
 * @throws NebulaError `RUNTIME_UNAVAILABLE` when no engine answers.
 */
export async function cleanEngine(docker: Docker, dryRun: boolean): Promise<Removal[]> {
  await ping(docker);
  const filters = { label: [LABEL] };
  let containers: Docker.ContainerInfo[];
  let images: Docker.ImageInfo[];
  let volumes: Array<{ Name: string }>;
  try {
    containers = await by(nowMs() + CALL_MS, 'listing containers', (abortSignal) =>
      docker.listContainers({ all: true, filters, abortSignal } as Docker.ContainerListOptions),
    );
    images = await by(nowMs() + CALL_MS, 'listing images', (abortSignal) =>
      docker.listImages({ filters, abortSignal } as Docker.ListImagesOptions),
    );
    volumes =
      (
        await by(nowMs() + CALL_MS, 'listing volumes', (abortSignal) =>
          docker.listVolumes({ filters, abortSignal } as object),
        )
      ).Volumes ?? [];
  } catch (e) {
    throw engineError(e, 'listing what nebula-faas left');
  }
  const out: Removal[] = [];
  // Containers whose process is gone are removed (as every runtime's start-up sweep does); those
  // of a nebula-faas still running are its own, and stay.
  const reaper = new Reaper(docker, 'clean');
  for (const c of containers) {
    const item: Removal = { kind: 'container', name: c.Id.slice(0, 12), removed: false };
    if (!ownerGone(c.Labels)) item.reason = 'its nebula-faas process is still running';
    else if (!dryRun)
      try {
        await reaper.remove(c.Id);
        item.removed = true;
      } catch (e) {
        item.reason = why(e);
      }
    out.push(item);
  }
  // Every tag of an image (removing the last one removes the image); the size is given once.
  const names = images.flatMap((i) => {
    const tags = (i.RepoTags ?? []).filter((t) => t !== '<none>:<none>');
    return (tags.length ? tags : [i.Id]).map((name, n) => ({ name, ...(n === 0 ? { sizeBytes: i.Size } : {}) }));
  });
  const vols = volumes.map((v) => v.Name);
  if (dryRun) {
    out.push(...names.map((i) => ({ kind: 'image' as const, name: i.name, sizeBytes: i.sizeBytes, removed: false })));
    out.push(...vols.map((name) => ({ kind: 'volume' as const, name, removed: false })));
    return out;
  }
  // Volumes first: the supervisor's image is free once no container mounts its volume.
  out.push(...(await removeVolumes(docker, vols)));
  out.push(...(await removeImages(docker, names)));
  return out;
}
