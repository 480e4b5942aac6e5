import { describe, expect, it } from 'vitest';
import { DEFAULT_MASKED_PATHS, DEFAULT_MOUNTS, DEFAULT_READONLY_PATHS, MS, mountOptions, planRootfs, type Op, type RootfsOptions } from '../../src/runtime/rootfs/plan.js';

const base: RootfsOptions = {
  root: '/run/c1/root', readOnly: false, volumes: [], hostname: 'box', resolvConf: 'nameserver 10.0.0.1\n',
  etcDir: '/run/c1/etc', newNetNs: true, maskedPaths: [...DEFAULT_MASKED_PATHS], readonlyPaths: [...DEFAULT_READONLY_PATHS],
};
const mounts = (ops: Op[]) => ops.filter((o): o is Extract<Op, { op: 'mount' }> => o.op === 'mount');
const index = (ops: Op[], pred: (o: Op) => boolean) => ops.findIndex(pred);

describe('root filesystem plan', () => {
  it('makes the tree private before mounting anything else', () => {
    const ops = planRootfs(base);
    expect(ops[0]).toEqual({ op: 'mount', source: '', target: '/', fstype: '', flags: MS.REC | MS.PRIVATE, data: '' });
  });

  it('binds --rootfs onto itself so that pivot_root can use it', () => {
    expect(mounts(planRootfs(base))[1]).toMatchObject({ source: '/run/c1/root', target: '/run/c1/root', flags: MS.BIND | MS.REC });
  });

  it('builds an overlay with the top layer first in lowerdir', () => {
    const ops = planRootfs({ ...base, layers: { lower: ['/l/base', '/l/app'], upper: '/u', work: '/w' } });
    expect(mounts(ops)[1]).toEqual({ op: 'mount', source: 'overlay', target: '/run/c1/root', fstype: 'overlay', flags: 0, data: 'lowerdir=/l/app:/l/base,upperdir=/u,workdir=/w' });
  });

  it('mounts proc, /dev and its devices, devpts, shm, mqueue, a read-only sysfs, under the new root', () => {
    const m = mounts(planRootfs(base));
    const at = (t: string) => m.find((x) => x.target === '/run/c1/root' + t);
    expect(at('/proc')).toMatchObject({ fstype: 'proc' });
    expect(at('/dev')).toMatchObject({ fstype: 'tmpfs', data: 'mode=755,size=65536k' });
    const nodes = planRootfs(base).filter((o) => o.op === 'mknod').map((o) => (o as { path: string }).path);
    expect(nodes).toEqual(['null', 'zero', 'full', 'tty', 'random', 'urandom'].map((d) => `/run/c1/root/dev/${d}`));
    expect(at('/dev/pts')).toMatchObject({ fstype: 'devpts', data: expect.stringContaining('newinstance') });
    expect(at('/dev/shm')).toMatchObject({ fstype: 'tmpfs' });
    expect(at('/dev/mqueue')).toMatchObject({ fstype: 'mqueue' });
    expect(at('/sys')!.flags & MS.RDONLY).toBe(MS.RDONLY);
  });

  it('binds /sys read-only when the network namespace is shared', () => {
    const m = mounts(planRootfs({ ...base, newNetNs: false })).filter((x) => x.target === '/run/c1/root/sys');
    expect(m.map((x) => x.flags)).toEqual([MS.BIND | MS.REC, MS.BIND | MS.REMOUNT | MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC]);
  });

  it('provides /etc/hostname, /etc/hosts and /etc/resolv.conf', () => {
    const ops = planRootfs(base);
    expect(ops).toContainEqual({ op: 'write-file', path: '/run/c1/etc/hostname', content: 'box\n' });
    expect(ops).toContainEqual({ op: 'write-file', path: '/run/c1/etc/resolv.conf', content: 'nameserver 10.0.0.1\n' });
    const hosts = ops.find((o) => o.op === 'write-file' && o.path.endsWith('/hosts')) as { content: string };
    expect(hosts.content).toMatch(/^127\.0\.0\.1\tlocalhost$/m);
    expect(hosts.content).toMatch(/\tbox$/m);
    for (const f of ['hostname', 'hosts', 'resolv.conf']) expect(mounts(ops)).toContainEqual(expect.objectContaining({ source: `/run/c1/etc/${f}`, target: `/run/c1/root/etc/${f}` }));
  });

  it('binds volumes and remounts the read-only ones', () => {
    const m = mounts(planRootfs({ ...base, volumes: [{ source: '/data', destination: '/srv/data', readonly: true }, { source: '/w', destination: '/w', readonly: false }] }));
    expect(m.filter((x) => x.target === '/run/c1/root/srv/data').map((x) => x.flags)).toEqual([MS.BIND | MS.REC, MS.BIND | MS.REMOUNT | MS.RDONLY]);
    expect(m.filter((x) => x.target === '/run/c1/root/w')).toHaveLength(1);
  });

  it('pivots after every mount under the root, then masks, protects and makes the root read-only', () => {
    const ops = planRootfs({ ...base, readOnly: true });
    const pivot = index(ops, (o) => o.op === 'pivot-root');
    const lastRootMount = ops.map((o, i) => (o.op === 'mount' && o.target.startsWith('/run/c1/root') ? i : -1)).reduce((a, b) => Math.max(a, b));
    expect(pivot).toBeGreaterThan(lastRootMount);
    expect(ops[pivot + 1]).toEqual({ op: 'chdir', path: '/' });
    const masks = ops.filter((o) => o.op === 'mask').map((o) => (o as { path: string }).path);
    expect(masks).toEqual(expect.arrayContaining(['/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware']));
    expect(ops.filter((o) => o.op === 'readonly').map((o) => (o as { path: string }).path)).toEqual(['/proc/asound', '/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger']);
    expect(index(ops, (o) => o.op === 'readonly')).toBeGreaterThan(pivot);
    expect(ops.at(-1)).toEqual({ op: 'mount', source: '', target: '/', fstype: '', flags: MS.BIND | MS.REMOUNT | MS.RDONLY, data: '' });
  });

  it('leaves the root writable without --read-only', () => {
    const last = planRootfs(base).at(-1)!;
    expect(last.op).toBe('mask');
  });

  it('follows the OCI mounts it is given, in order, and places the cgroup hierarchies read-only', () => {
    const ops = planRootfs({ ...base, mounts: DEFAULT_MOUNTS });
    const targets = mounts(ops).map((m) => m.target).filter((t) => t.startsWith('/run/c1/root/') && !t.includes('/etc/'));
    expect(targets).toEqual(['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/sys'].map((t) => '/run/c1/root' + t));
    expect(ops).toContainEqual({ op: 'cgroup', target: '/run/c1/root/sys/fs/cgroup', readonly: true, flags: MS.NOSUID | MS.NOEXEC | MS.NODEV | MS.RELATIME });
  });

  it('without an /etc directory to generate (OCI bundles), binds no /etc files', () => {
    const ops = planRootfs({ ...base, etcDir: null });
    expect(ops.some((o) => o.op === 'write-file' || (o.op === 'mount' && o.target.includes('/etc/')))).toBe(false);
  });

  it('turns OCI mount options into flags and data as runc does', () => {
    expect(mountOptions(['nosuid', 'strictatime', 'mode=755', 'size=65536k'])).toEqual({ flags: MS.NOSUID | MS.STRICTATIME, data: 'mode=755,size=65536k' });
    expect(mountOptions(['rbind', 'ro', 'rprivate'])).toEqual({ flags: MS.BIND | MS.REC | MS.RDONLY, data: '' });
    expect(mountOptions(['ro', 'rw']).flags).toBe(0);
  });

  it('binds a bind mount first, then remounts it with its flags', () => {
    const ops = planRootfs({ ...base, volumes: [], mounts: [{ destination: '/data', type: 'bind', source: '/srv', options: ['rbind', 'ro', 'nosuid'] }] });
    expect(mounts(ops).filter((m) => m.target === '/run/c1/root/data').map((m) => m.flags)).toEqual([MS.BIND | MS.REC, MS.BIND | MS.REMOUNT | MS.RDONLY | MS.NOSUID]);
  });
});
