/**
 * Carries out a root filesystem plan (plan.ts) inside the container's mount
 * namespace. Runs in the init, privileged still, before the workload exists.
 *
 * Every path under the new root is resolved through descriptors from a
 * descriptor of the root (resolve.ts): a symbolic link in the image pointing
 * at /etc resolves to the image's /etc, never the host's, whatever a
 * workload sharing the root does meanwhile. Missing mount points are created
 * in place (idempotently) and kept, as runc does: nothing is ever deleted by
 * name afterwards. Mounts go onto `/proc/self/fd/N` of the resolved target,
 * so nothing between the lookup and the mount can redirect them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { MS, O, S_IFBLK, S_IFCHR, S_IFIFO } from '../../libc/consts.js';
import { createAtLibc, type AtLibc } from '../../libc/at.js';
import type { ContainerLibc } from '../../libc/container.js';
import type { NsLibc } from '../../libc/ns.js';
import type { ErrnoName } from '../../libc/errno.js';
import { runError, within, type Outcome, type RunError } from '../../libc/error.js';
import { ok, type SysError } from '../../libc/types.js';
import type { Op } from './plan.js';
import { fdPath, resolveInRoot, type Create } from './resolve.js';
import type { CgroupMountInfo } from './cgroup-mounts.js';


export interface ApplyContext {
  ns: NsLibc;
  cl: ContainerLibc;
  /** The *at() calls (default: the real ones). */
  at?: AtLibc;
  root: string;
  cgroups: CgroupMountInfo[];
  /** Called just before pivot_root (OCI hooks); returns only if they succeeded. */
  beforePivot?: () => void;
}

/** A step's failure, or null: what the steps below return (applyRootfs hands the first one up). */
type Step = RunError | null;
/** A call's failure: `what` was being done; the call and its errno kept. */
const sys = (r: SysError, what: string, after = ''): RunError => runError(`${what}: ${r.code}${after}`, { call: r.call, errno: r.code });
/** A path that did not resolve inside the root. */
const unresolved = (r: { error: string; code: string }, what?: string): RunError =>
  runError(what === undefined ? r.error : `${what}: ${r.error}`, { errno: r.code as ErrnoName });
/** mount(2)'s optional arguments: '' in a plan is null. */
const orNull = (v: string): string | null => (v === '' ? null : v);

/**
 * What the steps share: the calls, and the new root's descriptor (from the
 * 'root' op to pivot_root, then `/`), through which every path inside the
 * root is resolved.
 */
class Rootfs {
  rootFd = -1;
  readonly ns: NsLibc;
  readonly cl: ContainerLibc;

  constructor(
    readonly ctx: ApplyContext,
    readonly at: AtLibc,
  ) {
    this.ns = ctx.ns;
    this.cl = ctx.cl;
  }

  openRoot(p: string): Step {
    this.closeRoot();
    const o = this.at.open(p, O.PATH | O.DIRECTORY | O.CLOEXEC);
    if (!o.ok) return sys(o, `opening the root ${p}`);
    this.rootFd = o.value;
    return null;
  }

  closeRoot(): void {
    if (this.rootFd >= 0) this.at.close(this.rootFd);
    this.rootFd = -1;
  }

  /** Whether `p` resolves inside the root as it is (nothing created). */
  has(p: string): boolean {
    const r = resolveInRoot(this.at, this.rootFd, p);
    if (r.ok) this.at.close(r.fd);
    return r.ok;
  }

  /** Resolves `p` inside the root (creating it as asked), then calls `use` with `/proc/self/fd/N` of it. */
  onTarget(p: string, create: Create, mode: number, use: (target: string, dir: boolean) => Step): Step {
    if (this.rootFd < 0) return runError(`${p}: no root to resolve it in`);
    const r = resolveInRoot(this.at, this.rootFd, p, create, mode);
    if (!r.ok) return unresolved(r);
    try {
      return use(fdPath(r.fd), r.dir);
    } finally {
      this.at.close(r.fd);
    }
  }

  /** Like onTarget, but a path that does not exist is nothing to do (`use` is not called). */
  ifPresent(p: string, use: (target: string, dir: boolean) => Step): Step {
    const r = resolveInRoot(this.at, this.rootFd, p);
    if (!r.ok) return r.code === 'ENOENT' || r.code === 'ENOTDIR' ? null : unresolved(r);
    try {
      return use(fdPath(r.fd), r.dir);
    } finally {
      this.at.close(r.fd);
    }
  }

