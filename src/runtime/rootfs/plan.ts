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

import { MS, S_IFCHR } from '../../libc/consts.js';

export type Op =
  /** mount(2) by path: the host's `/` (made private) before anything, the new `/` after pivot_root. */
  | { op: 'mount'; source: string; target: string; fstype: string; flags: number; data: string }
  /**
   * The new root at `path` (a mount point, as pivot_root needs): an overlay of
   * `layers`, else a bind of `path` onto itself. With `probe` (a read-only
   * --rootfs), if any of those paths is missing in the root, an overlay with
   * `path` as its lower layer and the upper and work directories on a tmpfs
   * of this mount namespace instead, so the missing mount points are made
   * there and the user's directory is never written.
   */
  | { op: 'root'; path: string; layers?: { lower: string[]; upper: string; work: string }; probe?: string[] }
  /**
   * A mount onto `target`, a path inside the root, resolved through
   * descriptors (rootfs/resolve.ts) and created if missing: a directory
   * (`mode`), or for 'source' what the bind's source is (a directory, or an
   * empty file for anything else). `remount`: flags to remount the bind with.
   * `copyUp` (a tmpfs with runc's `tmpcopyup` option): what the directory held
   * in the image is copied into the new tmpfs.
   */
  | { op: 'mount-in-root'; source: string; target: string; fstype: string; flags: number; data: string; create: 'dir' | 'source'; mode: number; remount: number | null; copyUp?: boolean }
  /** A symbolic link inside the root (left as it is if the name exists). */
  | { op: 'symlink'; target: string; path: string }
  /** A file of the runtime's own state directory on the host (never inside the root). */
  | { op: 'write-file'; path: string; content: string }
  /** A character device node inside the root; if mknod is refused, bind the host's `fallback` onto an empty file instead. */
  | { op: 'mknod'; path: string; major: number; minor: number; mode: number; fallback: string }
  /** A device node of config.json's linux.devices (c, b or p) at `path` inside the root, its parents made; `mode` and owner set as given. */
  | { op: 'device'; path: string; type: 'c' | 'b' | 'p'; major: number; minor: number; mode: number; uid: number; gid: number }
  /** The cgroup hierarchies the init belongs to, each bound read-only under `target` inside the root (runc's v1 layout; v2: one cgroup2 mount). */
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
  /** linux.devices: nodes made after the default ones (a path given twice keeps the first). */
  devices?: readonly { path: string; type: 'c' | 'b' | 'p'; major: number; minor: number; mode: number; uid: number; gid: number }[];
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
/** The mount options understood as flags (others pass to the filesystem as data), and runc's tmpcopyup: `features` lists them. */
export const MOUNT_FLAG_OPTIONS: readonly string[] = [...Object.keys(FLAG_OPTIONS), ...PROPAGATION, 'tmpcopyup'].sort();

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

/**
 * A mount destination as a clean absolute path inside the root (as Docker
 * cleans it): `..` cannot climb above `/` (`/../../x` is `/x`). The resolver
 * clamps `..` at the root again, whatever arrives.
 */
export function cleanDestination(p: string): string {
  const out: string[] = [];
  for (const c of p.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') out.pop();
    else out.push(c);
  }
  return '/' + out.join('/');
}

/** `p` is `dir` or below it. */
const under = (p: string, dir: string) => p === dir || p.startsWith(dir === '/' ? '/' : dir + '/');

