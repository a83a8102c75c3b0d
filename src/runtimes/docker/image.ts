/**
 * Getting a function's image into the engine without any registry: check an image by name,
 * load a `docker save` archive, or build a `FROM scratch` image around a static binary.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import type Docker from 'dockerode';
import { pack } from 'tar-stream';
import { NebulaError } from '../../errors.js';
import type { DockerSource } from './descriptor.js';
import { engineError } from './engine.js';

/** The image a function runs, as the engine knows it. */
export interface ImageRef {
  /** Name:tag (or id) to create containers from. */
  image: string;
  sizeBytes?: number;
  digest?: string;
}

const refuse = (name: string, why: string, cause?: unknown) =>
  new NebulaError('INVALID_FUNCTION', `Function "${name}": ${why}`, { cause });

async function inspect(docker: Docker, image: string): Promise<Docker.ImageInspectInfo | null> {
  try {
    return await docker.getImage(image).inspect();
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode === 404) return null;
    throw engineError(e, `inspecting image ${image}`);
  }
}

/** Reads a build/load progress stream to its end; rejects on an error line. */
function follow(docker: Docker, stream: NodeJS.ReadableStream): Promise<Array<Record<string, unknown>>> {
  return new Promise((resolve, reject) => {
    docker.modem.followProgress(stream, (err: Error | null, out: Array<Record<string, unknown>>) => {
      if (err) return reject(err);
      const failed = out.find((l) => l.error || l.errorDetail);
      if (failed) return reject(new Error(String(failed.error ?? JSON.stringify(failed.errorDetail))));
      resolve(out);
    });
  });
}

const DOCKERFILE = 'FROM scratch\nCOPY fn /fn\nENTRYPOINT ["/fn"]\n';

/** Builds (once per content hash) a FROM scratch image whose entrypoint is the static binary. */
async function fromBinary(docker: Docker, name: string, path: string): Promise<ImageRef> {
  let binary: Buffer;
  try {
    binary = await readFile(path);
  } catch (e) {
    throw refuse(name, `cannot read the binary ${path}: ${(e as Error).message}`, e);
  }
  if (binary.subarray(0, 4).toString('latin1') !== '\x7fELF') throw refuse(name, `${path} is not a Linux (ELF) binary.`);
  const hash = createHash('sha256').update(DOCKERFILE).update(binary).digest('hex');
  const tag = `nebula-faas/${name}:${hash.slice(0, 16)}`;
  const existing = await inspect(docker, tag);
  if (existing) return { image: tag, sizeBytes: existing.Size, digest: existing.Id };

  const context = pack();
  context.entry({ name: 'Dockerfile', mode: 0o644 }, DOCKERFILE);
  context.entry({ name: 'fn', mode: 0o755 }, binary);
  context.finalize();
  try {
    const stream = await docker.buildImage(context as unknown as NodeJS.ReadableStream, { t: tag, rm: true, forcerm: true, labels: { 'nebula-faas': '1' } });
    await follow(docker, stream);
  } catch (e) {
    throw engineError(e, `building the image for "${name}"`);
  }
  const built = await inspect(docker, tag);
  if (!built) throw new NebulaError('RUNTIME_ERROR', `The engine built ${tag} but does not list it.`);
  return { image: tag, sizeBytes: built.Size, digest: built.Id };
}

/** Loads a `docker save` archive and returns the image it holds. */
async function fromTarball(docker: Docker, name: string, path: string): Promise<ImageRef> {
  try {
    await stat(path);
  } catch (e) {
    throw refuse(name, `cannot read the image archive ${path}: ${(e as Error).message}`, e);
  }
  let lines: Array<Record<string, unknown>>;
  try {
    const stream = await docker.loadImage(createReadStream(path), { quiet: true });
    lines = await follow(docker, stream);
  } catch (e) {
    const ne = engineError(e, `loading ${path}`);
    if (ne.code === 'RUNTIME_UNAVAILABLE') throw ne;
    throw refuse(name, `the engine cannot load ${path} as a \`docker save\` archive: ${ne.message}`, e);
  }
  const loaded = lines
    .map((l) => /Loaded image(?: ID)?: (\S+)/.exec(String(l.stream ?? ''))?.[1])
    .filter((x): x is string => Boolean(x));
  if (loaded.length === 0) throw refuse(name, `${path} holds no image (the engine loaded nothing).`);
  const image = loaded[0]!;
  const info = await inspect(docker, image);
  if (!info) throw refuse(name, `the engine loaded ${image} from ${path} but cannot find it.`);
  return { image, sizeBytes: info.Size, digest: info.Id };
}

/** Makes sure the function's image is in the engine; never pulls. @throws NebulaError `INVALID_FUNCTION` */
export async function ensureImage(docker: Docker, name: string, source: DockerSource): Promise<ImageRef> {
  if ('binary' in source) return fromBinary(docker, name, source.binary);
  if ('tarball' in source) return fromTarball(docker, name, source.tarball);
  if ('image' in source && typeof source.image === 'string' && source.image) {
    const info = await inspect(docker, source.image);
    if (!info)
      throw refuse(
        name,
        `the image "${source.image}" is not in the engine, and nothing is pulled: build it, or \`docker load\` it, or deploy { tarball } instead.`,
      );
    return { image: source.image, sizeBytes: info.Size, digest: info.Id };
  }
  throw refuse(name, 'docker must be { image }, { tarball } or { binary }.');
}