  /** The parent directory of `p` inside the root (created if missing) and the last name. */
  inParent(p: string, use: (dirFd: number, name: string) => Step): Step {
    const name = path.posix.basename(p);
    if (name === '' || name === '.' || name === '..') return runError(`${p}: not a name to create`);
    const r = resolveInRoot(this.at, this.rootFd, path.posix.dirname(p), 'dir');
    if (!r.ok) return unresolved(r);
    try {
      return r.dir ? use(r.fd, name) : runError(`${path.posix.dirname(p)}: not a directory`, { errno: 'ENOTDIR' });
    } finally {
      this.at.close(r.fd);
    }
  }

  remount(p: string, flags: number): Step {
    // Resolved again: the descriptor of the mount point still names what the bind covers.
    return this.onTarget(p, null, 0, (t) => {
      const r = this.ns.mount(null, t, null, MS.BIND | MS.REMOUNT | flags, null);
      return r.ok ? null : sys(r, `remounting ${p}`);
    });
  }

  /** Sets a node's mode (and owner) through a descriptor of the node just made in `dirFd`: the umask does not decide, a link is never followed. */
  withNode(dirFd: number, name: string, op: Op, use: (fd: number) => void): Step {
    const o = this.at.openat(dirFd, name, O.PATH | O.NOFOLLOW | O.CLOEXEC);
    if (!o.ok) return sys(o, describe(op));
    try {
      use(o.value);
    } finally {
      this.at.close(o.value);
    }
    return null;
  }
}

/** One step per kind of op, in the plan's order (plan.ts: the root, proc/dev/sys and the mounts, pivot_root, masked and read-only paths). */
const STEPS: { [K in Op['op']]: (r: Rootfs, op: Extract<Op, { op: K }>) => Step } = {
  mount: hostMount,
  root: buildRoot,
  'mount-in-root': mountInRoot,
  symlink: makeSymlink,
  'write-file': writeStateFile,
  mknod: makeNode,
  device: makeDevice,
  cgroup: cgroupMounts,
  'pivot-root': pivotRoot,
  chdir: changeDir,
  mask: maskPath,
  readonly: makeReadonly,
};

/** Carries out `ops`; the first failure stops it. */
export function applyRootfs(ops: readonly Op[], ctx: ApplyContext): Outcome<void> {
  const r = new Rootfs(ctx, ctx.at ?? createAtLibc());
  try {
    for (const op of ops) {
      let err: Step;
      try {
        err = (STEPS[op.op] as (r: Rootfs, op: Op) => Step)(r, op);
      } catch (e) {
        const x = e as NodeJS.ErrnoException;
        err = runError(`${describe(op)}: ${x.code ?? x.message}`, x.code ? { call: x.syscall, errno: x.code as ErrnoName } : {});
      }
      if (err) return { ok: false, error: err };
    }
    return ok(undefined);
  } finally {
    r.closeRoot();
  }
}

/** mount(2) by path, outside the root (the host's `/` made private, the new `/` after pivot_root). */
function hostMount(r: Rootfs, op: Extract<Op, { op: 'mount' }>): Step {
  const m = r.ns.mount(orNull(op.source), op.target, orNull(op.fstype), op.flags, orNull(op.data));
  return m.ok ? null : sys(m, describe(op));
}

function buildRoot(r: Rootfs, op: Extract<Op, { op: 'root' }>): Step {
  if (op.layers) {
    // lowerdir lists the top layer first.
    const lower = [...op.layers.lower].reverse().join(':');
    const m = r.ns.mount('overlay', op.path, 'overlay', 0, `lowerdir=${lower},upperdir=${op.layers.upper},workdir=${op.layers.work}`);
    return m.ok ? r.openRoot(op.path) : sys(m, `mounting the overlay at ${op.path}`);
  }
  if (op.probe) {
    const e = r.openRoot(op.path);
    if (e) return e;
    const missing = op.probe.find((p) => !r.has(p));
    if (missing !== undefined) return readOnlyOverlay(r, op.path, missing);
  }
  // pivot_root needs the new root to be a mount point.
  const b = r.ns.mount(op.path, op.path, null, MS.BIND | MS.REC, null);
  return b.ok ? r.openRoot(op.path) : sys(b, `binding the root ${op.path}`);
}

