/**
 * The root filesystem of a container as an ordered list of operations.
 * Pure: the runtime's stage-2 init (PID 1 of the new pid and mount
 * namespaces) carries the list out through libc before it starts the
 * workload, so tests can check the order and every flag without mounting.
 *
 * The sequence follows runc's: make the whole tree private, build the root
 * (overlay of layers, or a bind of --rootfs), carry out the mounts (OCI
 * style: /proc, /dev, /dev/pts, /dev/shm, /dev/mqueue, /sys, the cgroup
 * hierarchies, then volumes), create the device nodes and /dev links, bind
 * the generated /etc files, pivot_root into the root and detach the old one,
 * then write-protect and mask, and finally make the root read-only if asked.
 */

// <sys/mount.h>
export const MS = {
  RDONLY: 0x1, NOSUID: 0x2, NODEV: 0x4, NOEXEC: 0x8, SYNCHRONOUS: 0x10, REMOUNT: 0x20, MANDLOCK: 0x40,
  DIRSYNC: 0x80, NOATIME: 0x400, NODIRATIME: 0x800, BIND: 0x1000, REC: 0x4000, PRIVATE: 0x40000,
  SLAVE: 0x80000, SHARED: 0x100000, RELATIME: 0x200000, STRICTATIME: 0x1000000,
} as const;

export type Op =
  | { op: 'mount'; source: string; target: string; fstype: string; flags: number; data: string }
  | { op: 'mkdir'; path: string; mode: number }
  /** Create an empty file to bind a file onto (no-op if it exists). */
  | { op: 'touch'; path: string }
  | { op: 'symlink'; target: string; path: string }
  | { op: 'write-file'; path: string; content: string }
  /** A character device node; if mknod is refused, bind the host's `fallback` onto an empty file instead. */
  | { op: 'mknod'; path: string; major: number; minor: number; mode: number; fallback: string }
  /** The cgroup hierarchies the init belongs to, each bound read-only under `target` (runc's v1 layout; v2: one cgroup2 mount). */
  | { op: 'cgroup'; target: string; readonly: boolean; flags: number }
  | { op: 'pivot-root'; root: string }
  /** Bind /dev/null over a file, or a read-only empty tmpfs over a directory; skipped if missing. */
  | { op: 'mask'; path: string }
  /** Bind the path onto itself and remount it read-only; skipped if missing. */
  | { op: 'readonly'; path: string }
  | { op: 'chdir'; path: string };

/** An OCI runtime-spec mount (config.json `mounts[]`). */
export interface MountSpec { destination: string; type: string; source: string; options: string[] }

export interface Volume { source: string; destination: string; readonly: boolean }

export interface RootfsOptions {
  /** The directory the new root is assembled at (the --rootfs dir, or the overlay's mount point). */
  root: string;
  /** Read-only lower layers, lowest first; with them, `upper` and `work` are required. */
  layers?: { lower: string[]; upper: string; work: string };
  readOnly: boolean;
  /** The mounts, in order (default: runc's, see DEFAULT_MOUNTS). */
  mounts?: readonly MountSpec[];
  volumes: Volume[];
  hostname: string;
  /** The host's /etc/resolv.conf, copied (a network namespace still resolves through the host's servers). */
  resolvConf: string;
  /** Where the runtime keeps the generated /etc files (on the host, removed afterwards); null: none (OCI bundles, as runc). */
  etcDir: string | null;
  /** A new network namespace gets its own sysfs; a shared one only a read-only bind of /sys. */
  newNetNs: boolean;
  maskedPaths: string[];
  readonlyPaths: string[];
}

/** Docker's defaults (moby oci/defaults.go). */
export const DEFAULT_MASKED_PATHS: readonly string[] = [
  '/proc/acpi', '/proc/interrupts', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
  '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap',
];
export const DEFAULT_READONLY_PATHS: readonly string[] = [
  '/proc/asound', '/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger',
];

