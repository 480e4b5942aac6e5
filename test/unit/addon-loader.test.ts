/**
 * The FFI addon loader's order (beside the binary, a memory file, then an
 * O_TMPFILE in each temporary directory) and its one-line error, with a
 * double of the system: which calls were made, in which order, and what the
 * error says when every route fails.
 */
import { describe, expect, it } from 'vitest';
import { addonSources, loadFirst, type AddonSystem, type Koffi } from '../../src/libc/koffi-native.js';

const KOFFI = { fake: true } as unknown as Koffi;
const BESIDE = '/opt/tini-ts-koffi-abc.node';
const NAME = 'tini-ts-koffi-abc.node';

/** A system where only the listed routes work; `calls` records every call. */
function fakeSystem(works: { beside?: boolean; memfd?: boolean; tmp?: string[]; mapFails?: boolean } = {}) {
  const calls: string[] = [];
  let next = 10;
  const fdPlace = new Map<number, string>();
  let loadedFd: number | null = null;
  const sys: AddonSystem = {
    exists: (f) => (calls.push(`exists ${f}`), !!works.beside && f === BESIDE),
    dlopen: (f) => {
      calls.push(`dlopen ${f}`);
      const fd = Number(/^\/proc\/self\/fd\/(\d+)$/.exec(f)?.[1] ?? -1);
      if (works.mapFails && fd >= 0) throw new Error(`${f}: failed to map segment from shared object\nsecond line`);
      return KOFFI;
    },
    memfd: (name) => {
      calls.push(`memfd ${name}`);
      if (!works.memfd) throw new Error('Node v24.21.0 has no node:ffi to call it');
      fdPlace.set(next, 'memfd');
      return next++;
    },
    tmpfile: (dir) => {
      calls.push(`tmpfile ${dir}`);
      if (!works.tmp?.includes(dir)) throw new Error(`EROFS: read-only file system, open '${dir}'`);
      fdPlace.set(next, dir);
      return next++;
    },
    write: (fd) => void calls.push(`write ${fdPlace.get(fd)}`),
    close: (fd) => void calls.push(`close ${fdPlace.get(fd)}`),
    bytes: () => (calls.push('bytes'), new Uint8Array(4)),
    loadedFrom: (fd) => {
      loadedFd = fd;
    },
  };
  return { sys, calls, loaded: () => (loadedFd === null ? null : fdPlace.get(loadedFd)) };
}

const ENV = { TMPDIR: '/var/tmp/x', XDG_RUNTIME_DIR: '/run/user/0' };

describe('addon loader', () => {
  it('the places, in order: beside the binary, a memory file, $TMPDIR, /tmp, $XDG_RUNTIME_DIR, /dev/shm, /dev', () => {
    expect(addonSources(BESIDE, ENV, fakeSystem().sys).map((s) => s.where)).toEqual([
      BESIDE, 'memfd_create', '/var/tmp/x', '/tmp', '/run/user/0', '/dev/shm', '/dev',
    ]);
    // unset variables and duplicates are left out
    expect(addonSources(BESIDE, { TMPDIR: '/tmp' }, fakeSystem().sys).map((s) => s.where)).toEqual([BESIDE, 'memfd_create', '/tmp', '/dev/shm', '/dev']);
  });

  it('a file beside the binary wins: nothing is created or written', () => {
    const f = fakeSystem({ beside: true, memfd: true });
    expect(loadFirst(addonSources(BESIDE, ENV, f.sys), NAME)).toBe(KOFFI);
    expect(f.calls).toEqual([`exists ${BESIDE}`, `dlopen ${BESIDE}`]);
  });

  it('without it, the memory file: written, loaded through /proc/self/fd, kept as the loaded descriptor', () => {
    const f = fakeSystem({ memfd: true, tmp: ['/tmp'] });
    expect(loadFirst(addonSources(BESIDE, ENV, f.sys), NAME)).toBe(KOFFI);
    expect(f.calls).toEqual([`exists ${BESIDE}`, 'memfd tini-ts-koffi', 'bytes', 'write memfd', 'dlopen /proc/self/fd/10']);
    expect(f.loaded()).toBe('memfd');
  });

  it('without node:ffi, the first temporary directory that takes an O_TMPFILE; the bytes are read once', () => {
    const f = fakeSystem({ tmp: ['/run/user/0', '/dev/shm'] });
    expect(loadFirst(addonSources(BESIDE, ENV, f.sys), NAME)).toBe(KOFFI);
    expect(f.calls).toEqual([
      `exists ${BESIDE}`, 'memfd tini-ts-koffi', 'tmpfile /var/tmp/x', 'tmpfile /tmp', 'tmpfile /run/user/0', 'bytes', 'write /run/user/0', 'dlopen /proc/self/fd/10',
    ]);
    expect(f.loaded()).toBe('/run/user/0');
  });

  it('a descriptor that cannot be mapped is closed, and the next place is tried', () => {
    const f = fakeSystem({ memfd: true, tmp: ['/tmp'], mapFails: true });
    expect(() => loadFirst(addonSources(BESIDE, { }, f.sys), NAME)).toThrow();
    expect(f.calls.filter((c) => c.startsWith('close'))).toEqual(['close memfd', 'close /tmp']);
    expect(f.calls.filter((c) => c === 'bytes')).toHaveLength(1);
    expect(f.loaded()).toBeNull();
  });

  it('when everything fails: one line naming every attempt in order, with its first line of error, and the way out', () => {
    const f = fakeSystem({ tmp: ['/dev/shm'], mapFails: true });
    let msg = '';
    try {
      loadFirst(addonSources(BESIDE, ENV, f.sys), NAME);
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toBe(
      `cannot load the FFI addon (koffi.node); tried ${BESIDE}: not present; ` +
        'memfd_create: Node v24.21.0 has no node:ffi to call it; ' +
        "/var/tmp/x: EROFS: read-only file system, open '/var/tmp/x'; /tmp: EROFS: read-only file system, open '/tmp'; " +
        "/run/user/0: EROFS: read-only file system, open '/run/user/0'; " +
        "/dev/shm: /proc/self/fd/10: failed to map segment from shared object; /dev: EROFS: read-only file system, open '/dev'. " +
        `Ship ${NAME} beside the binary where none of these works.`,
    );
    expect(msg).not.toContain('\n');
  });
});
