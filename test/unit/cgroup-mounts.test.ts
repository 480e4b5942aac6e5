/**
 * What a container's /sys/fs/cgroup shows: the hierarchies its init is in,
 * as the host mounts them. The launcher works it out for the init before the
 * init has joined (the directories it made), which must be what the init
 * would read once it has: checked here on a hybrid host's texts (v1
 * hierarchies, one of them cpu,cpuacct mounted once, a named one, the v2
 * tree), and for real in the integration tests (run-limits, container-runc).
 */
import { describe, expect, it } from 'vitest';
import { cgroupMountsFrom } from '../../src/runtime/rootfs/cgroup-mounts.js';

const MOUNTINFO = [
  '44 43 254:0 / / rw,relatime - ext4 /dev/vda1 rw',
  '48 47 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
  '49 48 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct',
  '52 48 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
  '53 48 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices',
  '56 48 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids',
  '57 48 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd',
  '58 48 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
].join('\n');

/** The launcher: in /user.slice where systemd put it, at the root elsewhere. */
const LAUNCHER = ['6:pids:/', '5:devices:/', '4:memory:/', '3:cpu,cpuacct:/', '1:name=systemd:/user.slice/session-1.scope', '0::/user.slice/session-1.scope', ''].join('\n');
const C = 'tini-ts/42-1-abc';

describe('the cgroup hierarchies of a container init', () => {
  it('worked out from the directories it will join equal what it reads once it has joined them', () => {
    const dirs = ['memory', 'pids', 'cpu,cpuacct', 'unified'].map((h) => `/sys/fs/cgroup/${h}/${C}`);
    const joined = ['6:pids:/' + C, '5:devices:/', '4:memory:/' + C, '3:cpu,cpuacct:/' + C, '1:name=systemd:/user.slice/session-1.scope', '0::/' + C, ''].join('\n');
    const before = cgroupMountsFrom(LAUNCHER, MOUNTINFO, dirs);
    expect(before).toEqual(cgroupMountsFrom(joined, MOUNTINFO, []));
    expect(before).toEqual([
      { mountPoint: '/sys/fs/cgroup/cpu,cpuacct', source: `/sys/fs/cgroup/cpu,cpuacct/${C}`, fstype: 'cgroup' },
      { mountPoint: '/sys/fs/cgroup/memory', source: `/sys/fs/cgroup/memory/${C}`, fstype: 'cgroup' },
      { mountPoint: '/sys/fs/cgroup/pids', source: `/sys/fs/cgroup/pids/${C}`, fstype: 'cgroup' },
      // Where no directory was made, the init stays where the launcher is (the root: not shown).
      { mountPoint: '/sys/fs/cgroup/systemd', source: '/sys/fs/cgroup/systemd/user.slice/session-1.scope', fstype: 'cgroup' },
      { mountPoint: '/sys/fs/cgroup/unified', source: `/sys/fs/cgroup/unified/${C}`, fstype: 'cgroup2' },
    ]);
  });

  it('a mount of a subtree (a host inside a container) is followed; a cgroup outside it is not shown', () => {
    const info = '60 48 0:32 /outer /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory';
    expect(cgroupMountsFrom('4:memory:/outer/x\n', info, [])).toEqual([{ mountPoint: '/sys/fs/cgroup/memory', source: '/sys/fs/cgroup/memory/x', fstype: 'cgroup' }]);
    expect(cgroupMountsFrom('4:memory:/elsewhere\n', info, [])).toEqual([]);
    expect(cgroupMountsFrom('4:memory:/\n', info, ['/sys/fs/cgroup/memory/y'])).toEqual([{ mountPoint: '/sys/fs/cgroup/memory', source: '/sys/fs/cgroup/memory/y', fstype: 'cgroup' }]);
  });
});