/** The mounts `runc spec` writes (and Docker makes). */
export const DEFAULT_MOUNTS: readonly MountSpec[] = [
  { destination: '/proc', type: 'proc', source: 'proc', options: [] },
  { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
  { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
  { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
  { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
  { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
  { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
];

/** The device nodes every container gets: name, major, minor (created 0666, as runc). */
export const DEVICES: readonly (readonly [string, number, number])[] = [
  ['null', 1, 3], ['zero', 1, 5], ['full', 1, 7], ['tty', 5, 0], ['random', 1, 8], ['urandom', 1, 9],
];

const S_IFCHR = 0o020000;

const join = (root: string, p: string) => (root.endsWith('/') ? root.slice(0, -1) : root) + (p.startsWith('/') ? p : '/' + p);

/** Files a runtime provides under /etc. */
export function etcFiles(hostname: string, hostResolvConf: string): Record<string, string> {
  return {
    hostname: `${hostname}\n`,
    hosts: `127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t${hostname}\n`,
    'resolv.conf': hostResolvConf,
  };
}

const FLAG_OPTIONS: Readonly<Record<string, [set: boolean, flag: number]>> = {
  ro: [true, MS.RDONLY], rw: [false, MS.RDONLY], nosuid: [true, MS.NOSUID], suid: [false, MS.NOSUID],
  nodev: [true, MS.NODEV], dev: [false, MS.NODEV], noexec: [true, MS.NOEXEC], exec: [false, MS.NOEXEC],
  sync: [true, MS.SYNCHRONOUS], async: [false, MS.SYNCHRONOUS], dirsync: [true, MS.DIRSYNC],
  mand: [true, MS.MANDLOCK], nomand: [false, MS.MANDLOCK], noatime: [true, MS.NOATIME], atime: [false, MS.NOATIME],
  nodiratime: [true, MS.NODIRATIME], diratime: [false, MS.NODIRATIME], relatime: [true, MS.RELATIME],
  norelatime: [false, MS.RELATIME], strictatime: [true, MS.STRICTATIME], nostrictatime: [false, MS.STRICTATIME],
  bind: [true, MS.BIND], rbind: [true, MS.BIND | MS.REC], remount: [true, MS.REMOUNT],
};
const PROPAGATION = new Set(['private', 'rprivate', 'slave', 'rslave', 'shared', 'rshared', 'unbindable', 'runbindable']);

/** OCI mount options -> mount(2) flags and the data string (as runc's parseMountOptions). */
export function mountOptions(options: readonly string[]): { flags: number; data: string } {
  let flags = 0;
  const data: string[] = [];
  for (const o of options) {
    const f = FLAG_OPTIONS[o];
    if (f) flags = f[0] ? flags | f[1] : flags & ~f[1];
    else if (!PROPAGATION.has(o)) data.push(o);
  }
  return { flags, data: data.join(',') };
}

export function planRootfs(o: RootfsOptions): Op[] {
  const ops: Op[] = [];
  const r = (p: string) => join(o.root, p);
  const mount = (source: string, target: string, fstype: string, flags: number, data = '') =>
    ops.push({ op: 'mount', source, target, fstype, flags, data });

  // Nothing mounted from here on may propagate back to the host.
  mount('', '/', '', MS.REC | MS.PRIVATE);
  if (o.layers) {
    // lowerdir lists the top layer first.
    const lower = [...o.layers.lower].reverse().join(':');
    mount('overlay', o.root, 'overlay', 0, `lowerdir=${lower},upperdir=${o.layers.upper},workdir=${o.layers.work}`);
  } else {
    // pivot_root needs the new root to be a mount point.
    mount(o.root, o.root, '', MS.BIND | MS.REC);
  }

  const all: MountSpec[] = [
    ...(o.mounts ?? DEFAULT_MOUNTS),
    ...o.volumes.map((v) => ({ destination: v.destination, type: 'bind', source: v.source, options: ['rbind', ...(v.readonly ? ['ro'] : [])] })),
  ];
  let devIsTmpfs = false;
  for (const m of all) {
    const target = r(m.destination);
    const { flags, data } = mountOptions(m.options);
    if (m.type === 'cgroup' || m.type === 'cgroup2') {
      ops.push({ op: 'mkdir', path: target, mode: 0o755 });
      ops.push({ op: 'cgroup', target, readonly: (flags & MS.RDONLY) !== 0, flags: flags & ~MS.RDONLY });
      continue;
    }
    const isBind = m.type === 'bind' || (flags & MS.BIND) !== 0;
    if (m.type === 'sysfs' && !o.newNetNs) {
      // A sysfs shows the mounter's network namespace: with the host's, bind the host's /sys read-only (as runc).
      ops.push({ op: 'mkdir', path: target, mode: 0o555 });
      mount('/sys', target, '', MS.BIND | MS.REC);
      mount('', target, '', MS.BIND | MS.REMOUNT | MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC);
      continue;
    }
    ops.push({ op: 'mkdir', path: target, mode: m.destination === '/proc' || m.destination === '/sys' ? 0o555 : 0o755 });
    if (isBind) {
      // A bind ignores most flags: bind first, then remount with them.
      mount(m.source, target, '', MS.BIND | (flags & MS.REC));
      const rest = flags & ~(MS.BIND | MS.REC | MS.REMOUNT);
      if (rest !== 0) mount('', target, '', MS.BIND | MS.REMOUNT | rest);
    } else {
      mount(m.source, target, m.type, flags, data);
    }
    if (m.destination === '/dev' && m.type === 'tmpfs') devIsTmpfs = true;
  }

  for (const [name, major, minor] of DEVICES) {
    ops.push({ op: 'mknod', path: r(`/dev/${name}`), major, minor, mode: S_IFCHR | 0o666, fallback: `/dev/${name}` });
  }
  if (devIsTmpfs) {
    ops.push({ op: 'symlink', target: 'pts/ptmx', path: r('/dev/ptmx') });
    for (const [name, target] of [['fd', '/proc/self/fd'], ['stdin', '/proc/self/fd/0'], ['stdout', '/proc/self/fd/1'], ['stderr', '/proc/self/fd/2']] as const) {
      ops.push({ op: 'symlink', target, path: r(`/dev/${name}`) });
    }
  }

  if (o.etcDir !== null) {
    for (const [name, content] of Object.entries(etcFiles(o.hostname, o.resolvConf))) {
      ops.push({ op: 'write-file', path: join(o.etcDir, name), content });
    }
    ops.push({ op: 'mkdir', path: r('/etc'), mode: 0o755 });
    for (const name of ['hostname', 'hosts', 'resolv.conf']) {
      ops.push({ op: 'touch', path: r(`/etc/${name}`) });
      mount(join(o.etcDir, name), r(`/etc/${name}`), '', MS.BIND);
    }
  }

  ops.push({ op: 'pivot-root', root: o.root });
  ops.push({ op: 'chdir', path: '/' });
  for (const p of o.readonlyPaths) ops.push({ op: 'readonly', path: p });
  for (const p of o.maskedPaths) ops.push({ op: 'mask', path: p });
  if (o.readOnly) mount('', '/', '', MS.BIND | MS.REMOUNT | MS.RDONLY);
  return ops;
}
