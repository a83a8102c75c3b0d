import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerRuntime, Nebula } from '../../../src/index.js';
import { compile, compileProgram, dockerAvailable, noLeftovers } from './engine.js';

const PROGRAMS = {
  // Not one of ours: reads stdin, answers with the length and the upper-cased text.
  upper: `#include <stdio.h>
#include <ctype.h>
int main(void){char b[256];size_t n=fread(b,1,255,stdin);b[n]=0;printf("{\\"len\\":%zu,\\"up\\":\\"",n);for(size_t i=0;i<n;i++)if(b[i]!='"')putchar(toupper((unsigned char)b[i]));printf("\\"}\\n");return 0;}`,
  exit7: `#include <stdio.h>
int main(void){fprintf(stderr,"exit7: giving up\\n");return 7;}`,
  hog: `#include <stdlib.h>
#include <string.h>
char *volatile keep;
int main(void){for(;;){char*p=malloc(1<<20);if(!p)return 3;memset(p,1,1<<20);keep=p;}}`,
  sleeper: `#include <unistd.h>
int main(void){for(;;)sleep(1);}`,
  // Lists network interfaces (no traffic) and tries to write to the root filesystem.
  probe: `#include <stdio.h>
#include <string.h>
int main(void){char l[256];int ifs=0,lo=0;FILE*f=fopen("/proc/net/dev","r");if(f){while(fgets(l,sizeof l,f))if(strchr(l,':')){ifs++;if(strstr(l,"lo:"))lo++;}fclose(f);}
FILE*w=fopen("/written","w");printf("{\\"interfaces\\":%d,\\"loopback\\":%d,\\"rootWritable\\":%s}\\n",ifs,lo,w?"true":"false");return 0;}`,
} as const;

/** Per test run, so runs of this file elsewhere on the same engine do not collide. */
const TAG = `t${process.pid}`;
const enabled = dockerAvailable();
const d = enabled ? describe : describe.skip;

