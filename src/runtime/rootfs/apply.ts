/**
 * Carries out a root filesystem plan (plan.ts) inside the container's mount
 * namespace. Runs in the re-executed init, before the workload exists.
 *
 * Paths under the new root are resolved inside it (a symbolic link in the
 * image pointing at /etc resolves to the image's /etc, never the host's), and
 * every directory or file the plan has to create in the root (a missing mount
 * point) is recorded, so the launcher can remove it from the host afterwards.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ContainerLibc } from '../../libc/container.js';
import type { NsLibc } from '../../libc/ns.js';
import { MS, type Op } from './plan.js';

/** A cgroup hierarchy the init belongs to: where the host mounts it and the init's cgroup in it. */
export interface CgroupMountInfo { mountPoint: string; source: string; fstype: 'cgroup' | 'cgroup2' }

export interface ApplyContext {
  ns: NsLibc;
  cl: ContainerLibc;
  root: string;
  cgroups: CgroupMountInfo[];
  /** Called with each path created under the root (host view, before pivot_root). */
  created(p: string): void;
}

/**
 * Resolves `p` (a path under `root`, host view) following symbolic links as if
 * `root` were `/` (like securejoin). Components that do not exist yet are kept.
 */
export function resolveInRoot(root: string, p: string): string {
  const rel = path.relative(root, p);
  if (rel.startsWith('..') || path.isAbsolute(rel)) return p;
  const parts = rel.split('/').filter((s) => s && s !== '.');
  let cur = '/';
  let links = 0;
  while (parts.length) {
    const part = parts.shift()!;
    if (part === '..') {
      cur = path.dirname(cur);
      continue;
    }
    const next = path.posix.join(cur, part);
    let target: string | null = null;
    try {
      if (fs.lstatSync(path.join(root, next)).isSymbolicLink()) target = fs.readlinkSync(path.join(root, next));
    } catch {
      target = null;
    }
    if (target === null) {
      cur = next;
      continue;
    }
    if (++links > 40) throw Object.assign(new Error(`too many symbolic links under ${p}`), { code: 'ELOOP' });
    parts.unshift(...target.split('/').filter(Boolean));
    if (target.startsWith('/')) cur = '/';
  }
  return path.join(root, cur);
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

/** Carries out `ops`; returns null or a one-line error. */
export function applyRootfs(ops: readonly Op[], ctx: ApplyContext): string | null {
  let pivoted = false;
  const inRoot = (p: string) => (!pivoted && (p === ctx.root || p.startsWith(ctx.root + '/')) ? resolveInRoot(ctx.root, p) : p);
  const mkdirp = (p: string, mode: number) => {
    const missing: string[] = [];
    for (let d = p; !fs.existsSync(d); d = path.dirname(d)) missing.unshift(d);
    for (const d of missing) {
      fs.mkdirSync(d, { mode });
      if (!pivoted && d.startsWith(ctx.root + '/')) ctx.created(d);
    }
  };
  for (const op of ops) {
    try {
      const err = applyOne(op);
      if (err) return err;
    } catch (e) {
      const x = e as NodeJS.ErrnoException;
      return `${describe(op)}: ${x.code ?? x.message}`;
    }
  }
  return null;

  function applyOne(op: Op): string | null {
    const { ns, cl } = ctx;
    switch (op.op) {
      case 'mount': {
        const target = inRoot(op.target);
        const r = ns.mount(op.source === '' ? null : op.source, target, op.fstype === '' ? null : op.fstype, op.flags, op.data === '' ? null : op.data);
        return r.ok ? null : `${describe(op)}: ${r.code}`;
      }
      case 'mkdir':
        mkdirp(inRoot(op.path), op.mode);
        return null;
      case 'touch': {
        const p = inRoot(op.path);
        if (fs.existsSync(p)) return null;
        mkdirp(path.dirname(p), 0o755);
        fs.closeSync(fs.openSync(p, 'wx', 0o644));
        if (!pivoted && p.startsWith(ctx.root + '/')) ctx.created(p);
        return null;
      }
      case 'symlink': {
        const p = inRoot(op.path);
        try {
          fs.lstatSync(p);
          return null;
        } catch {
          fs.symlinkSync(op.target, p);
          return null;
        }
      }
      case 'write-file':
        fs.writeFileSync(op.path, op.content, { mode: 0o644 });
        return null;
      case 'mknod': {
        const p = inRoot(op.path);
        if (fs.existsSync(p)) return null;
        const r = cl.mknod(p, op.mode, op.major, op.minor);
        if (r.ok) {
          fs.chmodSync(p, op.mode & 0o7777); // the umask does not decide
          return null;
        }
        fs.closeSync(fs.openSync(p, 'wx', 0o644));
        const b = ns.mount(op.fallback, p, null, MS.BIND, null);
        return b.ok ? null : `${describe(op)}: ${r.code}, and binding ${op.fallback}: ${b.code}`;
      }
      case 'cgroup': {
        const target = inRoot(op.target);
        const v2 = ctx.cgroups.find((c) => c.fstype === 'cgroup2' && c.mountPoint === '/sys/fs/cgroup');
        const bindRo = (source: string, at: string): string | null => {
          const b = ns.mount(source, at, null, MS.BIND | MS.REC, null);
          if (!b.ok) return `binding ${source} at ${at}: ${b.code}`;
          const ro = op.readonly ? MS.RDONLY : 0;
          const r = ns.mount(null, at, null, MS.BIND | MS.REMOUNT | MS.REC | ro | op.flags, null);
          return r.ok ? null : `remounting ${at}: ${r.code}`;
        };
        if (v2) return bindRo(v2.source, target);
        // v1: a tmpfs with one directory per hierarchy, each the init's own cgroup bound read-only (as runc).
        const t = ns.mount('tmpfs', target, 'tmpfs', op.flags, 'mode=755');
        if (!t.ok) return `mounting a tmpfs at ${target}: ${t.code}`;
        for (const c of ctx.cgroups) {
          if (c.fstype !== 'cgroup') continue;
          const name = path.basename(c.mountPoint);
          const at = path.join(target, name);
          fs.mkdirSync(at, { recursive: true });
          const e = bindRo(c.source, at);
          if (e) return e;
          if (name.includes(',')) for (const part of name.split(',')) if (!fs.existsSync(path.join(target, part))) fs.symlinkSync(name, path.join(target, part));
        }
        return null;
      }
      case 'pivot-root': {
        const r = cl.pivotRoot(op.root);
        if (!r.ok) return `pivot_root into ${op.root}: ${r.call} failed: ${r.code}`;
        pivoted = true;
        return null;
      }
      case 'chdir': {
        const r = cl.chdir(op.path);
        return r.ok ? null : `chdir(${op.path}): ${r.code}`;
      }
      case 'mask': {
        let st: fs.Stats;
        try {
          st = fs.statSync(op.path);
        } catch {
          return null; // nothing to hide
        }
        const r = st.isDirectory() ? ns.mount('tmpfs', op.path, 'tmpfs', MS.RDONLY, null) : ns.mount('/dev/null', op.path, null, MS.BIND, null);
        return r.ok ? null : `masking ${op.path}: ${r.code}`;
      }
      case 'readonly': {
        if (!fs.existsSync(op.path)) return null;
        const b = ns.mount(op.path, op.path, null, MS.BIND | MS.REC, null);
        if (!b.ok) return `binding ${op.path} read-only: ${b.code}`;
        const r = ns.mount(null, op.path, null, MS.BIND | MS.REMOUNT | MS.RDONLY | MS.REC, null);
        return r.ok ? null : `remounting ${op.path} read-only: ${r.code}`;
      }
    }
  }
}

function describe(op: Op): string {
  switch (op.op) {
    case 'mount':
      return op.fstype === 'overlay' ? `mounting the overlay at ${op.target}` : `mount(${op.source || '-'} at ${op.target}${op.fstype ? `, ${op.fstype}` : ''})`;
    case 'pivot-root':
      return `pivot_root into ${op.root}`;
    case 'mask':
    case 'readonly':
    case 'mkdir':
    case 'touch':
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
