import { describe, expect, it } from 'vitest';
import { describeTaskLimit, parsePidsMax, pidsCgroupDirs } from '../../src/supervisor/task-limit.js';

describe('pidsCgroupDirs', () => {
  it('v1: the pids hierarchy, innermost first, up to its root', () => {
    const text = '12:pids:/docker/abc\n11:memory:/docker/abc\n3:cpu,cpuacct:/docker/abc\n0::/system.slice\n';
    expect(pidsCgroupDirs(text)).toEqual([
      '/sys/fs/cgroup/pids/docker/abc',
      '/sys/fs/cgroup/pids/docker',
      '/sys/fs/cgroup/pids',
      '/sys/fs/cgroup/system.slice',
      '/sys/fs/cgroup',
    ]);
  });
  it('v2 only, and a cgroup namespace root', () => {
    expect(pidsCgroupDirs('0::/a/b\n')).toEqual(['/sys/fs/cgroup/a/b', '/sys/fs/cgroup/a', '/sys/fs/cgroup']);
    expect(pidsCgroupDirs('5:pids:/\n')).toEqual(['/sys/fs/cgroup/pids']);
  });
  it('ignores lines it does not know', () => {
    expect(pidsCgroupDirs('garbage\n1:name=systemd:/x\n')).toEqual([]);
  });
});

describe('parsePidsMax', () => {
  it('reads a number or no limit', () => {
    expect(parsePidsMax('3\n')).toBe(3);
    expect(parsePidsMax('max\n')).toBeUndefined();
    expect(parsePidsMax('')).toBeUndefined();
  });
});

describe('describeTaskLimit', () => {
  it('names the pids limit that is reached and the least pids.max that starts the program', () => {
    expect(describeTaskLimit({ file: '/sys/fs/cgroup/pids/x/pids.max', max: 3, current: 3 }, 3)).toBe(
      "the pids limit is reached (/sys/fs/cgroup/pids/x/pids.max: 3, 3 in use); the init takes 3 tasks (Node's main thread and its helper threads) " +
        'and the program at least 1 more, so pids.max must be at least 4',
    );
  });
  it('otherwise names the other limits that give EAGAIN', () => {
    expect(describeTaskLimit(undefined, 3)).toMatch(/^the process or thread limit is reached \(RLIMIT_NPROC, or the kernel's threads-max\); the init takes 3 tasks/);
  });
});
