/**
 * Loads koffi's native addon directly, without koffi's JS wrapper.
 *
 * Why not `import koffi from 'koffi'`: the wrapper's esbuild interop enumerates
 * `node:util`, which creates `process.stderr` and flips the shared stdio file
 * descriptions to O_NONBLOCK under the child.
 *
 * Inside the single-executable binary the addon is an SEA asset. It is loaded
 * from, in order (addonSources):
 *   1. `tini-ts-koffi-<hash>.node` beside the binary, when one is shipped;
 *   2. an anonymous memory file (memfd_create through Node's built-in
 *      `node:ffi`, Node >= 26), dlopen'ed through /proc/self/fd: no file
 *      system at all, so read-only roots, noexec mounts and any uid work;
 *   3. an unnamed O_TMPFILE copy in $TMPDIR, /tmp, $XDG_RUNTIME_DIR,
 *      /dev/shm or /dev, for a Node without node:ffi (24) or a seccomp
 *      profile that refuses memfd_create. /dev last: in a container it is a
 *      tmpfs that Docker, Podman and runc mount without noexec (/dev/shm
 *      has it), so a root init on a read-only root still finds a place;
 * and fails with one message naming every attempt. The init that `tini-ts run`
 * starts inside a container is handed the launcher's copy as a descriptor
 * (useAddonFd): the container's own file system may have no place for it.
 */
import fs from 'node:fs';
import path from 'node:path';
import type * as KoffiTypes from 'koffi';
import { O } from './consts.js';

export type Koffi = typeof KoffiTypes;

declare const KOFFI_HASH: string | undefined;

// <linux/memfd.h>. MFD_EXEC (Linux >= 6.3) says the file is meant to be
// mapped executable; without it such kernels log a warning. Older kernels
// reject the flag with EINVAL.
const MFD_CLOEXEC = 0x1;
const MFD_EXEC = 0x10;

function dlopen(file: string): Koffi {
  const mod = { exports: {} as Koffi };
  process.dlopen(mod, file);
  return mod.exports;
}

export function addonFileName(hash: string): string {
  return `tini-ts-koffi-${hash}.node`;
}

/** A descriptor of the file the addon was loaded from, kept open for useAddonFd in the container's init. */
let loadedFd: number | null = null;
let loadedPath: string | null = null;
let inheritedFd: number | null = null;

/** Load the addon from this (inherited) descriptor rather than from a file. */
export function useAddonFd(fd: number): void {
  inheritedFd = fd;
}

/** The descriptor of the loaded addon (opened on demand, close-on-exec), to hand to the container's init. */
export function addonFd(): number {
  loadKoffi();
  if (loadedFd === null && loadedPath !== null) {
    loadedFd = fs.openSync(loadedPath, 'r');
    sharedSlot[SHARED]!.fd = loadedFd;
  }
  if (loadedFd === null) throw new Error('the FFI addon was loaded from no file');
  return loadedFd;
}

/** One place the addon may come from: `where` names it in the error; `load` throws why not. */
export interface AddonSource {
  where: string;
  load(): Koffi;
}

/** The first source that loads, or one line naming every attempt and what failed. */
export function loadFirst(sources: readonly AddonSource[], fileName: string): Koffi {
  const tried: string[] = [];
  for (const s of sources) {
    try {
      return s.load();
    } catch (e) {
      tried.push(`${s.where}: ${String((e as Error)?.message ?? e).split('\n')[0]}`);
    }
  }
  throw new Error(
    `cannot load the FFI addon (koffi.node); tried ${tried.join('; ')}. ` +
      `Ship ${fileName} beside the binary where none of these works.`,
  );
}

/** What the sources need from the system (the unit test passes doubles). */
export interface AddonSystem {
  exists(file: string): boolean;
  /** dlopen a file; throws. */
  dlopen(file: string): Koffi;
  /** A new memory file's descriptor; throws (also when this Node has no node:ffi). */
  memfd(name: string): number;
  /** An unnamed O_TMPFILE in DIR; throws. */
  tmpfile(dir: string): number;
  write(fd: number, bytes: Uint8Array): void;
  close(fd: number): void;
  /** The addon's bytes (read once, on first need). */
  bytes(): Uint8Array;
  /** Called with the descriptor the addon was loaded from. */
  loadedFrom(fd: number): void;
}

/** The places to load the addon from, in order (see the top of this file). */
export function addonSources(beside: string, env: NodeJS.ProcessEnv, sys: AddonSystem): AddonSource[] {
  let bytes: Uint8Array | undefined;
  /** Write the addon into FD and dlopen it through /proc; the fd stays open (CLOEXEC) while mapped. */
  const fromFd = (fd: number): Koffi => {
    try {
      sys.write(fd, (bytes ??= sys.bytes()));
      const k = sys.dlopen(`/proc/self/fd/${fd}`);
      sys.loadedFrom(fd);
      return k;
    } catch (e) {
      sys.close(fd);
      throw e;
    }
  };
  const dirs = [env.TMPDIR, '/tmp', env.XDG_RUNTIME_DIR, '/dev/shm', '/dev'].filter(
    (d, i, all): d is string => !!d && all.indexOf(d) === i,
  );
  return [
    {
      where: beside,
      load: () => {
        if (!sys.exists(beside)) throw new Error('not present');
        return sys.dlopen(beside);
      },
    },
    { where: 'memfd_create', load: () => fromFd(sys.memfd('tini-ts-koffi')) },
    ...dirs.map((dir) => ({ where: dir, load: () => fromFd(sys.tmpfile(dir)) })),
  ];
}

