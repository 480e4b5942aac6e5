/**
 * Paths inside a container's root, resolved through descriptors (as runc's
 * securejoin does): one component at a time with openat(O_PATH|O_NOFOLLOW)
 * relative to the directory reached so far, starting from a descriptor of the
 * root. A symbolic link is read (readlinkat) and its target walked the same
 * way as if the root were `/` (an absolute target starts again from the
 * root); `..` goes back to the previous descriptor and never above the root.
 * No lookup by name from the host ever happens, so a link or a rename made
 * by a workload (this run's or another's sharing the root) between two steps
 * cannot lead anywhere outside the root: at worst somewhere else inside it.
 *
 * Missing components can be created on the way (mkdirat relative to the
 * parent's descriptor, EEXIST accepted: a concurrent run may have made it),
 * the last one as a directory or an empty regular file (O_CREAT without
 * O_EXCL); each is then opened again like any other component, so what was
 * created is checked, never assumed.
 */
import fs from 'node:fs';
import { O } from '../../libc/consts.js';
import type { AtLibc } from '../../libc/at.js';

/** What to make of missing components: nothing, directories, or directories then an empty file. */
export type Create = 'dir' | 'file' | null;

/** An O_PATH descriptor of what the path names inside the root (the caller closes it), or a one-line error. */
export type Resolved = { ok: true; fd: number; dir: boolean } | { ok: false; error: string; code: string };

/** As the kernel's limit on symbolic links in one lookup. */
const MAX_LINKS = 40;
/** Creations that vanished again before they could be opened (a concurrent remover): give up after this many. */
const MAX_RETRIES = 100;

const PATH_FLAGS = O.PATH | O.NOFOLLOW | O.CLOEXEC;

/** The components of `p`, without empty ones and `.`; `..` is kept (the walk clamps it at the root). */
export function components(p: string): string[] {
  return p.split('/').filter((s) => s !== '' && s !== '.');
}

/**
 * Resolves `p` (a path as the container will see it) under the directory
 * `rootFd` refers to. With `create`, missing directories are made with
 * `mode` (the last component; intermediate ones 0755) and, for 'file', the
 * last component as an empty file (0644).
 */
export function resolveInRoot(at: AtLibc, rootFd: number, p: string, create: Create = null, mode = 0o755): Resolved {
  const queue = components(p);
  /** Descriptors of the directories walked below the root (the root itself is the caller's). */
  const stack: number[] = [];
  const cur = () => (stack.length > 0 ? stack[stack.length - 1] : rootFd);
  const closeAll = () => {
    while (stack.length > 0) at.close(stack.pop()!);
  };
  const failure = (what: string, code: string): Resolved => {
    closeAll();
    return { ok: false, error: `${p}: ${what}`, code };
  };
  let links = 0;
  let retries = 0;
  while (queue.length > 0) {
    const name = queue.shift()!;
    if (name === '..') {
      if (stack.length > 0) at.close(stack.pop()!);
      continue;
    }
    const last = queue.length === 0;
    const o = at.openat(cur(), name, PATH_FLAGS);
    if (!o.ok) {
      if (o.code !== 'ENOENT' || create === null) return failure(o.code === 'ENOENT' ? `${name}: does not exist (ENOENT)` : `${name}: ${o.code}`, o.code);
      if (++retries > MAX_RETRIES) return failure(`${name} keeps disappearing while it is created`, 'EAGAIN');
      if (last && create === 'file') {
        // O_NOFOLLOW: a link planted meanwhile is refused (ELOOP) and looked at again as a link.
        const f = at.openat(cur(), name, O.CREAT | O.RDONLY | O.NONBLOCK | O.NOFOLLOW | O.CLOEXEC, 0o644);
        if (f.ok) at.close(f.value);
        else if (f.code !== 'ELOOP' && f.code !== 'EISDIR' && f.code !== 'EEXIST') return failure(`creating ${name}: ${f.code}`, f.code);
      } else {
        const m = at.mkdirat(cur(), name, last ? mode : 0o755);
        if (!m.ok && m.code !== 'EEXIST') return failure(`creating ${name}: ${m.code}`, m.code);
      }
      queue.unshift(name);
      continue;
    }
    const fd = o.value;
    let st: fs.Stats;
    try {
      st = fs.fstatSync(fd);
    } catch (e) {
      at.close(fd);
      const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
      return failure(`${name}: fstat: ${code}`, code);
    }
    if (st.isSymbolicLink()) {
      const l = at.readlinkat(fd, '');
      at.close(fd);
      if (!l.ok) return failure(`${name}: ${l.code}`, l.code);
      if (++links > MAX_LINKS) return failure('too many levels of symbolic links (ELOOP)', 'ELOOP');
      // Resolved as if the root were `/`: an absolute target starts again from it.
      if (l.value.startsWith('/')) closeAll();
      queue.unshift(...components(l.value));
      continue;
    }
    if (st.isDirectory()) {
      stack.push(fd);
      continue;
    }
    if (!last) {
      at.close(fd);
      return failure(`${name}: not a directory (ENOTDIR)`, 'ENOTDIR');
    }
    closeAll();
    return { ok: true, fd, dir: false };
  }
  if (stack.length === 0) {
    // The root itself: a descriptor of the caller's own.
    const o = at.openat(rootFd, '.', O.PATH | O.DIRECTORY | O.CLOEXEC);
    return o.ok ? { ok: true, fd: o.value, dir: true } : failure(o.code, o.code);
  }
  const fd = stack.pop()!;
  closeAll();
  return { ok: true, fd, dir: true };
}

/** `/proc/self/fd/N`: what mount(2) is given instead of a path, so it acts on exactly what was resolved. */
export const fdPath = (fd: number): string => `/proc/self/fd/${fd}`;
