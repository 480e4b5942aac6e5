/**
 * Carries out a root filesystem plan (plan.ts) inside the container's mount
 * namespace. Runs in the re-executed init, before the workload exists.
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


/** A cgroup hierarchy the init belongs to: where the host mounts it and the init's cgroup in it. */
export interface CgroupMountInfo { mountPoint: string; source: string; fstype: 'cgroup' | 'cgroup2' }

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

/** The cgroup hierarchies of this process, as the host sees them (read before a cgroup namespace). */
export function readCgroupMounts(): CgroupMountInfo[] {
  const membership = new Map<string, string>();
  for (const line of fs.readFileSync('/proc/self/cgroup', 'utf8').split('\n')) {
    const m = /^[0-9]+:([^:]*):(.*)$/.exec(line);
    if (m) membership.set(m[1], m[2]);
  }
  const out: CgroupMountInfo[] = [];
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [left, right] = line.split(' - ');
    if (!right) continue;
    const f = left.split(' ');
    const [fstype, , superOpts] = right.split(' ');
    const mountRoot = f[3];
    const mountPoint = f[4];
    let key: string | undefined;
    if (fstype === 'cgroup2') key = '';
    else if (fstype === 'cgroup') {
      const opts = superOpts.split(',');
      key = [...membership.keys()].find((k) => k !== '' && k.split(',').every((c) => opts.includes(c)));
    } else continue;
    const cg = key === undefined ? undefined : membership.get(key);
    // Hierarchies where the init sits in the host's root cgroup (tini-ts made no cgroup there) are not shown: the container would see the whole host's tree.
    if (cg === undefined || cg === '/' || out.some((o) => o.mountPoint === mountPoint)) continue;
    const rel = path.posix.relative(mountRoot, cg);
    if (rel.startsWith('..')) continue;
    out.push({ mountPoint, source: path.posix.join(mountPoint, rel), fstype: fstype as 'cgroup' | 'cgroup2' });
  }
  return out;
}

/** A step's failure, or null: what the steps below return (applyRootfs hands the first one up). */
type Step = RunError | null;
/** A call's failure: `what` was being done; the call and its errno kept. */
const sys = (r: SysError, what: string, after = ''): RunError => runError(`${what}: ${r.code}${after}`, { call: r.call, errno: r.code });
/** A path that did not resolve inside the root. */
const unresolved = (r: { error: string; code: string }, what?: string): RunError =>
  runError(what === undefined ? r.error : `${what}: ${r.error}`, { errno: r.code as ErrnoName });

