import { describe, expect, it } from 'vitest';
import {
  cgroupArgs,
  cgroupSetup,
  chooseCgroups,
  namedCgroup,
  parseCgroupMounts,
  treeBound,
  type CgroupHost,
} from '../../../src/runtimes/process/cgroup.js';
import { limitReport, planLimits } from '../../../src/runtimes/process/limits.js';

const V1 = (id: number, point: string, controllers: string) =>
  `${id} 31 0:${id} / /sys/fs/cgroup/${point} rw,relatime - cgroup cgroup rw,${controllers}`;
const V2 = (point: string, root = '/') => `41 31 0:41 ${root} ${point} rw,relatime - cgroup2 cgroup2 rw,nsdelegate`;
const HYBRID_MOUNTS = [
  '31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
  V1(32, 'cpu', 'cpu'),
  V1(33, 'cpuacct', 'cpuacct'),
  V1(35, 'memory', 'memory'),
  V1(39, 'pids', 'pids'),
  V2('/sys/fs/cgroup/unified'),
].join('\n');

/** A host whose files are `files` (path to content) and whose writable paths are those under `writable`. */
function host(procCgroup: string, mountinfo: string, files: Record<string, string>, writable: string[]): CgroupHost {
  return {
    procCgroup,
    mountinfo,
    read: (path) => files[path],
    writable: (path) => writable.some((w) => path === w || path.startsWith(`${w}/`)),
  };
}

describe('where the process runtime makes its cgroups', () => {
  it("on a v1/v2 hybrid: the host's own v1 memory cgroup, with its v1 cpuacct one for the tree's CPU time", () => {
    const own = '4:memory:/system.slice/app.service\n2:cpuacct:/\n0::/\n';
    const files = {
      '/sys/fs/cgroup/unified/cgroup.controllers': 'hugetlb\n',
      '/sys/fs/cgroup/unified/cgroup.subtree_control': '\n',
    };
    expect(chooseCgroups(host(own, HYBRID_MOUNTS, files, ['/sys/fs/cgroup']))).toEqual({
      parents: [
        { kind: 'memory', dir: '/sys/fs/cgroup/memory/system.slice/app.service' },
        { kind: 'cpuacct', dir: '/sys/fs/cgroup/cpuacct' },
      ],
    });
    // The memory cgroup alone is enough to bound the tree.
    expect(chooseCgroups(host(own, HYBRID_MOUNTS, files, ['/sys/fs/cgroup/memory'])).parents).toEqual([
      { kind: 'memory', dir: '/sys/fs/cgroup/memory/system.slice/app.service' },
    ]);
  });

  it("on cgroup v2: the cgroup above the host's own when the host's has processes and that one enables memory for its children", () => {
    const own = '0::/user.slice/user-0.slice/session-1.scope\n';
    const files = {
      '/sys/fs/cgroup/cgroup.controllers': 'cpuset cpu io memory pids\n',
      '/sys/fs/cgroup/user.slice/user-0.slice/session-1.scope/cgroup.subtree_control': '\n',
      '/sys/fs/cgroup/user.slice/user-0.slice/cgroup.subtree_control': 'cpu memory pids\n',
    };
    expect(chooseCgroups(host(own, V2('/sys/fs/cgroup'), files, ['/sys/fs/cgroup']))).toEqual({
      parents: [{ kind: 'v2', dir: '/sys/fs/cgroup/user.slice/user-0.slice' }],
    });
  });

  it('on cgroup v2 as a user: only a delegated cgroup, and says why when there is none', () => {
    const own = '0::/user.slice/user-1000.slice/user@1000.service/app.slice/run.scope/host\n';
    const scope = '/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/app.slice/run.scope';
    const files = {
      '/sys/fs/cgroup/cgroup.controllers': 'cpu memory pids\n',
      [`${scope}/cgroup.subtree_control`]: 'memory pids\n',
      [`${scope}/host/cgroup.subtree_control`]: '',
    };
    expect(chooseCgroups(host(own, V2('/sys/fs/cgroup'), files, [scope])).parents).toEqual([
      { kind: 'v2', dir: scope },
    ]);
    const none = chooseCgroups(host(own, V2('/sys/fs/cgroup'), files, []));
    expect(none.parents).toEqual([]);
    expect(none.why).toBe(
      `no cgroup could be made: neither ${scope}/host nor the cgroup above it has the memory controller enabled for its children and is writable by this user (cgroup v2)`,
    );
  });

  it('on cgroup v1 alone: memory, with cpuacct (mounted with cpu) for the CPU time', () => {
    const own = '5:memory:/user/1000\n3:cpu,cpuacct:/user/1000\n';
    const mounts = [V1(34, 'cpu,cpuacct', 'cpu,cpuacct'), V1(35, 'memory', 'memory')].join('\n');
    expect(chooseCgroups(host(own, mounts, {}, ['/sys/fs/cgroup'])).parents).toEqual([
      { kind: 'memory', dir: '/sys/fs/cgroup/memory/user/1000' },
      { kind: 'cpuacct', dir: '/sys/fs/cgroup/cpu,cpuacct/user/1000' },
    ]);
    expect(chooseCgroups(host(own, mounts, {}, [])).why).toBe(
      'no cgroup could be made: /sys/fs/cgroup/memory/user/1000 (cgroup v1 memory) is not writable by this user',
    );
  });

  it("reads mounts of a sub-tree (a container's view) and escaped mount points, and says when nothing is mounted", () => {
    const mounts = parseCgroupMounts(`${V2('/sys/fs/my\\040cgroup', '/docker/abc')}\n${V1(35, 'memory', 'rw,memory')}`);
    expect(mounts).toEqual([
      { point: '/sys/fs/my cgroup', root: '/docker/abc', v2: true, controllers: [] },
      { point: '/sys/fs/cgroup/memory', root: '/', v2: false, controllers: ['rw', 'rw', 'memory'] },
    ]);
    const files = { '/sys/fs/my cgroup/cgroup.subtree_control': 'memory\n' };
    expect(
      chooseCgroups(host('0::/docker/abc\n', V2('/sys/fs/my\\040cgroup', '/docker/abc'), files, ['/sys/fs/my cgroup']))
        .parents,
    ).toEqual([{ kind: 'v2', dir: '/sys/fs/my cgroup' }]);
    expect(chooseCgroups(host('0::/\n', '22 1 0:21 / /proc rw - proc proc rw', {}, [])).why).toBe(
      'no cgroup could be made: no cgroup with a memory controller is mounted where this process can see it',
    );
  });

  it('takes a named parent only when it is a usable cgroup, and none when turned off', () => {
    const files = {
      '/cg/v2/cgroup.controllers': 'memory\n',
      '/cg/v2/cgroup.subtree_control': 'memory\n',
      '/cg/bare/cgroup.controllers': 'memory\n',
      '/cg/bare/cgroup.subtree_control': '\n',
      '/cg/v1/memory.limit_in_bytes': '9223372036854771712\n',
    };
    const h = host('', '', files, ['/cg/v2', '/cg/v1']);
    expect(namedCgroup('/cg/v2', h)).toEqual({ parents: [{ kind: 'v2', dir: '/cg/v2' }] });
    expect(namedCgroup('/cg/v1', h)).toEqual({ parents: [{ kind: 'memory', dir: '/cg/v1' }] });
    expect(() => namedCgroup('/cg/bare', h)).toThrow(/does not enable the memory controller for its children/);
    expect(() => namedCgroup('/cg/v1', host('', '', files, []))).toThrow(/is not writable by this user/);
    expect(() => namedCgroup('/tmp', h)).toThrow(
      expect.objectContaining({
        code: 'INVALID_ARGUMENT',
        message: expect.stringMatching(/is not a cgroup directory/),
      }),
    );
    expect(() => namedCgroup('cg/v2', h)).toThrow(/is not an absolute path/);
    expect(() => cgroupSetup(1 as unknown as boolean, h)).toThrow(
      /must be true, false or the path of a parent cgroup, got number/,
    );
    expect(cgroupSetup(false, h)).toEqual({
      parents: [],
      why: "cgroups are turned off (the process runtime's option cgroup: false)",
    });
  });

  it("passes the parents and the tree's memory limit to the helper", () => {
    expect(
      cgroupArgs(
        {
          parents: [
            { kind: 'memory', dir: '/m' },
            { kind: 'v2', dir: '/u' },
          ],
        },
        1024,
      ),
    ).toEqual(['--cgroup', 'memory:/m', '--cgroup', 'v2:/u', '--memory-max', '1024']);
    expect(cgroupArgs({ parents: [], why: 'none' }, 1024)).toEqual([]);
  });
});

