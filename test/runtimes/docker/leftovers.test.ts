/**
 * Containers outlive no process: a process killed with SIGKILL leaves its kept and prewarmed
 * containers, and the next DockerRuntime on the host removes them; `nebula bench` stopped with
 * SIGTERM removes its own before exiting.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DockerRuntime, Nebula } from '../../../src/index.js';
import { dockerAvailable, eventually, leftovers, list, noLeftovers } from './engine.js';
import { tempDir } from '../../temp-dir.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const dist = join(root, 'dist', 'index.js');

/** Containers whose owner label names process `pid` on this host. */
const ownedBy = async (pid: number) =>
  (await list('nebula-faas.owner'))
    .filter((c) => String(c.labels['nebula-faas.owner']).startsWith(`${hostname()}/${pid}/`))
    .map((c) => c.id);

function exited(p: ChildProcess): Promise<number | null> {
  return new Promise((resolve) =>
    p.exitCode !== null ? resolve(p.exitCode) : p.once('exit', (code) => resolve(code)),
  );
}

const d = dockerAvailable() ? describe : describe.skip;

d('leftover containers of processes that are gone', () => {
  it('a process killed with SIGKILL leaves containers, and the next DockerRuntime on the host removes them', async () => {
    const script = `
      import { DockerRuntime, Nebula } from ${JSON.stringify(dist)};
      const rt = new DockerRuntime({ prewarmedContainers: 2 });
      const n = new Nebula({ runtimes: { docker: rt } });
      await n.invoke('fib', 10, { runtime: 'docker', mode: 'warm' });
      await n.invoke('fib', 10, { runtime: 'docker', mode: 'prewarmed' });
      console.log(JSON.stringify({ instance: rt.instanceId }));
      setInterval(() => undefined, 1000);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (b) => {
        out += b;
        if (out.includes('\n')) resolve(out.split('\n')[0]!);
      });
      child.once('exit', (code) => reject(new Error(`the child exited (${code}) before it was ready`)));
    });
    const { instance } = JSON.parse(line) as { instance: string };
    // The kept warm container and the prewarmed pool (refilled in the background).
    expect(await eventually(async () => (await leftovers(instance)).length >= 3)).toBe(true);
    child.kill('SIGKILL');
    await exited(child);
    expect((await leftovers(instance)).length).toBeGreaterThanOrEqual(3);

    const next = new DockerRuntime();
    const n = new Nebula({ runtimes: { docker: next } });
    await n.prepare(['fib'], ['docker']);
    await n.close();
    expect(await noLeftovers(instance)).toEqual([]);
  });

  it('a script that closes two runtimes at once ends only after both removed their containers', async () => {
    // Each sweeps the other's containers once it is closed, so a removal may meet one in progress and wait to retry.
    const script = `
      import { DockerRuntime, Nebula } from ${JSON.stringify(dist)};
      const runtimes = [new DockerRuntime(), new DockerRuntime()];
      const nebulas = runtimes.map((docker) => new Nebula({ runtimes: { docker } }));
      for (const n of nebulas) await n.invoke('fib', 10, { runtime: 'docker', mode: 'warm' });
      console.log(JSON.stringify(runtimes.map((r) => r.instanceId)));
      await Promise.all(nebulas.map((n) => n.close()));
      console.log('closed');`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (b) => (out += b));
    expect(await exited(child)).toBe(0);
    const [ids, closed] = out.trim().split('\n');
    expect(closed).toBe('closed');
    for (const id of JSON.parse(ids!) as string[]) expect(await leftovers(id)).toEqual([]);
  });

  it('nebula bench stopped with SIGTERM ends after the current invocation, keeps its records and removes its containers', async () => {
    const out = join(tempDir('sigterm'), 'run');
    const args = [
      'bench',
      '--functions',
      'fib',
      '--inputs',
      'fib=5',
      '--runtimes',
      'docker',
      '--modes',
      'warm,prewarmed',
      '--repetitions',
      '500',
    ];
    const child = spawn(
      process.execPath,
      [join(root, 'dist', 'cli', 'main.js'), ...args, '--warmup', '0', '--meter', 'none', '--no-micro', '--out', out],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let text = '';
    child.stdout.on('data', (b) => (text += b));
    child.stderr.on('data', (b) => (text += b));
    expect(await eventually(async () => (await ownedBy(child.pid!)).length >= 2, 60_000)).toBe(true);
    child.kill('SIGTERM');
    expect(await exited(child)).toBe(143);
    expect(text).toMatch(/Stopping after the current invocation \(SIGTERM/);
    expect(await ownedBy(child.pid!)).toEqual([]);
    expect(existsSync(join(out, 'records.jsonl'))).toBe(true);
    expect(readFileSync(join(out, 'records.jsonl'), 'utf8').trim().split('\n').length).toBeGreaterThan(0);
  });
});
