import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseMountinfo, type Hierarchies } from '../../../src/cgroup-mounts.js';
import { containerResources, ContainerCgroup } from '../../../src/runtimes/docker/cgroup.js';

const root = mkdtempSync(join(tmpdir(), 'nebula-cgroup-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Folders standing for cgroup hierarchies, with one container parent's files written into them. */
function hierarchy(files: Record<string, string>): Hierarchies {
  const base = mkdtempSync(join(root, 'h-'));
  const mounts: Hierarchies = { v1: new Map(), v2: join(base, 'unified'), all: [] };
  for (const [path, text] of Object.entries(files)) {
    const [mount] = path.split('/');
    const full = join(base, path);
    mkdirSync(join(full, '..'), { recursive: true });
    writeFileSync(full, text);
    if (mount !== 'unified') mounts.v1.set(mount!, join(base, mount!));
  }
  mounts.all = [...new Set([...mounts.v1.values(), mounts.v2!])];
  return mounts;
}

describe('reading a container from its own cgroup parent', () => {
  it('finds the v1 controllers and the v2 hierarchy of a hybrid host, leaving out mounts of a part of one', () => {
    const h = parseMountinfo(
      [
        '30 24 0:26 / /sys/fs/cgroup/unified rw,nosuid - cgroup2 cgroup2 rw,nsdelegate',
        '31 24 0:27 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid - cgroup cgroup rw,cpu,cpuacct',
        '32 24 0:28 / /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory',
        '33 24 0:29 /docker/abc /mnt/part rw - cgroup cgroup rw,pids',
        '34 24 0:30 / /mnt/with\\040space rw - cgroup cgroup rw,blkio',
        '35 24 8:1 / / rw - ext4 /dev/sda1 rw',
      ].join('\n'),
    );
    expect(h.v2).toBe('/sys/fs/cgroup/unified');
    expect(h.v1.get('cpuacct')).toBe('/sys/fs/cgroup/cpu,cpuacct');
    expect(h.v1.get('cpu')).toBe('/sys/fs/cgroup/cpu,cpuacct');
    expect(h.v1.get('memory')).toBe('/sys/fs/cgroup/memory');
    expect(h.v1.get('blkio')).toBe('/mnt/with space');
    expect(h.v1.has('pids')).toBe(false);
    expect(h.all).toHaveLength(4);
  });

  it('reads cgroup v1: the exact total, split in the proportion of the tick counts, and the peak memory', () => {
    const mounts = hierarchy({
      'cpuacct/nebula/c1/cpuacct.usage': '30951490\n',
      'cpuacct/nebula/c1/cpuacct.usage_user': '16000000\n',
      'cpuacct/nebula/c1/cpuacct.usage_sys': '16000000\n',
      'memory/nebula/c1/memory.max_usage_in_bytes': '4329472\n',
    });
    const usage = new ContainerCgroup('/nebula/c1', 1, mounts).read();
    expect(usage).toEqual({ cpuMs: 30.95149, userMs: 15.475745, systemMs: 15.475745, peakBytes: 4329472 });
    const r = containerResources(usage, 100, 1);
    expect(r).toMatchObject({
      cpuMs: 30.95149,
      maxMemoryBytes: 4329472,
      cpuSource: 'cgroup-v1',
      memorySource: 'cgroup-v1',
      cpuSinceAt: 100,
    });
  });

  it('reads cgroup v2: cpu.stat in microseconds and memory.peak', () => {
    const mounts = hierarchy({
      'unified/nebula/c2/cpu.stat': 'usage_usec 30951\nuser_usec 17686\nsystem_usec 13264\nnice_usec 0\n',
      'unified/nebula/c2/memory.peak': '2097152\n',
    });
    expect(new ContainerCgroup('/nebula/c2', 2, mounts).read()).toEqual({
      cpuMs: 30.951,
      userMs: 17.686,
      systemMs: 13.264,
      peakBytes: 2097152,
    });
  });

  it('subtracts the reading before a run of a reused container', () => {
    const r = containerResources({ cpuMs: 50, userMs: 30, systemMs: 20, peakBytes: 9 }, 7, 2, {
      cpuMs: 20,
      userMs: 15,
      systemMs: 5,
      peakBytes: 8,
    });
    expect(r).toEqual({
      cpuMs: 30,
      userMs: 15,
      systemMs: 15,
      cpuSinceAt: 7,
      maxMemoryBytes: 9,
      cpuSource: 'cgroup-v2',
      memorySource: 'cgroup-v2',
    });
  });

  it('says why when the cgroup is gone, holds no count, or is not there to read at all', () => {
    const mounts = hierarchy({
      'cpuacct/nebula/bad/cpuacct.usage': 'garbage\n',
      'unified/nebula/v2/cpu.stat': 'nice_usec 0\n',
    });
    const gone = new ContainerCgroup('/nebula/gone', 1, mounts).read();
    expect(gone).toMatch(/cgroup \/nebula\/gone is not on this host/);
    expect(new ContainerCgroup('/nebula/bad', 1, mounts).read()).toMatch(/does not hold a count/);
    expect(new ContainerCgroup('/nebula/v2', 2, mounts).read()).toMatch(/has no usage_usec/);
    const none: Hierarchies = { v1: new Map(), v2: undefined, all: [] };
    expect(new ContainerCgroup('/x', 1, none).read()).toMatch(/no cgroup v1 cpuacct hierarchy/);
    expect(new ContainerCgroup('/x', 2, none).read()).toMatch(/no cgroup v2 hierarchy/);
    const r = containerResources(gone, 1, 1);
    expect(r).toMatchObject({ cpuMs: null, maxMemoryBytes: null, cpuSource: null, memorySource: null });
    expect(r.note).toMatch(/not on this host/);
  });

  it('removes the parent from every hierarchy once the container is gone', async () => {
    const mounts = hierarchy({ 'cpuacct/nebula/c3/cpuacct.usage': '1\n', 'memory/nebula/c3/x': '' });
    rmSync(join(mounts.v1.get('cpuacct')!, 'nebula/c3/cpuacct.usage'));
    rmSync(join(mounts.v1.get('memory')!, 'nebula/c3/x'));
    await new ContainerCgroup('/nebula/c3', 1, mounts).remove();
    expect(new ContainerCgroup('/nebula/c3', 1, mounts).read()).toMatch(/not on this host/);
  });
});
