/**
 * The connection to the Docker engine and the one place where engine errors become NebulaErrors.
 */
import { createRequire } from 'node:module';
import type Docker from 'dockerode';
import { NebulaError, RuntimeUnavailableError } from '../../errors.js';
import { by, DeadlineError } from './deadline.js';
import { nowMs } from '../../clock.js';

/**
 * How to reach a Docker engine (the subset of dockerode's settings nebula-faas documents): a unix
 * socket, or a host and port over http, https (with `ca`, `cert`, `key`) or ssh.
 */
export interface DockerConnection {
  /** Unix socket of the engine, e.g. `/var/run/docker.sock`. */
  socketPath?: string;
  host?: string;
  port?: number | string;
  protocol?: 'http' | 'https' | 'ssh';
  /** ssh user name. */
  username?: string;
  /** TLS: the CA certificate(s), PEM. */
  ca?: string | string[] | Buffer | Buffer[];
  /** TLS: the client certificate, PEM. */
  cert?: string | string[] | Buffer | Buffer[];
  /** TLS: the client key, PEM. */
  key?: string | string[] | Buffer | Buffer[];
  /** Engine API version to speak, e.g. `v1.43`. */
  version?: string;
  /** Per-request timeout, ms. */
  timeout?: number;
  headers?: Record<string, string>;
}

// dockerode is loaded on first use: its gRPC dependency (protobufjs) generates code when loaded,
// which `node --disallow-code-generation-from-strings` forbids; only Docker users pay for it.
const requireHere = createRequire(import.meta.url);
function dockerode(): typeof Docker {
  try {
    return requireHere('dockerode') as typeof Docker;
  } catch (e) {
    throw new RuntimeUnavailableError(
      `The Docker client library (dockerode) cannot be loaded: ${(e as Error).message}`,
      { cause: e },
    );
  }
}

/** How to start an engine, for messages. */
export const START_ENGINE_HINT =
  'Start one (Debian/Ubuntu: `sudo apt install docker.io && sudo systemctl start docker`, or `sudo dockerd &`), ' +
  'set DOCKER_HOST for a remote engine, or use the wasm runtime only.';

/** Connects as the Docker CLI does: DOCKER_HOST when set, else the default socket. */
export function connect(connection?: DockerConnection): Docker {
  const Dockerode = dockerode();
  return new Dockerode(connection);
}

function where(docker: Docker): string {
  const m = docker.modem as { socketPath?: unknown; host?: string; port?: string | number };
  return typeof m.socketPath === 'string' ? m.socketPath : m.host ? `${m.host}:${m.port ?? ''}` : 'the default socket';
}

const CONNECTION_CODES = new Set([
  'ENOENT',
  'ECONNREFUSED',
  'EACCES',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EPIPE',
]);

/** True when `e` says the engine could not be reached at all. */
function isConnectionError(e: unknown): boolean {
  const code = (e as { code?: string })?.code;
  return typeof code === 'string' && CONNECTION_CODES.has(code);
}

/** Asks the engine whether it is there, waiting at most `withinMs`. @throws RuntimeUnavailableError */
export async function ping(docker: Docker, withinMs = 10_000): Promise<void> {
  try {
    // dockerode's typings omit the options its ping takes (abortSignal).
    const pingWith = docker.ping.bind(docker) as unknown as (o: object) => Promise<unknown>;
    await by(nowMs() + withinMs, 'answering a ping', (abortSignal) => pingWith({ abortSignal }));
  } catch (e) {
    const detail =
      (e as { code?: string }).code === 'EACCES' ? ' (permission denied: add your user to the "docker" group)' : '';
    throw new RuntimeUnavailableError(`No Docker engine answers at ${where(docker)}${detail}. ${START_ENGINE_HINT}`, {
      cause: e,
    });
  }
}

/** Translates an engine error (docker-modem puts `statusCode` and the engine's `json` on it). */
export function engineError(e: unknown, doing: string): NebulaError {
  if (e instanceof NebulaError) return e;
  if (e instanceof DeadlineError)
    return new RuntimeUnavailableError(
      `The Docker engine did not answer in time while ${doing}. ${START_ENGINE_HINT}`,
      { cause: e },
    );
  if (isConnectionError(e))
    return new RuntimeUnavailableError(`The Docker engine stopped answering while ${doing}. ${START_ENGINE_HINT}`, {
      cause: e,
    });
  const status = (e as { statusCode?: number }).statusCode;
  const json = (e as { json?: { message?: string } }).json;
  const message = json?.message ?? (e as Error)?.message ?? String(e);
  return new NebulaError(
    'RUNTIME_ERROR',
    `Docker engine error while ${doing}${status ? ` (HTTP ${status})` : ''}: ${message}`,
    {
      cause: e,
      details: status ? { status } : {},
    },
  );
}
