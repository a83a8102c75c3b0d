/** Registers the Docker runtime: a function's `docker` source says where its image comes from. */
import { UsageError } from '../../errors.js';
import { defineRuntime } from '../runtime.js';
import { DockerRuntime, type DockerRuntimeOptions } from './index.js';

/** How to get a function's container image. Nothing is ever pulled. */
export type DockerSource =
  /** An image already in the engine (name:tag or id). */
  | { image: string }
  /** A `docker save` archive to load first. */
  | { tarball: string }
  /** A static Linux binary to wrap in a `FROM scratch` image (built on first use). */
  | { binary: string };

const KEYS = ['image', 'tarball', 'binary'] as const;

export const dockerRuntime = defineRuntime<'docker', DockerSource, DockerRuntimeOptions>({
  kind: 'docker',
  label: 'Docker',
  color: '#0b7fab',
  summary: 'Docker: a container per invocation from an image in the engine, an archive or a static binary',
  execNote:
    'Docker execMs is engine-reported (State.StartedAt to State.FinishedAt): it includes starting the process inside the container, so it is not the compute time alone.',
  validate(source, name) {
    const given = typeof source === 'object' && source !== null ? KEYS.filter((k) => k in source) : [];
    const key = given[0];
    const value = key ? (source as Record<string, unknown>)[key] : undefined;
    if (given.length !== 1 || typeof value !== 'string' || value === '')
      throw new UsageError('INVALID_ARGUMENT', `Function "${name}": "docker" must be one of { image }, { tarball } or { binary }, each a non-empty string.`);
    return { [key!]: value } as DockerSource;
  },
  create: (options) => new DockerRuntime(options),
  describe: (source) => ('image' in source ? { image: source.image } : { path: 'binary' in source ? source.binary : source.tarball }),
});
