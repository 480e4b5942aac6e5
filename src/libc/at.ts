/**
 * The *at() system calls a container's root filesystem is built with: every
 * path inside the root is looked up one component at a time relative to a
 * descriptor (see runtime/rootfs/resolve.ts), never by name from the host,
 * so a symbolic link or a rename by a workload (of this run or of another
 * one sharing the root) cannot send a mkdir, a file creation or a mount
 * outside it. Every call returns a Result carrying the errno by name.
 */
import type { Koffi } from './koffi-native.js';
import { lazyFunc, libcGroup } from './lazy.js';
import { sysError as fail } from './errno.js';
import { PATH_MAX } from './consts.js';
import { ok, type Result } from './types.js';


export interface AtLibc {
  /** open(2) of a host path (the root itself, given by the user): the new descriptor. */
  open(path: string, flags: number): Result<number>;
  /** openat(2): `name` relative to `dirfd`. */
  openat(dirfd: number, name: string, flags: number, mode?: number): Result<number>;
  mkdirat(dirfd: number, name: string, mode: number): Result<void>;
  mknodat(dirfd: number, name: string, mode: number, major: number, minor: number): Result<void>;
  symlinkat(target: string, dirfd: number, name: string): Result<void>;
  /** readlinkat(2); with name '' the link `dirfd` itself refers to (opened O_PATH|O_NOFOLLOW). */
  readlinkat(dirfd: number, name: string): Result<string>;
  renameat(dirfd: number, from: string, to: string): Result<void>;
  unlinkat(dirfd: number, name: string): Result<void>;
  close(fd: number): Result<void>;
}

export const createAtLibc: (koffi?: Koffi) => AtLibc = libcGroup('at', (c, errno) => {
  const open = lazyFunc(c, 'int open(const char *path, int flags, ...)');
  const openat = lazyFunc(c, 'int openat(int dirfd, const char *path, int flags, ...)');
  const mkdirat = lazyFunc(c, 'int mkdirat(int dirfd, const char *path, unsigned int mode)');
  const mknodat = lazyFunc(c, 'int mknodat(int dirfd, const char *path, unsigned int mode, unsigned long dev)');
  const symlinkat = lazyFunc(c, 'int symlinkat(const char *target, int dirfd, const char *path)');
  const readlinkat = lazyFunc(c, 'long readlinkat(int dirfd, const char *path, void *buf, unsigned long size)');
  const renameat = lazyFunc(c, 'int renameat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath)');
  const unlinkat = lazyFunc(c, 'int unlinkat(int dirfd, const char *path, int flags)');
  const close = lazyFunc(c, 'int close(int fd)');
  const check = (call: string, rc: number): Result<void> => (rc === -1 ? fail(call, errno()) : ok(undefined));

  return {
    open(path, flags) {
      const fd = open(path, flags, 'unsigned int', 0);
      return fd === -1 ? fail(`open(${path})`, errno()) : ok(fd);
    },
    openat(dirfd, name, flags, mode = 0) {
      const fd = openat(dirfd, name, flags, 'unsigned int', mode);
      return fd === -1 ? fail(`openat(${name})`, errno()) : ok(fd);
    },
    mkdirat: (dirfd, name, mode) => check(`mkdirat(${name})`, mkdirat(dirfd, name, mode)),
    mknodat(dirfd, name, mode, major, minor) {
      const dev = ((major & 0xfff) << 8) | (minor & 0xff) | ((minor & ~0xff) << 12);
      return check(`mknodat(${name})`, mknodat(dirfd, name, mode, dev));
    },
    symlinkat: (target, dirfd, name) => check(`symlinkat(${name})`, symlinkat(target, dirfd, name)),
    readlinkat(dirfd, name) {
      const buf = Buffer.alloc(PATH_MAX);
      const n = Number(readlinkat(dirfd, name, buf, buf.length));
      return n === -1 ? fail(`readlinkat(${name})`, errno()) : ok(buf.subarray(0, n).toString());
    },
    renameat: (dirfd, from, to) => check(`renameat(${from}, ${to})`, renameat(dirfd, from, dirfd, to)),
    unlinkat: (dirfd, name) => check(`unlinkat(${name})`, unlinkat(dirfd, name, 0)),
    close: (fd) => check('close', close(fd)),
  };
});
