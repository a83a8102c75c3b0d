/** Registers the process runtime: a function's `process` source is a path to a native executable. */
import { statSync } from 'node:fs';
import { builtinBinary, dockerArch } from '../../builtins.js';
import { UsageError } from '../../errors.js';
import { checkKnownKeys } from '../../known-keys.js';
import { defineRuntime } from '../runtime.js';
import { ProcessRuntime, type ProcessRuntimeOptions } from './index.js';

/** A native executable for this machine (an ELF file; a static one runs anywhere, as in a `FROM scratch` image). */
export type ProcessSource = { binary: string };

export const processRuntime = defineRuntime<'process', ProcessSource, ProcessRuntimeOptions>({
  kind: 'process',
  label: 'Process',
  color: '#2f9e44',
  summary:
    'Native process: the binary run as a plain child process with setrlimit limits, not a sandbox (the baseline)',
  source: {
    schema: {
      type: 'object',
      required: ['binary'],
      additionalProperties: false,
      properties: {
        binary: {
          type: 'string',
          minLength: 1,
          description: 'A native executable for this machine (relative to this file).',
        },
      },
    },
    validate(source, name) {
      checkKnownKeys(source, ['binary'], `Function "${name}": "process"`);
      const binary =
        typeof source === 'object' && source !== null ? (source as { binary?: unknown }).binary : undefined;
      if (typeof binary !== 'string' || binary === '' || Object.keys(source as object).length !== 1)
        throw new UsageError(
          'INVALID_ARGUMENT',
          `Function "${name}": "process" must be { binary }, the path of a native executable.`,
        );
      return { binary };
    },
    describe(source) {
      const size = statSync(source.binary, { throwIfNoEntry: false })?.size;
      return size === undefined ? { path: source.binary } : { path: source.binary, sizeBytes: size };
    },
    files: (source, file) => ({ binary: file(source.binary) }),
    binary: (path) => ({ binary: path }),
  },
  // The binary runs on this machine: only where it is this machine's architecture.
  builtin(name, arch) {
    const binary = builtinBinary(name, arch);
    return binary && process.platform === 'linux' && dockerArch(arch) === dockerArch() ? { binary } : undefined;
  },
  modes: {
    cold: "a new process: the helper started, the binary exec'd inside the invocation",
    prewarmed: 'a helper started ahead and parked before exec, used once',
    warm: 'as prewarmed: a process cannot take a second input, so none is kept (the record says prewarmed)',
  },
  phases: ['dir', 'spawn', 'start', 'run', 'collect'],
  baseline: true,
  execNote:
    "Process execMs is timed by the helper, from execve returning to the exit being reaped: it includes the process's own start-up and exit and, on a busy machine, its waits for a core (for the built-in fib(1), which computes nothing, 0.04 ms at best and 0.64 ms at the median on a loaded 2-core machine), so it is not the compute time alone; compare exec times with inputs that run for milliseconds.",
  sideEffect:
    'each process invocation forks the host process (the helper is spawned from Node): until the host has written to each page it uses again, its writes fault (copy-on-write), which added about 0.6 ms to the next Wasm cold start on a 2-core machine. Run Wasm without the process runtime (--runtimes wasm,docker) to measure it without this.',
  resourcesNote:
    "the run's cgroup (its whole process tree), else the helper's wait4 rusage: CPU time of the function and the descendants it waited for, peak memory the largest resident set of one process",
  create: (options) => new ProcessRuntime(options),
});