interface NodeFfi {
  dlopen(path: null, defs: Record<string, { arguments: string[]; return: string }>): {
    lib: { close(): void };
    functions: Record<string, (...a: unknown[]) => unknown>;
  };
  getInt32(pointer: unknown): number;
}

/** memfd_create(2) through Node's built-in FFI (Node >= 26): plain Node has no other way to it. */
function memfdCreate(name: string): number {
  const ffi = process.getBuiltinModule('node:ffi' as 'node:fs') as unknown as NodeFfi | undefined;
  if (!ffi?.dlopen) throw new Error(`Node ${process.version} has no node:ffi to call it`);
  const { lib, functions: f } = ffi.dlopen(null, {
    memfd_create: { arguments: ['pointer', 'u32'], return: 'i32' },
    __errno_location: { arguments: [], return: 'pointer' },
  });
  try {
    const cname = Buffer.from(`${name}\0`);
    let fd = f.memfd_create(cname, MFD_CLOEXEC | MFD_EXEC) as number;
    if (fd < 0) fd = f.memfd_create(cname, MFD_CLOEXEC) as number; // before Linux 6.3: no MFD_EXEC
    if (fd < 0) {
      const errno = ffi.getInt32(f.__errno_location());
      const code = Object.entries(process.getBuiltinModule('node:os').constants.errno).find(([, n]) => n === errno)?.[0] ?? `errno ${errno}`;
      throw new Error(`failed: ${code}`);
    }
    return fd;
  } finally {
    lib.close();
  }
}

const realSystem = (): AddonSystem => ({
  exists: (f) => fs.existsSync(f),
  dlopen: (f) => {
    const k = dlopen(f);
    if (!f.startsWith('/proc/self/fd/')) loadedPath = f;
    return k;
  },
  memfd: memfdCreate,
  tmpfile: (dir) => fs.openSync(dir, O.TMPFILE | O.RDWR, 0o700),
  write: (fd, b) => {
    for (let off = 0; off < b.length;) off += fs.writeSync(fd, b, off);
  },
  close: (fd) => fs.closeSync(fd),
  bytes: () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const sea = require('node:sea') as typeof import('node:sea');
    return new Uint8Array(sea.getRawAsset('koffi.node') as ArrayBuffer);
  },
  loadedFrom: (fd) => {
    loadedFd = fd;
  },
});

function loadFromSea(): Koffi {
  const hash = typeof KOFFI_HASH === 'string' ? KOFFI_HASH : 'dev';
  const beside = path.join(path.dirname(process.execPath), addonFileName(hash));
  return loadFirst(addonSources(beside, process.env, realSystem()), addonFileName(hash));
}

function loadFromPackage(): Koffi {
  // node:module is loaded here, not at the top: the binary never needs it
  // (0.3-0.4 ms of start-up). getBuiltinModule works in CJS and ESM alike.
  const { createRequire } = process.getBuiltinModule('node:module');
  const req = createRequire(typeof __filename === 'string' ? __filename : import.meta.url);
  const file = req.resolve(`@koromix/koffi-linux-${process.arch}/linux_${process.arch}/koffi.node`);
  const k = dlopen(file);
  loadedPath = file;
  return k;
}

/** Whether this is the single-executable binary (else plain node running the bundle or the sources). */
export function isSea(): boolean {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return typeof require === 'function' && (require('node:sea') as typeof import('node:sea')).isSea();
  } catch {
    return false;
  }
}

let cached: Koffi | undefined;

/**
 * The addon as loaded by another bundle of this process (the binary's early
 * spawn, src/early-main.ts, runs before main.cjs): one koffi per process, so
 * its types and the libc bindings made on it are shared, not made twice.
 */
interface SharedAddon {
  koffi: Koffi;
  fd: number | null;
  path: string | null;
}
const SHARED: unique symbol = Symbol.for('tini-ts.koffi');
const sharedSlot = globalThis as unknown as { [SHARED]?: SharedAddon };

export function loadKoffi(): Koffi {
  if (cached) return cached;
  const shared = sharedSlot[SHARED];
  if (shared) {
    ({ koffi: cached, fd: loadedFd, path: loadedPath } = shared);
    return cached;
  }
  if (inheritedFd !== null) {
    cached = dlopen(`/proc/self/fd/${inheritedFd}`);
    loadedFd = inheritedFd;
  }
  cached ??= isSea() ? loadFromSea() : loadFromPackage();
  sharedSlot[SHARED] = { koffi: cached, fd: loadedFd, path: loadedPath };
  return cached;
}
