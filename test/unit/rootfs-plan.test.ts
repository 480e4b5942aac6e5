import { describe, expect, it } from 'vitest';
import { DEFAULT_MASKED_PATHS, DEFAULT_MOUNTS, DEFAULT_READONLY_PATHS, cleanDestination, createdInRoot, mountOptions, planRootfs, type Op, type RootfsOptions } from '../../src/runtime/rootfs/plan.js';
import { MS } from '../../src/libc/consts.js';

const base: RootfsOptions = {
  root: '/run/c1/root', readOnly: false, volumes: [], hostname: 'box', resolvConf: 'nameserver 10.0.0.1\n',
  etcDir: '/run/c1/etc', newNetNs: true, maskedPaths: [...DEFAULT_MASKED_PATHS], readonlyPaths: [...DEFAULT_READONLY_PATHS],
};
type InRoot = Extract<Op, { op: 'mount-in-root' }>;
const inRoot = (ops: Op[]) => ops.filter((o): o is InRoot => o.op === 'mount-in-root');
const rootOp = (ops: Op[]) => ops.find((o): o is Extract<Op, { op: 'root' }> => o.op === 'root')!;
const index = (ops: Op[], pred: (o: Op) => boolean) => ops.findIndex(pred);

describe('root filesystem plan', () => {
  it('makes the tree private before mounting anything else', () => {
    const ops = planRootfs(base);
    expect(ops[0]).toEqual({ op: 'mount', source: '', target: '/', fstype: '', flags: MS.REC | MS.PRIVATE, data: '' });
  });

  it('builds the root next: --rootfs bound onto itself, writable: nothing to probe', () => {
    expect(planRootfs(base)[1]).toEqual({ op: 'root', path: '/run/c1/root' });
  });

  it('builds an overlay of the layers (the apply step lists the top layer first)', () => {
    const layers = { lower: ['/l/base', '/l/app'], upper: '/u', work: '/w' };
    expect(rootOp(planRootfs({ ...base, layers, readOnly: true }))).toEqual({ op: 'root', path: '/run/c1/root', layers });
  });

  it('a read-only --rootfs probes every path the plan would create in the root itself, nothing under a mount', () => {
    const ops = planRootfs({ ...base, readOnly: true, volumes: [{ source: '/data', destination: '/srv/data', readonly: true }] });
    expect(rootOp(ops).probe).toEqual(['/proc', '/dev', '/sys', '/srv/data', '/etc/hostname', '/etc/hosts', '/etc/resolv.conf']);
    expect(createdInRoot(planRootfs({ ...base, mounts: [] })).slice(0, 2)).toEqual(['/dev/null', '/dev/zero']);
  });

  it('mounts proc, /dev and its devices, devpts, shm, mqueue, a read-only sysfs, at paths inside the root', () => {
    const m = inRoot(planRootfs(base));
    const at = (t: string) => m.find((x) => x.target === t);
    expect(at('/proc')).toMatchObject({ fstype: 'proc', create: 'dir', mode: 0o555 });
    expect(at('/dev')).toMatchObject({ fstype: 'tmpfs', data: 'mode=755,size=65536k', create: 'dir' });
    const nodes = planRootfs(base).filter((o) => o.op === 'mknod').map((o) => (o as { path: string }).path);
    expect(nodes).toEqual(['null', 'zero', 'full', 'tty', 'random', 'urandom'].map((d) => `/dev/${d}`));
    expect(at('/dev/pts')).toMatchObject({ fstype: 'devpts', data: expect.stringContaining('newinstance') });
    expect(at('/dev/shm')).toMatchObject({ fstype: 'tmpfs' });
    expect(at('/dev/mqueue')).toMatchObject({ fstype: 'mqueue' });
    expect(at('/sys')!.flags & MS.RDONLY).toBe(MS.RDONLY);
  });

  it('binds /sys read-only when the network namespace is shared', () => {
    const m = inRoot(planRootfs({ ...base, newNetNs: false })).filter((x) => x.target === '/sys');
    expect(m).toEqual([expect.objectContaining({ source: '/sys', flags: MS.BIND | MS.REC, remount: MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC })]);
  });

  it('provides /etc/hostname, /etc/hosts and /etc/resolv.conf, each bound onto a file like its source', () => {
    const ops = planRootfs(base);
    expect(ops).toContainEqual({ op: 'write-file', path: '/run/c1/etc/hostname', content: 'box\n' });
    expect(ops).toContainEqual({ op: 'write-file', path: '/run/c1/etc/resolv.conf', content: 'nameserver 10.0.0.1\n' });
    const hosts = ops.find((o) => o.op === 'write-file' && o.path.endsWith('/hosts')) as { content: string };
    expect(hosts.content).toMatch(/^127\.0\.0\.1\tlocalhost$/m);
    expect(hosts.content).toMatch(/\tbox$/m);
    for (const f of ['hostname', 'hosts', 'resolv.conf']) {
      expect(inRoot(ops)).toContainEqual(expect.objectContaining({ source: `/run/c1/etc/${f}`, target: `/etc/${f}`, create: 'source', flags: MS.BIND }));
    }
  });

  it('binds volumes (a target like the source) and remounts the read-only ones', () => {
    const m = inRoot(planRootfs({ ...base, volumes: [{ source: '/data', destination: '/srv/data', readonly: true }, { source: '/w', destination: '/w', readonly: false }] }));
    expect(m.filter((x) => x.target === '/srv/data')).toEqual([expect.objectContaining({ flags: MS.BIND | MS.REC, create: 'source', remount: MS.RDONLY })]);
    expect(m.filter((x) => x.target === '/w')).toEqual([expect.objectContaining({ remount: null })]);
  });

  it('cleans destinations lexically: .. never climbs above the root', () => {
    expect(cleanDestination('/../../x')).toBe('/x');
    expect(cleanDestination('a/./b/../c/')).toBe('/a/c');
    expect(cleanDestination('/..')).toBe('/');
    const m = inRoot(planRootfs({ ...base, volumes: [{ source: '/src', destination: '/../../x', readonly: false }] }));
    expect(m.find((x) => x.source === '/src')).toMatchObject({ target: '/x' });
  });

  it('pivots after every mount under the root, then masks, protects and makes the root read-only', () => {
    const ops = planRootfs({ ...base, readOnly: true });
    const pivot = index(ops, (o) => o.op === 'pivot-root');
    const lastInRoot = ops.map((o, i) => (o.op === 'mount-in-root' || o.op === 'mknod' || o.op === 'symlink' || o.op === 'cgroup' ? i : -1)).reduce((a, b) => Math.max(a, b));
    expect(pivot).toBeGreaterThan(lastInRoot);
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
    const targets = inRoot(ops).map((m) => m.target).filter((t) => !t.startsWith('/etc/'));
    expect(targets).toEqual(['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/sys']);
    expect(ops).toContainEqual({ op: 'cgroup', target: '/sys/fs/cgroup', readonly: true, flags: MS.NOSUID | MS.NOEXEC | MS.NODEV | MS.RELATIME });
  });

  it('without an /etc directory to generate (OCI bundles), binds no /etc files', () => {
    const ops = planRootfs({ ...base, etcDir: null });
    expect(ops.some((o) => o.op === 'write-file' || (o.op === 'mount-in-root' && o.target.startsWith('/etc/')))).toBe(false);
  });

  it('turns OCI mount options into flags and data as runc does', () => {
    expect(mountOptions(['nosuid', 'strictatime', 'mode=755', 'size=65536k'])).toEqual({ flags: MS.NOSUID | MS.STRICTATIME, data: 'mode=755,size=65536k' });
    expect(mountOptions(['rbind', 'ro', 'rprivate'])).toEqual({ flags: MS.BIND | MS.REC | MS.RDONLY, data: '' });
    expect(mountOptions(['ro', 'rw']).flags).toBe(0);
  });

  it("runc's tmpcopyup never reaches the kernel: the tmpfs is marked to be filled with what the image had there", () => {
    const ops = inRoot(planRootfs({ ...base, mounts: [{ destination: '/run', type: 'tmpfs', source: 'tmpfs', options: ['rw', 'rprivate', 'nosuid', 'nodev', 'tmpcopyup', 'size=1m'] }] }));
    expect(ops.find((o) => o.target === '/run')).toMatchObject({ fstype: 'tmpfs', flags: MS.NOSUID | MS.NODEV, data: 'size=1m', copyUp: true });
    expect(inRoot(planRootfs(base)).some((o) => o.copyUp)).toBe(false);
  });

  it('binds a bind mount first, then remounts it with its flags', () => {
    const ops = planRootfs({ ...base, volumes: [], mounts: [{ destination: '/data', type: 'bind', source: '/srv', options: ['rbind', 'ro', 'nosuid'] }] });
    expect(inRoot(ops).filter((m) => m.target === '/data')).toEqual([expect.objectContaining({ flags: MS.BIND | MS.REC, remount: MS.RDONLY | MS.NOSUID })]);
  });
});
