/** Registers the Docker runtime: a function's `docker` source says where its image comes from. */
import { UsageError } from '../../errors.js';
import { checkKnownKeys } from '../../known-keys.js';
import { defineRuntime } from '../runtime.js';
import { cleanEngine } from './clean.js';
import { connect } from './engine.js';
import { DockerRuntime, type DockerRuntimeOptions } from './index.js';

/** How to get a function's container image. Nothing is ever pulled. */
export type DockerSource =
  /** An image already in the engine (name:tag or id). */
  | { image: string }
  /** A `docker save` archive to load first. */
  | { tarball: string }
  /**
   * A static Linux binary to wrap in a `FROM scratch` image (built at deploy): one path, or one
   * per architecture (Docker's names, `{ amd64: path, arm64: path }`), chosen by the engine's.
   */
  | { binary: string | Record<string, string> };

const KEYS = ['image', 'tarball', 'binary'] as const;

export const dockerRuntime = defineRuntime<'docker', DockerSource, DockerRuntimeOptions>({
  kind: 'docker',
  label: 'Docker',
  color: '#0b7fab',
  summary: 'Docker: a container per invocation from an image in the engine, an archive or a static binary',
  execNote:
    'Docker execMs is engine-reported (State.StartedAt to State.FinishedAt): it includes starting the process inside the container, so it is not the compute time alone.',
  validate(source, name) {
    checkKnownKeys(source, KEYS, `Function "${name}": "docker"`);
    const given = typeof source === 'object' && source !== null ? KEYS.filter((k) => k in source) : [];
    const key = given[0];
    const value = key ? (source as Record<string, unknown>)[key] : undefined;
    const perArch =
      key === 'binary' &&
      typeof value === 'object' &&
      value !== null &&
      Object.keys(value).length > 0 &&
      Object.entries(value).every(
        ([arch, path]) => /^[a-z0-9]+$/.test(arch) && typeof path === 'string' && path !== '',
      );
    if (given.length !== 1 || !((typeof value === 'string' && value !== '') || perArch))
      throw new UsageError(
        'INVALID_ARGUMENT',
        `Function "${name}": "docker" must be one of { image }, { tarball } or { binary }, each a non-empty string (binary may also map architectures to paths, e.g. { amd64: PATH, arm64: PATH }).`,
      );
    return { [key!]: value } as DockerSource;
  },
  create: (options) => new DockerRuntime(options),
  leaves:
    'the images built for functions (nebula-faas/<name>:<hash>) and for warm mode, its volume, and containers of nebula-faas processes that are gone (in the engine of DOCKER_HOST)',
  clean: ({ dryRun }) => cleanEngine(connect(), dryRun),
  describe(source) {
    if ('image' in source) return { image: source.image };
    if ('tarball' in source) return { path: source.tarball };
    return typeof source.binary === 'string'
      ? { path: source.binary }
      : { path: Object.values(source.binary).join(', ') };
  },
});