d('DockerRuntime on a real engine', () => {
  let bins: Record<string, string> = {};
  let dir: string;
  let nebula: Nebula;
  let runtime: DockerRuntime;

  beforeAll(() => {
    bins = compile(PROGRAMS);
    dir = dirname(bins.upper!);
    // An image built outside nebula-faas, then saved as an archive.
    const ctx = join(dir, 'ctx');
    mkdirSync(ctx);
    execFileSync('cp', [bins.upper!, join(ctx, 'upper')]);
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY upper /upper\nENTRYPOINT ["/upper"]\n');
    execFileSync('docker', ['build', '-q', '-t', `nebula-test/upper:${TAG}`, ctx], { stdio: 'pipe' });
    execFileSync('docker', ['save', '-o', join(dir, 'upper.tar'), `nebula-test/upper:${TAG}`]);
    runtime = new DockerRuntime();
    nebula = new Nebula({ builtins: false, runtimes: { docker: runtime } });
  });
  afterAll(async () => {
    await nebula?.close();
    if (runtime) expect(await noLeftovers(runtime.instanceId)).toEqual([]);
    // Loading the archive made the image again.
    execFileSync('docker', ['rmi', '-f', `nebula-test/upper:${TAG}`], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs an image already in the engine, and one loaded from a docker save archive', async () => {
    const [info] = await nebula.deploy({ name: 'upper', docker: { image: `nebula-test/upper:${TAG}` } });
    expect(info!.artifacts.docker?.image).toBe(`nebula-test/upper:${TAG}`);
    const rec = await nebula.invoke('upper', 'hello', { runtime: 'docker' });
    expect(rec.result).toEqual({ len: 7, up: 'HELLO' });
    expect(rec.timing.startupMs).toBeGreaterThan(0);
    expect(Object.keys(rec.timing.phases)).toEqual(['create', 'attach', 'start', 'wait', 'collect']);
    expect(rec.sandbox).toBe('fresh');

    expect(await noLeftovers(runtime.instanceId)).toEqual([]);
    execFileSync('docker', ['rmi', '-f', `nebula-test/upper:${TAG}`], { stdio: 'ignore' });
    await nebula.deploy({ name: 'upper2', docker: { tarball: join(dir, 'upper.tar') } });
    expect((await nebula.invoke('upper2', 'ab')).result).toEqual({ len: 4, up: 'AB' });
  });

  it('refuses an image that does not exist, and archives that are not images, at deploy time', async () => {
    const missing = await nebula
      .deploy({ name: 'ghost', docker: { image: 'nebula-test/does-not-exist:0' } })
      .catch((e: unknown) => e);
    expect(missing).toMatchObject({ code: 'INVALID_FUNCTION' });
    expect((missing as Error).message).toMatch(/not in the engine, and nothing is pulled/);
    writeFileSync(join(dir, 'junk.tar'), 'not a tar file at all');
    await expect(nebula.deploy({ name: 'junk', docker: { tarball: join(dir, 'junk.tar') } })).rejects.toMatchObject({
      code: 'INVALID_FUNCTION',
    });
    await expect(nebula.deploy({ name: 'nofile', docker: { tarball: join(dir, 'none.tar') } })).rejects.toMatchObject({
      code: 'INVALID_FUNCTION',
    });
    await expect(nebula.deploy({ name: 'notelf', docker: { binary: join(dir, 'upper.c') } })).rejects.toMatchObject({
      code: 'INVALID_FUNCTION',
    });
    // Binaries that cannot run alone in a FROM scratch image: dynamically linked, or only an ELF magic.
    await expect(nebula.deploy({ name: 'ls', docker: { binary: '/bin/ls' } })).rejects.toMatchObject({
      code: 'INVALID_FUNCTION',
      message: expect.stringMatching(/dynamically linked/),
    });
    writeFileSync(join(dir, 'magic'), '\x7fELF', 'latin1');
    await expect(nebula.deploy({ name: 'magic', docker: { binary: join(dir, 'magic') } })).rejects.toMatchObject({
      code: 'INVALID_FUNCTION',
    });
    expect(nebula.has('ghost') || nebula.has('ls') || nebula.has('magic')).toBe(false);
  });

  it("builds a binary for the engine's architecture from a per-architecture map, and names the architecture when there is none", async () => {
    const arch = (await import('../../../src/index.js')).dockerArch();
    const other = arch === 'amd64' ? 'arm64' : 'amd64';
    const [info] = await nebula.deploy({
      name: 'mapped',
      docker: { binary: { [arch]: bins.upper!, [other]: '/nonexistent/binary' } },
    });
    expect(info!.runtimes).toEqual(['docker']);
    expect((await nebula.invoke('mapped', 'hi', { runtime: 'docker' })).result).toEqual({ len: 4, up: 'HI' });
    const err = await nebula
      .deploy({ name: 'foreign', docker: { binary: { [other]: bins.upper! } } })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'RUNTIME_NOT_DEPLOYED' });
    expect((err as Error).message).toContain(`architecture ${arch} (it has: ${other})`);
  });

  it('reports an image that exits non-zero with its code and stderr', async () => {
    await nebula.deploy({ name: 'exit7', docker: { binary: bins.exit7! } });
    const rec = await nebula.invoke('exit7', null);
    expect(rec.ok).toBe(false);
    expect(rec.error).toMatchObject({ code: 'FUNCTION_FAILED', exitCode: 7 });
    expect(rec.error?.stderr).toContain('exit7: giving up');
  });

  it('kills a container that sleeps forever at its timeout and leaves nothing behind', async () => {
    await nebula.deploy({ name: 'sleeper', docker: { binary: bins.sleeper! } });
    const rec = await nebula.invoke('sleeper', null, { timeoutMs: 1500 });
    expect(rec.ok).toBe(false);
    expect(rec.error?.code).toBe('TIMEOUT');
    expect(await noLeftovers(runtime.instanceId)).toEqual([]);
  });

  it('reports a container killed at its memory limit as MEMORY_LIMIT', async () => {
    await nebula.deploy({ name: 'hog', docker: { binary: bins.hog! }, limits: { memoryMiB: 16 } });
    const rec = await nebula.invoke('hog', null, { timeoutMs: 30_000 });
    expect(rec.ok).toBe(false);
    expect(rec.error?.code).toBe('MEMORY_LIMIT');
  });

  it('isolates by default: no network interface but loopback, read-only root, user nobody, a 1 MiB /dev/shm', async () => {
    await nebula.deploy({ name: 'probe', docker: { binary: bins.probe! } });
    const rec = await nebula.invoke('probe', null);
    expect(rec.result).toEqual({ interfaces: 1, loopback: 1, rootWritable: false });
    await nebula.deploy({ name: 'limits', docker: { binary: compileProgram('probe') } });
    expect((await nebula.invoke('limits', 'limits')).result).toEqual({
      uid: 65534,
      shmBytes: 1024 * 1024,
      rootWritable: false,
    });
    expect((await nebula.invoke('limits', 'limits', { mode: 'warm' })).result).toEqual({
      uid: 65534,
      shmBytes: 1024 * 1024,
      rootWritable: false,
    });
  });

  it("runs as the image's own user when asked (user: 'image'), root included", async () => {
    const rt = new DockerRuntime({ user: 'image' });
    const n = new Nebula({ builtins: false, runtimes: { docker: rt } });
    await n.deploy({ name: 'limits', docker: { binary: compileProgram('probe') } });
    expect((await n.invoke<{ uid: number }>('limits', 'limits')).result!.uid).toBe(0);
    expect((await n.invoke<{ uid: number }>('limits', 'limits', { mode: 'warm' })).result!.uid).toBe(0);
    await n.close();
    expect(await noLeftovers(rt.instanceId)).toEqual([]);
  });

  it('turns stdout over maxOutputBytes into OUTPUT_LIMIT (a 2.4 MB JSON array is never returned cut)', async () => {
    await nebula.deploy({ name: 'flood', docker: { binary: compileProgram('probe') } });
    const rec = await nebula.invoke('flood', 'flood');
    expect(rec).toMatchObject({ ok: false, result: null, error: { code: 'OUTPUT_LIMIT' } });
    expect(rec.error?.message).toMatch(/more than 1048576 bytes/);
  });

  it('runs prewarmed invocations from the pool, each container used once, none left after close', async () => {
    const rt = new DockerRuntime({ prewarmedContainers: 2 });
    const n = new Nebula({ builtins: false, runtimes: { docker: rt } });
    await n.deploy({ name: 'upper', docker: { binary: bins.upper! } });
    const recs = [];
    for (const s of ['a', 'bb', 'ccc', 'dddd']) {
      recs.push(await n.invoke('upper', s, { mode: 'prewarmed' }));
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(recs.map((r) => r.result)).toEqual([
      { len: 3, up: 'A' },
      { len: 4, up: 'BB' },
      { len: 5, up: 'CCC' },
      { len: 6, up: 'DDDD' },
    ]);
    // Later invocations took a pre-created container: no create phase of their own, and they say so.
    const pooled = recs.filter((r) => r.sandbox === 'prewarmed');
    expect(pooled.length).toBeGreaterThan(0);
    expect(pooled.every((r) => !('create' in r.timing.phases))).toBe(true);
    expect(recs.every((r) => r.mode === 'prewarmed' && (r.sandbox === 'prewarmed' || r.sandbox === 'fresh'))).toBe(
      true,
    );
    await n.close();
    expect(await noLeftovers(rt.instanceId)).toEqual([]);
  });

  it('gives RUNTIME_UNAVAILABLE, saying how to start an engine, when none answers', async () => {
    const n = new Nebula({
      builtins: false,
      runtimes: { docker: new DockerRuntime({ connection: { socketPath: '/nonexistent/docker.sock' } }) },
    });
    const err = await n.deploy({ name: 'x', docker: { image: 'anything' } }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'RUNTIME_UNAVAILABLE' });
    expect((err as Error).message).toMatch(/\/nonexistent\/docker\.sock.*dockerd/);
    const withBuiltins = new Nebula({
      runtimes: { docker: new DockerRuntime({ connection: { socketPath: '/nonexistent/docker.sock' } }) },
    });
    // Not a misuse of the API: the invocation is a failed record, kept like any other.
    const rec = await withBuiltins.invoke('fib', 5, { runtime: 'docker' });
    expect(rec).toMatchObject({ ok: false, error: { code: 'RUNTIME_UNAVAILABLE' } });
    expect((await withBuiltins.invoke('fib', 5, { runtime: 'wasm' })).result).toBe(5);
    await Promise.all([n.close(), withBuiltins.close()]);
  });
});
