/**
 * The connection to the Docker engine and the one place where engine errors become NebulaErrors.
 */
import Docker from 'dockerode';
import { NebulaError, RuntimeUnavailableError } from '../../errors.js';
import { by, DeadlineError } from './deadline.js';
import { nowMs } from '../../clock.js';

/** dockerode's connection settings (socketPath, or host + port + protocol with ca/cert/key). */
export type DockerConnection = Docker.DockerOptions;

/** How to start an engine, for messages. */
export const START_ENGINE_HINT =
  'Start one (Debian/Ubuntu: `sudo apt install docker.io && sudo systemctl start docker`, or `sudo dockerd &`), ' +
  'set DOCKER_HOST for a remote engine, or use the wasm runtime only.';

/** Connects as the Docker CLI does: DOCKER_HOST when set, else the default socket. */
export function connect(connection?: DockerConnection): Docker {
  return new Docker(connection);
}

function where(docker: Docker): string {
  const m = docker.modem as { socketPath?: unknown; host?: string; port?: string | number };
  return typeof m.socketPath === 'string' ? m.socketPath : m.host ? `${m.host}:${m.port ?? ''}` : 'the default socket';
}

const CONNECTION_CODES = new Set(['ENOENT', 'ECONNREFUSED', 'EACCES', 'ECONNRESET', 'EHOSTUNREACH', 'ETIMEDOUT', 'ENOTFOUND', 'EPIPE']);

/** True when `e` says the engine could not be reached at all. */
export function isConnectionError(e: unknown): boolean {
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
    const detail = (e as { code?: string }).code === 'EACCES' ? ' (permission denied: add your user to the "docker" group)' : '';
    throw new RuntimeUnavailableError(`No Docker engine answers at ${where(docker)}${detail}. ${START_ENGINE_HINT}`, { cause: e });
  }
}

/** Translates an engine error (docker-modem puts `statusCode` and the engine's `json` on it). */
export function engineError(e: unknown, doing: string): NebulaError {
  if (e instanceof NebulaError) return e;
  if (e instanceof DeadlineError) return new RuntimeUnavailableError(`The Docker engine did not answer in time while ${doing}. ${START_ENGINE_HINT}`, { cause: e });
  if (isConnectionError(e)) return new RuntimeUnavailableError(`The Docker engine stopped answering while ${doing}. ${START_ENGINE_HINT}`, { cause: e });
  const status = (e as { statusCode?: number }).statusCode;
  const json = (e as { json?: { message?: string } }).json;
  const message = json?.message ?? (e as Error)?.message ?? String(e);
  return new NebulaError('RUNTIME_ERROR', `Docker engine error while ${doing}${status ? ` (HTTP ${status})` : ''}: ${message}`, {
    cause: e,
    details: status ? { status } : {},
  });
}
