/**
 * Getting a function's image into the engine without any registry: check an image by name,
 * load a `docker save` archive, or build a `FROM scratch` image around a static binary.
 */
import { createHash } from 'node:crypto';
import type Docker from 'dockerode';
import { pack } from 'tar-stream';
import { nowMs } from '../../clock.js';
import { NebulaError } from '../../errors.js';
import type { DockerSource } from './descriptor.js';
import { by } from './deadline.js';
import { checkStaticElf, MAX_BINARY_BYTES } from './static-binary.js';
import { engineError } from './engine.js';
import { openLocalFile, readLocalFile } from './local-file.js';
import { LABEL } from './owner.js';

/** The image a function runs, as the engine knows it. */
export interface ImageRef {
  /** Name:tag (or id) to create containers from. */
  image: string;
  sizeBytes?: number;
  /** The image's id in the engine (`sha256:...` of its configuration). */
  imageId: string;
  /**
   * What the image was made from: the sha256 of the binary or the archive given, or for an image
   * given by name its repository digest (`name@sha256:...`) when it has one.
   */
  digest?: string;
  /** The file it was made from (binary or archive). */
  path?: string;
  /** The image's own ENTRYPOINT, CMD and USER (from its inspect). */
  entrypoint: string[];
  cmd: string[];
  user: string;
  /** The paths the image declares as VOLUME (each gets a private tmpfs, never a volume). */
  volumes: string[];
}

/** Deadline of one small engine call at deploy time (inspect, version), ms. */
export const DEPLOY_CALL_MS = 30_000;
/** Deadline of a build or a load, ms. */
const BUILD_MS = 10 * 60_000;
/** Largest `docker save` archive loaded, bytes. */
export const MAX_TARBALL_BYTES = 16 * 1024 ** 3;

const refuse = (name: string, why: string, cause?: unknown) =>
  new NebulaError('INVALID_FUNCTION', `Function "${name}": ${why}`, { cause });

async function inspectImage(docker: Docker, image: string): Promise<Docker.ImageInspectInfo | null> {
  try {
    const handle = docker.getImage(image);
    const inspect = handle.inspect.bind(handle) as unknown as (o: object) => Promise<Docker.ImageInspectInfo>;
    return await by(nowMs() + DEPLOY_CALL_MS, `inspecting image ${image}`, (abortSignal) => inspect({ abortSignal }));
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode === 404) return null;
    throw engineError(e, `inspecting image ${image}`);
  }
}

function toRef(image: string, info: Docker.ImageInspectInfo): ImageRef {
  const c = info.Config as
    | {
        Entrypoint?: string[] | string | null;
        Cmd?: string[] | null;
        User?: string;
        Volumes?: Record<string, unknown> | null;
      }
    | undefined;
  const entrypoint = typeof c?.Entrypoint === 'string' ? [c.Entrypoint] : (c?.Entrypoint ?? []);
  const ref: ImageRef = {
    image,
    sizeBytes: info.Size,
    imageId: info.Id,
    entrypoint,
    cmd: c?.Cmd ?? [],
    user: c?.User ?? '',
    volumes: Object.keys(c?.Volumes ?? {}),
  };
  const repoDigest = info.RepoDigests?.[0];
  if (repoDigest) ref.digest = repoDigest;
  return ref;
}

const sha256 = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** Reads a build/load progress stream to its end; rejects on an error line. */
function follow(docker: Docker, stream: NodeJS.ReadableStream): Promise<Array<Record<string, unknown>>> {
  return new Promise((resolve, reject) => {
    docker.modem.followProgress(stream, (err: Error | null, out: Array<Record<string, unknown>>) => {
      if (err) return reject(err);
      const failed = out.find((l) => l.error || l.errorDetail);
      if (failed)
        return reject(
          new Error(
            typeof failed.error === 'string' ? failed.error : JSON.stringify(failed.error ?? failed.errorDetail),
          ),
        );
      resolve(out);
    });
  });
}

const DOCKERFILE = 'FROM scratch\nCOPY fn /fn\nENTRYPOINT ["/fn"]\n';

/**
 * Builds (once per content hash) a FROM scratch image holding `files`; returns its tag.
 * @throws NebulaError `RUNTIME_ERROR` / `RUNTIME_UNAVAILABLE` from the engine.
 */
export async function buildScratchImage(
  docker: Docker,
  repository: string,
  dockerfile: string,
  files: Record<string, Buffer>,
): Promise<ImageRef> {
  const hash = createHash('sha256').update(dockerfile);
  for (const [name, bytes] of Object.entries(files)) hash.update(name).update(bytes);
  const tag = `${repository}:${hash.digest('hex').slice(0, 16)}`;
  const existing = await inspectImage(docker, tag);
  if (existing) return toRef(tag, existing);
  const context = pack();
  context.entry({ name: 'Dockerfile', mode: 0o644 }, dockerfile);
  for (const [name, bytes] of Object.entries(files)) context.entry({ name, mode: 0o755 }, bytes);
  context.finalize();
  try {
    await by(nowMs() + BUILD_MS, `building ${tag}`, async (abortSignal) => {
      const options = { t: tag, rm: true, forcerm: true, labels: { [LABEL]: '1' }, abortSignal };
      return follow(docker, await docker.buildImage(context as unknown as NodeJS.ReadableStream, options));
    });
  } catch (e) {
    throw engineError(e, `building ${tag}`);
  }
  const built = await inspectImage(docker, tag);
  if (!built) throw new NebulaError('RUNTIME_ERROR', `The engine built ${tag} but does not list it.`);
  return toRef(tag, built);
}

