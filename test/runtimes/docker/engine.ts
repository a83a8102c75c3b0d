/**
 * Helpers of the Docker tests: whether an engine answers (with NEBULA_REQUIRE_DOCKER=1 a missing
 * engine fails the suite instead of skipping it), this runtime instance's containers, small C
 * programs compiled static, and a proxy in front of the real engine that can freeze or cut it.
 */
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type Docker from 'dockerode';
import { tempDir } from '../../temp-dir.js';

export function dockerAvailable(): boolean {
  try {
    execFileSync('docker', ['info'], { stdio: 'ignore', timeout: 20_000 });
    return true;
  } catch {
    if (process.env.NEBULA_REQUIRE_DOCKER === '1')
      throw new Error('NEBULA_REQUIRE_DOCKER=1 but no Docker engine answers (`docker info` failed): start dockerd.');
    console.warn(
      'Docker tests skipped: no Docker engine answers (`docker info` failed). Set NEBULA_REQUIRE_DOCKER=1 to make this an error.',
    );
    return false;
  }
}

const execFileAsync = promisify(execFile);
/** The docker CLI, asynchronously (a slow engine must not block the test worker); stdout, or '' on failure. */
async function docker(...args: string[]): Promise<string> {
  try {
    return (await execFileAsync('docker', args, { encoding: 'utf8' })).stdout;
  } catch {
    return '';
  }
}

/** `docker inspect` of a container, or null when it is gone. */
export async function inspect(id: string): Promise<Docker.ContainerInspectInfo | null> {
  const out = await docker('inspect', id);
  return out ? ((JSON.parse(out) as Docker.ContainerInspectInfo[])[0] ?? null) : null;
}

/** A container as `docker ps -a` lists it. */
export interface Listed {
  id: string;
  /** created, running, exited, ... */
  state: string;
  labels: Record<string, string>;
}

/** The containers (any state) carrying this label filter, e.g. `nebula-faas.runtime=<id>`, in one CLI call. */
export async function list(filter: string): Promise<Listed[]> {
  const out = await docker('ps', '-a', '--no-trunc', '--filter', `label=${filter}`, '--format', '{{json .}}');
  return out
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const c = JSON.parse(line) as { ID: string; State: string; Labels: string };
      const labels = Object.fromEntries(
        c.Labels.split(',').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
      );
      return { id: c.ID, state: c.State, labels };
    });
}

/** IDs of the containers a DockerRuntime instance created that still exist. */
export async function leftovers(instanceId: string): Promise<string[]> {
  return (await list(`nebula-faas.runtime=${instanceId}`)).map((c) => c.id.slice(0, 12));
}

/** Waits until `instanceId` has no container left (removal runs after the result), up to `ms`; returns what is left. */
export async function noLeftovers(instanceId: string, ms = 20_000): Promise<string[]> {
  const end = Date.now() + ms;
  let left = await leftovers(instanceId);
  while (left.length && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 250));
    left = await leftovers(instanceId);
  }
  return left;
}

/** Polls `check` every 100 ms until it returns true or `ms` pass; returns its last answer. */
export async function eventually(check: () => boolean | Promise<boolean>, ms = 20_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}

/** Compiles test/runtimes/docker/programs/<name>.c (static, musl); returns its binary's path. */
export function compileProgram(name: string): string {
  const src = readFileSync(join(dirname(fileURLToPath(import.meta.url)), 'programs', `${name}.c`), 'utf8');
  return compile({ [name]: src })[name]!;
}

/** Compiles C programs (static, musl by default) into a temporary folder; returns name -> binary path. */
export function compile(
  programs: Record<string, string>,
  flags: string[] = ['-static'],
  cc = 'musl-gcc',
): Record<string, string> {
  const dir = tempDir('docker');
  const bins: Record<string, string> = {};
  for (const [name, src] of Object.entries(programs)) {
    writeFileSync(join(dir, `${name}.c`), src);
    execFileSync(cc, [...flags, '-O2', join(dir, `${name}.c`), '-o', join(dir, name)]);
    bins[name] = join(dir, name);
  }
  return bins;
}

/** The unix socket of the engine the docker CLI and the runtime use: DOCKER_HOST's, else the default one. */
function engineSocket(): string {
  const host = process.env.DOCKER_HOST;
  return host?.startsWith('unix://') ? host.slice('unix://'.length) : '/var/run/docker.sock';
}

/**
 * A unix-socket proxy in front of the real engine: `freeze()` holds every byte both ways (an
 * engine that stopped answering), `cut()` drops every connection and refuses new ones (an engine
 * that died); `thaw()` / `restore()` undo them.
 */
export class EngineProxy {
  private frozen = false;
  private refused = false;
  private held: Array<() => void> = [];
  private readonly sockets = new Set<Socket>();

  private constructor(
    readonly socketPath: string,
    private readonly server: Server,
    private readonly dir: string,
  ) {}

  /** @param target the engine's unix socket: by default DOCKER_HOST's, as the runtime and the CLI find it, else the default socket. */
  static async start(target = engineSocket()): Promise<EngineProxy> {
    const dir = tempDir('proxy');
    const socketPath = join(dir, 'docker.sock');
    // The callback runs on the first connection, after `proxy` is set.
    const server = createServer((client) => proxy.accept(client, target));
    const proxy = new EngineProxy(socketPath, server, dir);
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    return proxy;
  }

  private accept(client: Socket, target: string): void {
    if (this.refused) return void client.destroy();
    const upstream = createConnection(target);
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.on('close', () => {
        this.sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
      s.on('error', () => undefined);
    }
    const relay = (from: Socket, to: Socket) => {
      from.on('data', (b) => this.pass(() => to.write(b)));
      from.on('end', () => this.pass(() => to.end()));
    };
    relay(client, upstream);
    relay(upstream, client);
  }

  private pass(send: () => void): void {
    if (this.frozen) this.held.push(send);
    else send();
  }

  freeze(): void {
    this.frozen = true;
  }

  thaw(): void {
    this.frozen = false;
    for (const send of this.held.splice(0)) send();
  }

  cut(): void {
    this.refused = true;
    this.held = [];
    for (const s of this.sockets) s.destroy();
  }

  restore(): void {
    this.refused = false;
    this.frozen = false;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise((r) => this.server.close(r));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