/**
 * A read-only root that lacks a mount point: an overlay whose lower layer is
 * the root (through its descriptor) and whose upper and work directories
 * are on a tmpfs mounted over the root's path in this mount namespace only
 * (gone with it), so the user's directory is never written.
 */
function readOnlyOverlay(r: Rootfs, root: string, missing: string): Step {
  const lower = fdPath(r.rootFd);
  const st = fs.fstatSync(r.rootFd);
  const t = r.ns.mount('tmpfs', root, 'tmpfs', MS.NOSUID | MS.NODEV, 'mode=700');
  if (!t.ok) return sys(t, `mounting a tmpfs for the overlay over ${root} (${missing} is missing)`);
  const upper = path.join(root, 'upper');
  const work = path.join(root, 'work');
  fs.mkdirSync(upper);
  fs.mkdirSync(work, { mode: 0o700 });
  // The overlay's / takes the upper directory's owner and mode: the root's.
  fs.chownSync(upper, st.uid, st.gid);
  fs.chmodSync(upper, st.mode & 0o7777);
  const m = r.ns.mount('overlay', root, 'overlay', 0, `lowerdir=${lower},upperdir=${upper},workdir=${work}`);
  if (!m.ok) return sys(m, `mounting an overlay over the read-only root ${root} (${missing} is missing)`);
  return r.openRoot(root);
}

/** A mount onto a path inside the root (proc, dev, sys, the bundle's mounts, volumes), its mount point made if missing. */
function mountInRoot(r: Rootfs, op: Extract<Op, { op: 'mount-in-root' }>): Step {
  // A file (or a device, a socket) is bound onto a file, a directory onto a directory.
  const create: 'dir' | 'file' = op.create === 'source' && !fs.statSync(op.source).isDirectory() ? 'file' : 'dir';
  // tmpcopyup: a directory the image had gives the tmpfs its mode; one made here does not (runc's rule).
  const existed = op.copyUp === true && r.has(op.target);
  const t = resolveInRoot(r.at, r.rootFd, op.target, create, op.mode);
  if (!t.ok) return unresolved(t, describe(op));
  try {
    if (t.dir !== (create === 'dir')) {
      return runError(
        create === 'dir'
          ? `${op.target} exists in the root and is not a directory; ${op.fstype === '' ? `the source ${op.source} is a directory` : `a ${op.fstype} mount needs one`}`
          : `${op.target} exists in the root and is a directory; the source ${op.source} is not`,
      );
    }
    const m = r.ns.mount(orNull(op.source), fdPath(t.fd), orNull(op.fstype), op.flags, orNull(op.data));
    if (!m.ok) return sys(m, describe(op));
    if (op.copyUp) {
      const e = copyUp(r, op.target, fdPath(t.fd), existed);
      if (e) return within(e, `${describe(op)}: copying up what ${op.target} held`);
    }
  } finally {
    r.at.close(t.fd);
  }
  return op.remount === null ? null : r.remount(op.target, op.remount);
}

/** tmpcopyup: `lower` (the descriptor's path) still names the directory the tmpfs covers; `target`, resolved again, the tmpfs. */
function copyUp(r: Rootfs, target: string, lower: string, existed: boolean): Step {
  return r.onTarget(target, null, 0, (tmpfs) => {
    if (existed) fs.chmodSync(tmpfs, fs.statSync(lower).mode & 0o7777);
    const copied = copyTree(lower, tmpfs);
    return copied === null ? null : runError(copied);
  });
}

function makeSymlink(r: Rootfs, op: Extract<Op, { op: 'symlink' }>): Step {
  return r.inParent(op.path, (dirFd, name) => {
    const l = r.at.symlinkat(op.target, dirFd, name);
    return l.ok || l.code === 'EEXIST' ? null : sys(l, describe(op));
  });
}

/** A file of the runtime's own state directory, on the host. */
function writeStateFile(_: Rootfs, op: Extract<Op, { op: 'write-file' }>): Step {
  fs.writeFileSync(op.path, op.content, { mode: 0o644 });
  return null;
}