/** Checks the binary (ELF, static, the engine's architecture) and wraps it in a FROM scratch image. */
async function fromBinary(docker: Docker, name: string, path: string, engineArch: string): Promise<ImageRef> {
  const binary = await readLocalFile(await openLocalFile(name, 'the binary', path, MAX_BINARY_BYTES));
  const check = checkStaticElf(binary, engineArch);
  if (!check.ok) throw refuse(name, `${path} ${check.why}`);
  const ref = await buildScratchImage(docker, `nebula-faas/${name}`, DOCKERFILE, { fn: binary });
  return { ...ref, digest: sha256(binary), path };
}

/** Loads a `docker save` archive and returns the image it holds. */
async function fromTarball(docker: Docker, name: string, path: string): Promise<ImageRef> {
  const file = await openLocalFile(name, 'the image archive', path, MAX_TARBALL_BYTES);
  if (file.sizeBytes === 0) {
    await file.handle.close();
    throw refuse(name, `the image archive ${path} is empty.`);
  }
  // Exactly the bytes it had when opened, however it grows meanwhile; the stream closes the file.
  const archive = file.handle.createReadStream({ start: 0, end: file.sizeBytes - 1 });
  // The digest of exactly the bytes the engine was given.
  const hash = createHash('sha256');
  archive.on('data', (b) => hash.update(b));
  let lines: Array<Record<string, unknown>>;
  try {
    lines = await by(nowMs() + BUILD_MS, `loading ${path}`, async (abortSignal) =>
      follow(docker, await docker.loadImage(archive, { quiet: true, abortSignal } as Record<string, unknown>)),
    );
  } catch (e) {
    archive.destroy();
    const ne = engineError(e, `loading ${path}`);
    if (ne.code === 'RUNTIME_UNAVAILABLE') throw ne;
    throw refuse(name, `the engine cannot load ${path} as a \`docker save\` archive: ${ne.message}`, e);
  }
  const loaded = lines
    .map((l) => /Loaded image(?: ID)?: (\S+)/.exec(typeof l.stream === 'string' ? l.stream : '')?.[1])
    .filter((x): x is string => Boolean(x));
  if (loaded.length === 0) throw refuse(name, `${path} holds no image (the engine loaded nothing).`);
  const image = loaded[0]!;
  const info = await inspectImage(docker, image);
  if (!info) throw refuse(name, `the engine loaded ${image} from ${path} but cannot find it.`);
  return { ...toRef(image, info), digest: `sha256:${hash.digest('hex')}`, path };
}

/**
 * The binary for the engine's architecture: the one path given, or the map's entry for it.
 * @throws NebulaError `RUNTIME_NOT_DEPLOYED` naming the architecture when the map has none.
 */
function binaryFor(name: string, binary: string | Record<string, string>, engineArch: string): string {
  if (typeof binary === 'string') return binary;
  const path = binary[engineArch];
  if (path) return path;
  throw new NebulaError(
    'RUNTIME_NOT_DEPLOYED',
    `Function "${name}" has no binary for the Docker engine's architecture ${engineArch} (it has: ${Object.keys(binary).join(', ') || 'none'}).`,
    { details: { engineArch, archs: Object.keys(binary) } },
  );
}

/**
 * Makes sure the function's image is in the engine; never pulls.
 * @param engineArch the engine's architecture (Docker's names: amd64, arm64), for `{ binary }`.
 * @throws NebulaError `INVALID_FUNCTION` (no such image, bad archive, a binary that cannot run there)
 */
export async function ensureImage(
  docker: Docker,
  name: string,
  source: DockerSource,
  engineArch: string,
): Promise<ImageRef> {
  let ref: ImageRef;
  if ('binary' in source) ref = await fromBinary(docker, name, binaryFor(name, source.binary, engineArch), engineArch);
  else if ('tarball' in source) ref = await fromTarball(docker, name, source.tarball);
  else if ('image' in source && typeof source.image === 'string' && source.image) {
    const info = await inspectImage(docker, source.image);
    if (!info)
      throw refuse(
        name,
        `the image "${source.image}" is not in the engine, and nothing is pulled: build it, or \`docker load\` it, or deploy { tarball } instead.`,
      );
    ref = toRef(source.image, info);
  } else throw refuse(name, 'docker must be { image }, { tarball } or { binary }.');
  return ref;
}
