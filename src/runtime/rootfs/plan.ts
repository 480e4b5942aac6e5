/**
 * The root filesystem of a container as an ordered list of operations.
 * Pure: the runtime's stage-2 init (PID 1 of the new pid and mount
 * namespaces) carries the list out through libc before it starts the
 * workload, so tests can check the order and every flag without mounting.
 *
 * The sequence follows runc's: make the whole tree private, build the root
 * (overlay of layers, or a bind of --rootfs), mount /proc, /dev, /sys and the
 * volumes under it, pivot_root into it and detach the old root, then mask and
 * write-protect, and finally make the root read-only if asked.
 */

// <sys/mount.h>
export const MS = {
  RDONLY: 0x1, NOSUID: 0x2, NODEV: 0x4, NOEXEC: 0x8, REMOUNT: 0x20, BIND: 0x1000, REC: 0x4000,
  PRIVATE: 0x40000, SLAVE: 0x80000, STRICTATIME: 0x1000000, RELATIME: 0x200000,
} as const;

export type Op =
  | { op: 'mount'; source: string; target: string; fstype: string; flags: number; data: string }
  | { op: 'mkdir'; path: string; mode: number }
  /** Create an empty file to bind a file onto (no-op if it exists). */
  | { op: 'touch'; path: string }
  | { op: 'symlink'; target: string; path: string }
  | { op: 'write-file'; path: string; content: string }
  | { op: 'pivot-root'; root: string }
  /** Bind /dev/null over a file, or a read-only empty tmpfs over a directory; skipped if missing. */
  | { op: 'mask'; path: string }
  /** Bind the path onto itself and remount it read-only; skipped if missing. */
  | { op: 'readonly'; path: string }
  | { op: 'chdir'; path: string };

export interface Volume { source: string; destination: string; readonly: boolean }

export interface RootfsOptions {
  /** The directory the new root is assembled at (the --rootfs dir, or the overlay's mount point). */
  root: string;
  /** Read-only lower layers, lowest first; with them, `upper` and `work` are required. */
  layers?: { lower: string[]; upper: string; work: string };
  readOnly: boolean;
  volumes: Volume[];
  hostname: string;
  /** The host's /etc/resolv.conf, copied (a network namespace still resolves through the host's servers). */
  resolvConf: string;
  /** Where the runtime keeps the generated /etc files (on the host, removed afterwards). */
  etcDir: string;
  /** A new network namespace gets its own sysfs; a shared one only a read-only bind of /sys. */
  newNetNs: boolean;
  maskedPaths: string[];
  readonlyPaths: string[];
}

/** runc's and Docker's defaults. */
export const DEFAULT_MASKED_PATHS: readonly string[] = [
  '/proc/acpi', '/proc/asound', '/proc/interrupts', '/proc/kcore', '/proc/keys', '/proc/latency_stats',
  '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware',
  '/sys/devices/virtual/powercap',
];
export const DEFAULT_READONLY_PATHS: readonly string[] = [
  '/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger',
];

/** The device nodes every container gets, bound from the host's. */
export const DEVICES: readonly string[] = ['null', 'zero', 'full', 'tty', 'random', 'urandom'];

const join = (root: string, p: string) => (root.endsWith('/') ? root.slice(0, -1) : root) + (p.startsWith('/') ? p : '/' + p);

/** Files a runtime provides under /etc. */
export function etcFiles(hostname: string, hostResolvConf: string): Record<string, string> {
  return {
    hostname: `${hostname}\n`,
    hosts: `127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t${hostname}\n`,
    'resolv.conf': hostResolvConf,
  };
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

  ops.push({ op: 'mkdir', path: r('/proc'), mode: 0o555 });
  mount('proc', r('/proc'), 'proc', MS.NOSUID | MS.NODEV | MS.NOEXEC);

  ops.push({ op: 'mkdir', path: r('/dev'), mode: 0o755 });
  mount('tmpfs', r('/dev'), 'tmpfs', MS.NOSUID | MS.STRICTATIME, 'mode=755,size=65536k');
  for (const d of DEVICES) {
    ops.push({ op: 'touch', path: r(`/dev/${d}`) });
    mount(`/dev/${d}`, r(`/dev/${d}`), '', MS.BIND);
  }
  ops.push({ op: 'mkdir', path: r('/dev/pts'), mode: 0o755 });
  mount('devpts', r('/dev/pts'), 'devpts', MS.NOSUID | MS.NOEXEC, 'newinstance,ptmxmode=0666,mode=0620,gid=5');
  ops.push({ op: 'symlink', target: 'pts/ptmx', path: r('/dev/ptmx') });
  ops.push({ op: 'mkdir', path: r('/dev/shm'), mode: 0o1777 });
  mount('shm', r('/dev/shm'), 'tmpfs', MS.NOSUID | MS.NODEV | MS.NOEXEC, 'mode=1777,size=65536k');
  ops.push({ op: 'mkdir', path: r('/dev/mqueue'), mode: 0o755 });
  mount('mqueue', r('/dev/mqueue'), 'mqueue', MS.NOSUID | MS.NODEV | MS.NOEXEC);
  for (const [name, target] of [['fd', '/proc/self/fd'], ['stdin', '/proc/self/fd/0'], ['stdout', '/proc/self/fd/1'], ['stderr', '/proc/self/fd/2'], ['core', '/proc/kcore']] as const) {
    ops.push({ op: 'symlink', target, path: r(`/dev/${name}`) });
  }

  ops.push({ op: 'mkdir', path: r('/sys'), mode: 0o555 });
  if (o.newNetNs) mount('sysfs', r('/sys'), 'sysfs', MS.NOSUID | MS.NODEV | MS.NOEXEC | MS.RDONLY);
  else {
    mount('/sys', r('/sys'), '', MS.BIND | MS.REC);
    mount('', r('/sys'), '', MS.BIND | MS.REMOUNT | MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC);
  }

  for (const [name, content] of Object.entries(etcFiles(o.hostname, o.resolvConf))) {
    ops.push({ op: 'write-file', path: join(o.etcDir, name), content });
  }
  ops.push({ op: 'mkdir', path: r('/etc'), mode: 0o755 });
  for (const name of ['hostname', 'hosts', 'resolv.conf']) {
    ops.push({ op: 'touch', path: r(`/etc/${name}`) });
    mount(join(o.etcDir, name), r(`/etc/${name}`), '', MS.BIND);
  }

  for (const v of o.volumes) {
    ops.push({ op: 'mkdir', path: r(v.destination), mode: 0o755 });
    mount(v.source, r(v.destination), '', MS.BIND | MS.REC);
    if (v.readonly) mount('', r(v.destination), '', MS.BIND | MS.REMOUNT | MS.RDONLY | MS.REC);
  }

  ops.push({ op: 'pivot-root', root: o.root });
  ops.push({ op: 'chdir', path: '/' });
  for (const p of o.maskedPaths) ops.push({ op: 'mask', path: p });
  for (const p of o.readonlyPaths) ops.push({ op: 'readonly', path: p });
  if (o.readOnly) mount('', '/', '', MS.BIND | MS.REMOUNT | MS.RDONLY);
  return ops;
}
