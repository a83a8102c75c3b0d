/**
 * DockerRuntime: functions as containers on a Docker engine through dockerode.
 * PLACEHOLDER: the DockerRuntime issue replaces the body.
 */
import { RuntimeUnavailableError } from '../../errors.js';
import type { FunctionSpec } from '../../types.js';
import type { Prepared, Runtime } from '../runtime.js';

/** Options of {@link DockerRuntime}. */
export interface DockerRuntimeOptions {
  /** dockerode connection settings (socketPath, host, port, protocol, ca/cert/key); default: DOCKER_HOST or the default socket. */
  connection?: Record<string, unknown>;
  /** Containers kept created per function in `warm` mode; default 2. */
  warmContainers?: number;
}

export class DockerRuntime implements Runtime {
  readonly kind = 'docker' as const;
  constructor(readonly options: DockerRuntimeOptions = {}) {}
  async prepare(_fn: FunctionSpec): Promise<Prepared> {
    throw new RuntimeUnavailableError('DockerRuntime is not implemented yet');
  }
  async close(): Promise<void> {}
}
