/** Registers the Docker runtime: a function's `docker` source says where its image comes from. */
import { builtinBinary, builtinBinaryArchs, type BuiltinName } from '../../builtins.js';
import { UsageError } from '../../errors.js';
import { checkKnownKeys } from '../../known-keys.js';
import type { Schema } from '../../json-schema.js';
import { defineRuntime } from '../runtime.js';
import { cleanEngine } from './clean.js';
import { connect } from './engine.js';
import { DEFAULT_MAX_WARM_CONTAINERS, DockerRuntime, type DockerRuntimeOptions } from './index.js';

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

const only = (key: string, description: string, value: Schema = { type: 'string', minLength: 1 }): Schema => ({
  type: 'object',
  required: [key],
  additionalProperties: false,
  properties: { [key]: { ...value, description } },
});
const IMAGE = only('image', 'An image already in the Docker engine (name:tag or id); nothing is pulled.');

/** The static Linux binaries of a built-in for every architecture shipped (`{ amd64, arm64 }`). */
function builtinBinaries(name: BuiltinName): Record<string, string> {
  return Object.fromEntries(
    builtinBinaryArchs().flatMap((arch) => {
      const path = builtinBinary(name, arch);
      return path ? [[arch, path]] : [];
    }),
  );
}

export const dockerRuntime = defineRuntime<'docker', DockerSource, DockerRuntimeOptions>({
  kind: 'docker',
  label: 'Docker',
  color: '#0b7fab',
  summary: 'Docker: a container per invocation from an image in the engine, an archive or a static binary',
  source: {
    schema: {
      anyOf: [
        IMAGE,
        only('tarball', 'A `docker save` archive to load first (relative to this file).'),
        only('binary', 'A static Linux binary, wrapped in a FROM scratch image (relative to this file).'),
      ],
    },
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
    describe(source) {
      if ('image' in source) return { image: source.image };
      if ('tarball' in source) return { path: source.tarball };
      return typeof source.binary === 'string'
        ? { path: source.binary }
        : { path: Object.values(source.binary).join(', ') };
    },
    files(source, file) {
      if ('image' in source) return source;
      if ('tarball' in source) return { tarball: file(source.tarball) };
      return typeof source.binary === 'string'
        ? { binary: file(source.binary) }
        : { binary: Object.fromEntries(Object.entries(source.binary).map(([arch, path]) => [arch, file(path)])) };
    },
    flag: { value: 'IMAGE', help: 'your own image, already in the engine', source: (image) => ({ image }) },
    binary: (path) => ({ binary: path }),
    remote: IMAGE,
  },
  // Every architecture's binary: the engine's architecture picks one, and an engine of another
  // gets RUNTIME_NOT_DEPLOYED naming it.
  builtin(name) {
    const binaries = builtinBinaries(name);
    return Object.keys(binaries).length ? { binary: binaries } : undefined;
  },
  modes: {
    cold: 'a new container created, started and removed inside the invocation',
    prewarmed: 'a container created and attached ahead, started inside the invocation, used once',
    warm: 'a running container kept alive, its supervisor handed the next input',
  },
  keepsWarm: { option: 'maxWarmContainers', default: DEFAULT_MAX_WARM_CONTAINERS, keeper: true },
  phases: ['create', 'attach', 'start', 'ready', 'wait', 'collect'],
  execNote:
    'Docker execMs is engine-reported (State.StartedAt to State.FinishedAt): it includes starting the process inside the container, so it is not the compute time alone.',
  resourcesNote:
    "the container's cgroup: CPU time with the runtime's set-up inside the container, not the engine's own work; peak memory with page cache",
  create: (options) => new DockerRuntime(options),
  leaves:
    'the images built for functions (nebula-faas/<name>:<hash>) and for warm mode, its volume, and containers of nebula-faas processes that are gone (in the engine of DOCKER_HOST)',
  clean: ({ dryRun }) => cleanEngine(connect(), dryRun),
});