describe('what a record says of limits.memoryMiB', () => {
  const plan = planLimits({ name: 'f', limits: { memoryMiB: 64 } }, 1000, 1024 * 1024);
  const v1 = { parents: [{ kind: 'memory' as const, dir: '/m' }] };
  const memory = (
    setup: Parameters<typeof treeBound>[0],
    reported: string | undefined,
    errnos: number[] | undefined = [0, 0, 0, 0],
  ) => limitReport(plan, 1, errnos, treeBound(setup, reported)).memoryMiB;

  it('held for the whole tree when the run joined its cgroup', () => {
    expect(memory(v1, 'ok')).toEqual({
      value: 64,
      held: true,
      how: 'cgroup v1 memory.limit_in_bytes (and memsw where swap is accounted): the whole process tree, killed together at the limit; RLIMIT_AS (address space) per process',
    });
    expect(memory({ parents: [{ kind: 'v2', dir: '/u' }] }, 'ok')?.how).toMatch(
      /^cgroup v2 memory\.max \(swap\.max 0\): the whole process tree/,
    );
  });

  it('not held when there was no cgroup, or it could not be set up: RLIMIT_AS bounds each process alone', () => {
    expect(memory({ parents: [], why: 'no cgroup could be made: x' }, '-')).toEqual({
      value: 64,
      held: false,
      how: 'RLIMIT_AS (address space) bounds each process alone, not the process tree: no cgroup could be made: x',
    });
    expect(memory(v1, 'mkdir:13')?.how).toBe(
      "RLIMIT_AS (address space) bounds each process alone, not the process tree: the run's cgroup could not be set up (mkdir: EACCES)",
    );
    expect(memory(v1, 'join:1', [22, 0, 0, 0])).toMatchObject({
      held: false,
      how: expect.stringMatching(/^RLIMIT_AS could not be set \(EINVAL\), not the process tree: .*\(join: EPERM\)/),
    });
    expect(limitReport(plan, 1, undefined, treeBound(v1, undefined)).memoryMiB).toMatchObject({
      held: false,
      how: 'RLIMIT_AS (address space): not reached (the function did not start)',
    });
  });
});