/** A device node made in the root (its mode exact, whatever the umask); where mknod is refused, the host's node bound onto a file. */
function makeNode(r: Rootfs, op: Extract<Op, { op: 'mknod' }>): Step {
  let refused: SysError | null = null;
  const e = r.inParent(op.path, (dirFd, name) => {
    const m = r.at.mknodat(dirFd, name, op.mode, op.major, op.minor);
    if (!m.ok) {
      if (m.code !== 'EEXIST') refused = m;
      return null; // EEXIST: there already, as it is
    }
    // The node is checked to be the one just made.
    return r.withNode(dirFd, name, op, (fd) => {
      if (fs.fstatSync(fd).isCharacterDevice()) fs.chmodSync(fdPath(fd), op.mode & 0o7777);
    });
  });
  if (e || refused === null) return e;
  const denied = refused as SysError;
  return r.onTarget(op.path, 'file', 0o755, (t, dir) => {
    if (dir) return sys(denied, describe(op), `, and ${op.path} is a directory`);
    const b = r.ns.mount(op.fallback, t, null, MS.BIND, null);
    return b.ok ? null : sys(b, `${describe(op)}: ${denied.code}, and binding ${op.fallback}`);
  });
}

/** A node of config.json's linux.devices, with the mode and owner given. */
function makeDevice(r: Rootfs, op: Extract<Op, { op: 'device' }>): Step {
  return r.inParent(op.path, (dirFd, name) => {
    const kind = op.type === 'c' ? S_IFCHR : op.type === 'b' ? S_IFBLK : S_IFIFO;
    const m = r.at.mknodat(dirFd, name, kind | op.mode, op.major, op.minor);
    if (!m.ok) return m.code === 'EEXIST' ? null : sys(m, describe(op)); // there already (a default node): kept, as runc
    return r.withNode(dirFd, name, op, (fd) => {
      fs.chmodSync(fdPath(fd), op.mode);
      fs.chownSync(fdPath(fd), op.uid, op.gid);
    });
  });
}

function pivotRoot(r: Rootfs, op: Extract<Op, { op: 'pivot-root' }>): Step {
  r.ctx.beforePivot?.();
  r.closeRoot();
  const p = r.cl.pivotRoot(op.root);
  if (!p.ok) return sys(p, `pivot_root into ${op.root}: ${p.call} failed`);
  // From here on the root is `/`: masked and read-only paths are resolved from it the same way.
  return r.openRoot('/');
}

function changeDir(r: Rootfs, op: Extract<Op, { op: 'chdir' }>): Step {
  const c = r.cl.chdir(op.path);
  return c.ok ? null : sys(c, `chdir(${op.path})`);
}

/** A masked path: /dev/null over a file, a read-only empty tmpfs over a directory. */
function maskPath(r: Rootfs, op: Extract<Op, { op: 'mask' }>): Step {
  return r.ifPresent(op.path, (t, dir) => {
    const m = dir ? r.ns.mount('tmpfs', t, 'tmpfs', MS.RDONLY, null) : r.ns.mount('/dev/null', t, null, MS.BIND, null);
    return m.ok ? null : sys(m, `masking ${op.path}`);
  });
}

/** A path made read-only by a bind remount that keeps the source's nosuid, nodev and noexec. */
function makeReadonly(r: Rootfs, op: Extract<Op, { op: 'readonly' }>): Step {
  let present = false;
  const e = r.ifPresent(op.path, (t) => {
    present = true;
    const b = r.ns.mount(t, t, null, MS.BIND | MS.REC, null);
    return b.ok ? null : sys(b, `binding ${op.path} read-only`);
  });
  if (e !== null || !present) return e;
  return r.onTarget(op.path, null, 0, (t) => {
    // A bind remount clears the flags it is not given: keep nosuid, nodev and noexec from
    // the source (/proc has them all), as runc does.
    const f = r.ns.mountFlags(t);
    if (!f.ok) return sys(f, `remounting ${op.path} read-only: ${f.call} failed`);
    const keep = f.value & (MS.NOSUID | MS.NODEV | MS.NOEXEC);
    const m = r.ns.mount(null, t, null, MS.BIND | MS.REMOUNT | MS.RDONLY | MS.REC | keep, null);
    return m.ok ? null : sys(m, `remounting ${op.path} read-only`);
  });
}

/** The init's cgroups inside the root: v2's one tree, or v1's hierarchies on a tmpfs (as runc). */
function cgroupMounts(r: Rootfs, op: Extract<Op, { op: 'cgroup' }>): Step {
  const v2 = r.ctx.cgroups.find((c) => c.fstype === 'cgroup2' && c.mountPoint === '/sys/fs/cgroup');
  return v2 ? cgroupV2Mount(r, op, v2.source) : cgroupV1Mounts(r, op);
}

