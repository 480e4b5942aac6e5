/**
 * The descriptor-based resolver against a real temporary tree full of hostile
 * symbolic links: whatever the links say, nothing is reached or created
 * outside the root, and a loop is one line with ELOOP.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { O } from '../../src/libc/consts.js';
import { createAtLibc } from '../../src/libc/at.js';
import { components, fdPath, resolveInRoot, type Resolved } from '../../src/runtime/rootfs/resolve.js';

const at = createAtLibc();
let dir: string;
let root: string;
let outside: string;
let rootFd: number;

/** Where a resolved descriptor points, as a path relative to the root ('' for the root itself); closes it. */
function where(r: Resolved): string {
  if (!r.ok) throw new Error(r.error);
  const target = fs.readlinkSync(fdPath(r.fd));
  at.close(r.fd);
  return path.relative(root, target);
}

/** Every entry under `d`, relative (with a / after directories). */
function listing(d: string): string[] {
  const out: string[] = [];
  const walk = (x: string) => {
    for (const e of fs.readdirSync(x, { withFileTypes: true })) {
      const p = path.join(x, e.name);
      out.push(path.relative(d, p) + (e.isDirectory() ? '/' : ''));
      if (e.isDirectory()) walk(p);
    }
  };
  walk(d);
  return out.sort();
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tini-ts-resolve-'));
  root = path.join(dir, 'root');
  outside = path.join(dir, 'outside');
  fs.mkdirSync(path.join(root, 'etc'), { recursive: true });
  fs.mkdirSync(path.join(root, 'usr/lib'), { recursive: true });
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(outside, 'victim'), 'host\n');
  fs.writeFileSync(path.join(root, 'etc/passwd'), 'root\n');
  // Hostile links: absolute to the host, relative climbing out, chains, loops.
  fs.symlinkSync(outside, path.join(root, 'abs'));
  fs.symlinkSync('../../../../../../outside', path.join(root, 'rel'));
  fs.symlinkSync('/etc/../../../..' + outside, path.join(root, 'chain'));
  fs.symlinkSync('abs/victim', path.join(root, 'to-victim'));
  fs.symlinkSync('loop2', path.join(root, 'loop1'));
  fs.symlinkSync('loop1', path.join(root, 'loop2'));
  fs.symlinkSync('self/x', path.join(root, 'self'));
  fs.symlinkSync('/usr/lib', path.join(root, 'lib'));
  fs.symlinkSync('../missing/deeper', path.join(root, 'etc/dangling'));
  const o = at.open(root, O.PATH | O.DIRECTORY | O.CLOEXEC);
  if (!o.ok) throw new Error(o.code);
  rootFd = o.value;
});

afterEach(() => {
  at.close(rootFd);
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('resolveInRoot', () => {
  it('splits a path into components, keeping .. for the walk to clamp', () => {
    expect(components('/a//b/./../c/')).toEqual(['a', 'b', '..', 'c']);
  });

  it('follows links inside the root as if the root were /', () => {
    expect(where(resolveInRoot(at, rootFd, '/lib'))).toBe('usr/lib');
    expect(where(resolveInRoot(at, rootFd, '/etc/passwd'))).toBe('etc/passwd');
    expect(where(resolveInRoot(at, rootFd, '/'))).toBe('');
  });

  it('never leaves the root: absolute links, .. chains and links climbing out all land inside', () => {
    for (const p of ['/abs', '/rel', '/chain', '/../../..', '/etc/../../../../..']) {
      const r = resolveInRoot(at, rootFd, p);
      // The host directory the link names does not exist inside the root, or it is the root itself.
      if (r.ok) expect(path.relative(root, fs.readlinkSync(fdPath(r.fd)))).not.toMatch(/^\.\./);
      if (r.ok) at.close(r.fd);
      else expect(r.code).toBe('ENOENT');
    }
    expect(resolveInRoot(at, rootFd, '/to-victim')).toMatchObject({ ok: false, code: 'ENOENT' });
  });

  it('creates what is missing inside the root, even along links pointing at the host', () => {
    const before = listing(outside);
    expect(where(resolveInRoot(at, rootFd, '/abs/new/dir', 'dir'))).toBe(path.join(outside.slice(1), 'new/dir'));
    expect(where(resolveInRoot(at, rootFd, '/rel/f', 'file'))).toBe('outside/f');
    expect(where(resolveInRoot(at, rootFd, '/to-victim', 'file'))).toBe(path.join(outside.slice(1), 'victim'));
    expect(listing(outside)).toEqual(before);
    expect(fs.readFileSync(path.join(outside, 'victim'), 'utf8')).toBe('host\n');
  });

  it('creates through a dangling link where it points, inside the root (as securejoin does)', () => {
    const r = resolveInRoot(at, rootFd, '/etc/dangling/file', 'file');
    expect(where(r)).toBe('missing/deeper/file');
    expect(fs.statSync(path.join(root, 'missing/deeper/file')).isFile()).toBe(true);
  });

  it('is idempotent: creating what exists gives the same thing, a file stays as it is', () => {
    expect(where(resolveInRoot(at, rootFd, '/proc', 'dir', 0o555))).toBe('proc');
    expect(fs.statSync(path.join(root, 'proc')).mode & 0o777).toBe(0o555);
    expect(where(resolveInRoot(at, rootFd, '/proc', 'dir'))).toBe('proc');
    expect(where(resolveInRoot(at, rootFd, '/etc/passwd', 'file'))).toBe('etc/passwd');
    expect(fs.readFileSync(path.join(root, 'etc/passwd'), 'utf8')).toBe('root\n');
    const r = resolveInRoot(at, rootFd, '/etc/hostname', 'file');
    expect(r).toMatchObject({ ok: true, dir: false });
    expect(where(r)).toBe('etc/hostname');
    expect(fs.statSync(path.join(root, 'etc/hostname')).size).toBe(0);
  });

  it('reports a loop in one line with ELOOP, and creates nothing for it', () => {
    for (const p of ['/loop1', '/loop2/x', '/self']) {
      const r = resolveInRoot(at, rootFd, p, 'dir');
      expect(r).toMatchObject({ ok: false, code: 'ELOOP' });
      if (!r.ok) expect(r.error).toBe(`${p}: too many levels of symbolic links (ELOOP)`);
    }
    expect(fs.readlinkSync(path.join(root, 'loop1'))).toBe('loop2');
  });

  it('refuses to walk through a file (ENOTDIR), and reports a missing path without creating it', () => {
    expect(resolveInRoot(at, rootFd, '/etc/passwd/x', 'dir')).toMatchObject({ ok: false, code: 'ENOTDIR', error: '/etc/passwd/x: passwd: not a directory (ENOTDIR)' });
    expect(resolveInRoot(at, rootFd, '/nope/x')).toMatchObject({ ok: false, code: 'ENOENT', error: '/nope/x: nope: does not exist (ENOENT)' });
    expect(fs.existsSync(path.join(root, 'nope'))).toBe(false);
  });

  it('leaves no descriptor open', () => {
    const count = () => fs.readdirSync('/proc/self/fd').length;
    const n = count();
    for (const p of ['/abs/a/b', '/loop1', '/etc/passwd/x', '/lib', '/etc/dangling/file']) {
      const r = resolveInRoot(at, rootFd, p, 'dir');
      if (r.ok) at.close(r.fd);
    }
    expect(count()).toBe(n);
  });
});