export function planRootfs(o: RootfsOptions): Op[] {
  const ops: Op[] = [];
  const inRoot = (source: string, target: string, fstype: string, flags: number, data: string, create: 'dir' | 'source', mode: number, remount: number | null) =>
    ops.push({ op: 'mount-in-root', source, target, fstype, flags, data, create, mode, remount });

  // Nothing mounted from here on may propagate back to the host.
  ops.push({ op: 'mount', source: '', target: '/', fstype: '', flags: MS.REC | MS.PRIVATE, data: '' });
  const rootOp: Extract<Op, { op: 'root' }> = { op: 'root', path: o.root };
  if (o.layers) rootOp.layers = o.layers;
  ops.push(rootOp);

  const all: MountSpec[] = [
    ...(o.mounts ?? DEFAULT_MOUNTS),
    ...o.volumes.map((v) => ({ destination: v.destination, type: 'bind', source: v.source, options: ['rbind', ...(v.readonly ? ['ro'] : [])] })),
  ];
  let devIsTmpfs = false;
  for (const m of all) {
    const target = cleanDestination(m.destination);
    const { flags, data } = mountOptions(m.options);
    if (m.type === 'cgroup' || m.type === 'cgroup2') {
      ops.push({ op: 'cgroup', target, readonly: (flags & MS.RDONLY) !== 0, flags: flags & ~MS.RDONLY });
      continue;
    }
    const isBind = m.type === 'bind' || (flags & MS.BIND) !== 0;
    const mode = target === '/proc' || target === '/sys' ? 0o555 : 0o755;
    if (m.type === 'sysfs' && !o.newNetNs) {
      // A sysfs shows the mounter's network namespace: with the host's, bind the host's /sys read-only (as runc).
      inRoot('/sys', target, '', MS.BIND | MS.REC, '', 'dir', mode, MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC);
      continue;
    }
    if (isBind) {
      // A bind ignores most flags: bind first, then remount with them.
      const rest = flags & ~(MS.BIND | MS.REC | MS.REMOUNT);
      inRoot(m.source, target, '', MS.BIND | (flags & MS.REC), '', 'source', mode, rest !== 0 ? rest : null);
    } else if (m.type === 'tmpfs' && m.options.includes('tmpcopyup')) {
      // runc's own option (Podman's --tmpfs, --read-only, --systemd): never the kernel's.
      ops.push({ op: 'mount-in-root', source: m.source, target, fstype: m.type, flags, data: mountOptions(m.options.filter((x) => x !== 'tmpcopyup')).data, create: 'dir', mode, remount: null, copyUp: true });
    } else {
      inRoot(m.source, target, m.type, flags, data, 'dir', mode, null);
    }
    if (target === '/dev' && m.type === 'tmpfs') devIsTmpfs = true;
  }

  for (const [name, major, minor] of DEVICES) {
    ops.push({ op: 'mknod', path: `/dev/${name}`, major, minor, mode: S_IFCHR | 0o666, fallback: `/dev/${name}` });
  }
  for (const d of o.devices ?? []) ops.push({ op: 'device', ...d });
  if (devIsTmpfs) {
    ops.push({ op: 'symlink', target: 'pts/ptmx', path: '/dev/ptmx' });
    for (const [name, target] of [['fd', '/proc/self/fd'], ['stdin', '/proc/self/fd/0'], ['stdout', '/proc/self/fd/1'], ['stderr', '/proc/self/fd/2']] as const) {
      ops.push({ op: 'symlink', target, path: `/dev/${name}` });
    }
  }

  if (o.etcDir !== null) {
    for (const [name, content] of Object.entries(etcFiles(o.hostname, o.resolvConf))) {
      ops.push({ op: 'write-file', path: join(o.etcDir, name), content });
    }
    for (const name of ['hostname', 'hosts', 'resolv.conf']) inRoot(join(o.etcDir, name), `/etc/${name}`, '', MS.BIND, '', 'source', 0o755, null);
  }

  if (o.readOnly && !o.layers) rootOp.probe = createdInRoot(ops);
  ops.push({ op: 'pivot-root', root: o.root });
  ops.push({ op: 'chdir', path: '/' });
  for (const p of o.readonlyPaths) ops.push({ op: 'readonly', path: p });
  for (const p of o.maskedPaths) ops.push({ op: 'mask', path: p });
  if (o.readOnly) ops.push({ op: 'mount', source: '', target: '/', fstype: '', flags: MS.BIND | MS.REMOUNT | MS.RDONLY, data: '' });
  return ops;
}

/**
 * The paths the plan creates if missing that would land in the root's own
 * directory: mount points, device nodes and links not under an earlier mount
 * of the plan (those land on that mount: a tmpfs, a volume).
 */
export function createdInRoot(ops: readonly Op[]): string[] {
  const mounted: string[] = [];
  const out: string[] = [];
  for (const op of ops) {
    const p = op.op === 'mount-in-root' || op.op === 'cgroup' ? op.target : op.op === 'mknod' || op.op === 'symlink' || op.op === 'device' ? op.path : null;
    if (p === null) continue;
    if (!mounted.some((m) => under(p, m)) && !out.includes(p)) out.push(p);
    if (op.op !== 'mknod' && op.op !== 'symlink' && op.op !== 'device') mounted.push(p);
  }
  return out;
}