const bindCgroup = (r: Rootfs, source: string, at: string, shown: string): Step => {
  const b = r.ns.mount(source, at, null, MS.BIND | MS.REC, null);
  return b.ok ? null : sys(b, `binding ${source} at ${shown}`);
};

const remountCgroup = (r: Rootfs, op: Extract<Op, { op: 'cgroup' }>, t: string, shown: string): Step => {
  const m = r.ns.mount(null, t, null, MS.BIND | MS.REMOUNT | MS.REC | (op.readonly ? MS.RDONLY : 0) | op.flags, null);
  return m.ok ? null : sys(m, `remounting ${shown}`);
};

function cgroupV2Mount(r: Rootfs, op: Extract<Op, { op: 'cgroup' }>, source: string): Step {
  const e = r.onTarget(op.target, 'dir', 0o755, (t) => bindCgroup(r, source, t, op.target));
  return e ?? r.onTarget(op.target, null, 0, (t) => remountCgroup(r, op, t, op.target));
}

/** v1: a tmpfs with one directory per hierarchy, each the init's own cgroup bound read-only (as runc). */
function cgroupV1Mounts(r: Rootfs, op: Extract<Op, { op: 'cgroup' }>): Step {
  const e = r.onTarget(op.target, 'dir', 0o755, (t) => {
    const m = r.ns.mount('tmpfs', t, 'tmpfs', op.flags, 'mode=755');
    return m.ok ? null : sys(m, `mounting a tmpfs at ${op.target}`);
  });
  if (e) return e;
  // Inside that tmpfs, made just now in this mount namespace: nothing else can reach it.
  return r.onTarget(op.target, null, 0, (tmpfs) => {
    for (const c of r.ctx.cgroups) {
      if (c.fstype !== 'cgroup') continue;
      const name = path.basename(c.mountPoint);
      const dir = path.join(tmpfs, name);
      const shown = path.posix.join(op.target, name);
      fs.mkdirSync(dir, { recursive: true });
      const failed = bindCgroup(r, c.source, dir, shown) ?? remountCgroup(r, op, dir, shown);
      if (failed) return failed;
      if (name.includes(',')) for (const part of name.split(',')) if (!fs.existsSync(path.join(tmpfs, part))) fs.symlinkSync(name, path.join(tmpfs, part));
    }
    return null;
  });
}

/**
 * Copies the tree under `from` into `to` (an empty tmpfs), as runc's
 * tmpcopyup: directories, regular files and symbolic links (as links, never
 * followed) with their modes and owners; other kinds (device nodes, sockets,
 * FIFOs) are left out. Returns null, or the errno name and the entry.
 */
export function copyTree(from: string, to: string): string | null {
  for (const e of fs.readdirSync(from, { withFileTypes: true })) {
    const src = path.join(from, e.name);
    const dst = path.join(to, e.name);
    try {
      const st = fs.lstatSync(src);
      if (st.isDirectory()) {
        fs.mkdirSync(dst);
        const sub = copyTree(src, dst);
        if (sub) return sub;
      } else if (st.isFile()) fs.copyFileSync(src, dst);
      else if (st.isSymbolicLink()) fs.symlinkSync(fs.readlinkSync(src), dst);
      else continue;
      fs.lchownSync(dst, st.uid, st.gid);
      if (!st.isSymbolicLink()) fs.chmodSync(dst, st.mode & 0o7777);
    } catch (x) {
      return `${(x as NodeJS.ErrnoException).code ?? (x as Error).message} (${e.name})`;
    }
  }
  return null;
}

function describe(op: Op): string {
  switch (op.op) {
    case 'mount':
      return `mount(${op.source || '-'} at ${op.target}${op.fstype ? `, ${op.fstype}` : ''})`;
    case 'mount-in-root':
      return `mount(${op.source || '-'} at ${op.target}${op.fstype ? `, ${op.fstype}` : ''})`;
    case 'root':
      return op.layers ? `mounting the overlay at ${op.path}` : `the root ${op.path}`;
    case 'pivot-root':
      return `pivot_root into ${op.root}`;
    case 'device':
      return `device ${op.path} (${op.type} ${op.major}:${op.minor})`;
    case 'mask':
    case 'readonly':
    case 'symlink':
    case 'write-file':
    case 'mknod':
      return `${op.op} ${op.path}`;
    case 'cgroup':
      return `cgroup mounts at ${op.target}`;
    case 'chdir':
      return `chdir ${op.path}`;
  }
}