/** Carries out `ops`; the first failure stops it. */
export function applyRootfs(ops: readonly Op[], ctx: ApplyContext): Outcome<void> {
  const at = ctx.at ?? createAtLibc();
  const { ns, cl } = ctx;
  /** The new root (the top mount at its path), from the 'root' op to pivot_root. */
  let rootFd = -1;
  /** Whether the last ifPresent found its path. */
  let present = false;
  const closeRoot = () => {
    if (rootFd >= 0) at.close(rootFd);
    rootFd = -1;
  };
  try {
    for (const op of ops) {
      let err: Step;
      try {
        err = applyOne(op);
      } catch (e) {
        const x = e as NodeJS.ErrnoException;
        err = runError(`${describe(op)}: ${x.code ?? x.message}`, x.code ? { call: x.syscall, errno: x.code as ErrnoName } : {});
      }
      if (err) return { ok: false, error: err };
    }
    return ok(undefined);
  } finally {
    closeRoot();
  }

  /** Resolves `p` inside the root (creating it as asked), then calls `use` with `/proc/self/fd/N` of it. */
  function onTarget(p: string, create: Create, mode: number, use: (target: string, dir: boolean) => Step): Step {
    if (rootFd < 0) return runError(`${p}: no root to resolve it in`);
    const r = resolveInRoot(at, rootFd, p, create, mode);
    if (!r.ok) return unresolved(r);
    try {
      return use(fdPath(r.fd), r.dir);
    } finally {
      at.close(r.fd);
    }
  }

  /** The parent directory of `p` inside the root (created if missing) and the last name. */
  function inParent(p: string, use: (dirFd: number, name: string) => Step): Step {
    const name = path.posix.basename(p);
    if (name === '' || name === '.' || name === '..') return runError(`${p}: not a name to create`);
    const r = resolveInRoot(at, rootFd, path.posix.dirname(p), 'dir');
    if (!r.ok) return unresolved(r);
    try {
      return r.dir ? use(r.fd, name) : runError(`${path.posix.dirname(p)}: not a directory`, { errno: 'ENOTDIR' });
    } finally {
      at.close(r.fd);
    }
  }

  function remount(p: string, flags: number): Step {
    // Resolved again: the descriptor of the mount point still names what the bind covers.
    return onTarget(p, null, 0, (t) => {
      const r = ns.mount(null, t, null, MS.BIND | MS.REMOUNT | flags, null);
      return r.ok ? null : sys(r, `remounting ${p}`);
    });
  }

  function openRoot(p: string): Step {
    closeRoot();
    const o = at.open(p, O.PATH | O.DIRECTORY | O.CLOEXEC);
    if (!o.ok) return sys(o, `opening the root ${p}`);
    rootFd = o.value;
    return null;
  }

  function buildRoot(op: Extract<Op, { op: 'root' }>): Step {
    if (op.layers) {
      // lowerdir lists the top layer first.
      const lower = [...op.layers.lower].reverse().join(':');
      const r = ns.mount('overlay', op.path, 'overlay', 0, `lowerdir=${lower},upperdir=${op.layers.upper},workdir=${op.layers.work}`);
      return r.ok ? openRoot(op.path) : sys(r, `mounting the overlay at ${op.path}`);
    }
    if (op.probe) {
      const e = openRoot(op.path);
      if (e) return e;
      const missing = op.probe.find((p) => {
        const r = resolveInRoot(at, rootFd, p);
        if (r.ok) at.close(r.fd);
        return !r.ok;
      });
      if (missing !== undefined) return readOnlyOverlay(op.path, missing);
    }
    // pivot_root needs the new root to be a mount point.
    const b = ns.mount(op.path, op.path, null, MS.BIND | MS.REC, null);
    return b.ok ? openRoot(op.path) : sys(b, `binding the root ${op.path}`);
  }

  /**
   * A read-only root that lacks a mount point: an overlay whose lower layer is
   * the root (through its descriptor) and whose upper and work directories
   * are on a tmpfs mounted over the root's path in this mount namespace only
   * (gone with it), so the user's directory is never written.
   */
  function readOnlyOverlay(root: string, missing: string): Step {
    const lower = fdPath(rootFd);
    const st = fs.fstatSync(rootFd);
    const t = ns.mount('tmpfs', root, 'tmpfs', MS.NOSUID | MS.NODEV, 'mode=700');
    if (!t.ok) return sys(t, `mounting a tmpfs for the overlay over ${root} (${missing} is missing)`);
    const upper = path.join(root, 'upper');
    const work = path.join(root, 'work');
    fs.mkdirSync(upper);
    fs.mkdirSync(work, { mode: 0o700 });
    // The overlay's / takes the upper directory's owner and mode: the root's.
    fs.chownSync(upper, st.uid, st.gid);
    fs.chmodSync(upper, st.mode & 0o7777);
    const r = ns.mount('overlay', root, 'overlay', 0, `lowerdir=${lower},upperdir=${upper},workdir=${work}`);
    if (!r.ok) return sys(r, `mounting an overlay over the read-only root ${root} (${missing} is missing)`);
    return openRoot(root);
  }

  function mountInRoot(op: Extract<Op, { op: 'mount-in-root' }>): Step {
    let create: 'dir' | 'file' = 'dir';
    if (op.create === 'source') {
      // A file (or a device, a socket) is bound onto a file, a directory onto a directory.
      create = fs.statSync(op.source).isDirectory() ? 'dir' : 'file';
    }
    // tmpcopyup: a directory the image had gives the tmpfs its mode; one made here does not (runc's rule).
    let existed = false;
    if (op.copyUp) {
      const probe = resolveInRoot(at, rootFd, op.target);
      existed = probe.ok;
      if (probe.ok) at.close(probe.fd);
    }
    const r = resolveInRoot(at, rootFd, op.target, create, op.mode);
    if (!r.ok) return unresolved(r, describe(op));
    try {
      if (r.dir !== (create === 'dir')) {
        return runError(
          create === 'dir'
            ? `${op.target} exists in the root and is not a directory; ${op.fstype === '' ? `the source ${op.source} is a directory` : `a ${op.fstype} mount needs one`}`
            : `${op.target} exists in the root and is a directory; the source ${op.source} is not`,
        );
      }
      const m = ns.mount(op.source === '' ? null : op.source, fdPath(r.fd), op.fstype === '' ? null : op.fstype, op.flags, op.data === '' ? null : op.data);
      if (!m.ok) return sys(m, `${describe(op)}`);
      // The descriptor still names the directory the tmpfs covers; the path, resolved again, the tmpfs.
      if (op.copyUp) {
        const lower = fdPath(r.fd);
        const e = onTarget(op.target, null, 0, (tmpfs) => {
          if (existed) fs.chmodSync(tmpfs, fs.statSync(lower).mode & 0o7777);
          const copied = copyTree(lower, tmpfs);
          return copied === null ? null : runError(copied);
        });
        if (e) return within(e, `${describe(op)}: copying up what ${op.target} held`);
      }
    } finally {
      at.close(r.fd);
    }
    return op.remount === null ? null : remount(op.target, op.remount);
  }

  function applyOne(op: Op): Step {
    switch (op.op) {
      case 'mount': {
        const r = ns.mount(op.source === '' ? null : op.source, op.target, op.fstype === '' ? null : op.fstype, op.flags, op.data === '' ? null : op.data);
        return r.ok ? null : sys(r, `${describe(op)}`);
      }
      case 'root':
        return buildRoot(op);
      case 'mount-in-root':
        return mountInRoot(op);
      case 'symlink':
        return inParent(op.path, (dirFd, name) => {
          const r = at.symlinkat(op.target, dirFd, name);
          return r.ok || r.code === 'EEXIST' ? null : sys(r, `${describe(op)}`);
        });
      case 'write-file':
        fs.writeFileSync(op.path, op.content, { mode: 0o644 });
        return null;
      case 'mknod':
        return makeNode(op);
      case 'device':
        return inParent(op.path, (dirFd, name) => {
          const kind = op.type === 'c' ? S_IFCHR : op.type === 'b' ? S_IFBLK : S_IFIFO;
          const r = at.mknodat(dirFd, name, kind | op.mode, op.major, op.minor);
          if (!r.ok) return r.code === 'EEXIST' ? null : sys(r, `${describe(op)}`); // there already (a default node): kept, as runc
          // Mode and owner through the node just made (the umask does not decide; a link is never followed).
          const o = at.openat(dirFd, name, O.PATH | O.NOFOLLOW | O.CLOEXEC);
          if (!o.ok) return sys(o, `${describe(op)}`);
          try {
            fs.chmodSync(fdPath(o.value), op.mode);
            fs.chownSync(fdPath(o.value), op.uid, op.gid);
          } finally {
            at.close(o.value);
          }
          return null;
        });
      case 'cgroup':
        return cgroupMounts(op);
      case 'pivot-root': {
        ctx.beforePivot?.();
        closeRoot();
        const r = cl.pivotRoot(op.root);
        if (!r.ok) return sys(r, `pivot_root into ${op.root}: ${r.call} failed`);
        // From here on the root is `/`: masked and read-only paths are resolved from it the same way.
        return openRoot('/');
      }
      case 'chdir': {
        const r = cl.chdir(op.path);
        return r.ok ? null : sys(r, `chdir(${op.path})`);
      }
      case 'mask':
        return ifPresent(op.path, (t, dir) => {
          const r = dir ? ns.mount('tmpfs', t, 'tmpfs', MS.RDONLY, null) : ns.mount('/dev/null', t, null, MS.BIND, null);
          return r.ok ? null : sys(r, `masking ${op.path}`);
        });
      case 'readonly':
        return makeReadonly(op);
    }
  }

  /** A device node made in the root (its mode exact, whatever the umask); where mknod is refused, the host's node bound onto a file. */
  function makeNode(op: Extract<Op, { op: 'mknod' }>): Step {
    let refused: SysError | null = null;
    const e = inParent(op.path, (dirFd, name) => {
      const r = at.mknodat(dirFd, name, op.mode, op.major, op.minor);
      if (!r.ok) {
        if (r.code !== 'EEXIST') refused = r;
        return null; // EEXIST: there already, as it is
      }
      // The umask does not decide; the node is checked to be the one just made.
      const o = at.openat(dirFd, name, O.PATH | O.NOFOLLOW | O.CLOEXEC);
      if (!o.ok) return sys(o, `${describe(op)}`);
      try {
        if (fs.fstatSync(o.value).isCharacterDevice()) fs.chmodSync(fdPath(o.value), op.mode & 0o7777);
      } finally {
        at.close(o.value);
      }
      return null;
    });
    if (e || refused === null) return e;
    const denied = refused as SysError;
    return onTarget(op.path, 'file', 0o755, (t, dir) => {
      if (dir) return sys(denied, `${describe(op)}`, `, and ${op.path} is a directory`);
      const b = ns.mount(op.fallback, t, null, MS.BIND, null);
      return b.ok ? null : sys(b, `${describe(op)}: ${denied.code}, and binding ${op.fallback}`);
    });
  }

  /** A path made read-only by a bind remount that keeps the source's nosuid, nodev and noexec. */
  function makeReadonly(op: Extract<Op, { op: 'readonly' }>): Step {
    const e = ifPresent(op.path, (t) => {
      const b = ns.mount(t, t, null, MS.BIND | MS.REC, null);
      return b.ok ? null : sys(b, `binding ${op.path} read-only`);
    });
    if (e !== null || !present) return e;
    return onTarget(op.path, null, 0, (t) => {
      // A bind remount clears the flags it is not given: keep nosuid, nodev and noexec from
      // the source (/proc has them all), as runc does.
      const f = ns.mountFlags(t);
      if (!f.ok) return sys(f, `remounting ${op.path} read-only: ${f.call} failed`);
      const keep = f.value & (MS.NOSUID | MS.NODEV | MS.NOEXEC);
      const r = ns.mount(null, t, null, MS.BIND | MS.REMOUNT | MS.RDONLY | MS.REC | keep, null);
      return r.ok ? null : sys(r, `remounting ${op.path} read-only`);
    });
  }

  /** Like onTarget, but a path that does not exist is nothing to do (`present` says which). */
  function ifPresent(p: string, use: (target: string, dir: boolean) => Step): Step {
    const r = resolveInRoot(at, rootFd, p);
    present = r.ok;
    if (!r.ok) return r.code === 'ENOENT' || r.code === 'ENOTDIR' ? null : unresolved(r);
    try {
      return use(fdPath(r.fd), r.dir);
    } finally {
      at.close(r.fd);
    }
  }

  function cgroupMounts(op: Extract<Op, { op: 'cgroup' }>): Step {
    const ro = op.readonly ? MS.RDONLY : 0;
    const v2 = ctx.cgroups.find((c) => c.fstype === 'cgroup2' && c.mountPoint === '/sys/fs/cgroup');
    const bindRo = (source: string, at: string, shown: string): Step => {
      const b = ns.mount(source, at, null, MS.BIND | MS.REC, null);
      return b.ok ? null : sys(b, `binding ${source} at ${shown}`);
    };
    const remountRo = (t: string, shown: string): Step => {
      const r = ns.mount(null, t, null, MS.BIND | MS.REMOUNT | MS.REC | ro | op.flags, null);
      return r.ok ? null : sys(r, `remounting ${shown}`);
    };
    if (v2) {
      const e = onTarget(op.target, 'dir', 0o755, (t) => bindRo(v2.source, t, op.target));
      return e ?? onTarget(op.target, null, 0, (t) => remountRo(t, op.target));
    }
    // v1: a tmpfs with one directory per hierarchy, each the init's own cgroup bound read-only (as runc).
    const e = onTarget(op.target, 'dir', 0o755, (t) => {
      const r = ns.mount('tmpfs', t, 'tmpfs', op.flags, 'mode=755');
      return r.ok ? null : sys(r, `mounting a tmpfs at ${op.target}`);
    });
    if (e) return e;
    // Inside that tmpfs, made just now in this mount namespace: nothing else can reach it.
    return onTarget(op.target, null, 0, (tmpfs) => {
      for (const c of ctx.cgroups) {
        if (c.fstype !== 'cgroup') continue;
        const name = path.basename(c.mountPoint);
        const dir = path.join(tmpfs, name);
        const shown = path.posix.join(op.target, name);
        fs.mkdirSync(dir, { recursive: true });
        const b = bindRo(c.source, dir, shown);
        if (b) return b;
        const r = remountRo(dir, shown);
        if (r) return r;
        if (name.includes(',')) for (const part of name.split(',')) if (!fs.existsSync(path.join(tmpfs, part))) fs.symlinkSync(name, path.join(tmpfs, part));
      }
      return null;
    });
  }
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
