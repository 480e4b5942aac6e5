/**
 * Loads koffi's native addon directly, without koffi's JS wrapper.
 *
 * Why not `import koffi from 'koffi'`: the wrapper's esbuild interop enumerates
 * `node:util`, which creates `process.stderr` and flips the shared stdio file
 * descriptions to O_NONBLOCK under the child (see shared/research/sea-koffi.md).
 *
 * Inside the single-executable binary the addon is an SEA asset. It is loaded
 * from, in order:
 *   1. `tini-ts-koffi-<hash>.node` next to the binary (read-only / noexec deployments);
 *   2. an unnamed O_TMPFILE copy in $TMPDIR, /tmp, $XDG_RUNTIME_DIR or /dev/shm,
 *      dlopen'ed through /proc/self/fd (nothing is left on disk, nothing to pre-plant);
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


function dlopen(file: string): Koffi {
  const mod = { exports: {} as Koffi };
  process.dlopen(mod, file);
  return mod.exports;
}

export function addonFileName(hash: string): string {
  return `tini-ts-koffi-${hash}.node`;
}

/** A descriptor of the file the addon was loaded from, kept open for useAddonFd in a re-executed init. */
let loadedFd: number | null = null;
let loadedPath: string | null = null;
let inheritedFd: number | null = null;

/** Load the addon from this (inherited) descriptor rather than from a file. */
export function useAddonFd(fd: number): void {
  inheritedFd = fd;
}

/** The descriptor of the loaded addon (opened on demand, close-on-exec), to hand to a re-executed init. */
export function addonFd(): number {
  loadKoffi();
  if (loadedFd === null && loadedPath !== null) loadedFd = fs.openSync(loadedPath, 'r');
  if (loadedFd === null) throw new Error('the FFI addon was loaded from no file');
  return loadedFd;
}

function dlopenFile(file: string): Koffi {
  const k = dlopen(file);
  loadedPath = file;
  return k;
}

function loadFromSea(): Koffi {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const sea = require('node:sea') as typeof import('node:sea');
  const hash = typeof KOFFI_HASH === 'string' ? KOFFI_HASH : 'dev';
  const attempts: string[] = [];
  const beside = path.join(path.dirname(process.execPath), addonFileName(hash));
  if (fs.existsSync(beside)) {
    try {
      return dlopenFile(beside);
    } catch (e) {
      attempts.push(`${beside}: ${(e as Error).message}`);
    }
  }
  const env = process.env;
  const dirs = [env.TMPDIR, '/tmp', env.XDG_RUNTIME_DIR, '/dev/shm'].filter(
    (d, i, all): d is string => !!d && all.indexOf(d) === i,
  );
  let bytes: Uint8Array | undefined;
  for (const dir of dirs) {
    let fd = -1;
    try {
      fd = fs.openSync(dir, O.TMPFILE | O.RDWR, 0o700);
      bytes ??= new Uint8Array(sea.getRawAsset('koffi.node') as ArrayBuffer);
      fs.writeSync(fd, bytes);
      // The fd stays open (CLOEXEC, as Node opens every file) so the mapping's file lives on.
      const k = dlopen(`/proc/self/fd/${fd}`);
      loadedFd = fd;
      return k;
    } catch (e) {
      if (fd >= 0) fs.closeSync(fd);
      attempts.push(`${dir}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  if (!fs.existsSync(beside)) attempts.unshift(`${beside}: not present`);
  throw new Error(
    `cannot load the FFI addon (koffi.node); tried ${attempts.join('; ')}. ` +
      `Ship ${addonFileName(hash)} next to the binary for read-only or noexec filesystems.`,
  );
}

function loadFromPackage(): Koffi {
  // node:module is loaded here, not at the top: the binary never needs it
  // (0.3-0.4 ms of start-up). getBuiltinModule works in CJS and ESM alike.
  const { createRequire } = process.getBuiltinModule('node:module');
  const req = createRequire(typeof __filename === 'string' ? __filename : import.meta.url);
  return dlopenFile(req.resolve('@koromix/koffi-linux-x64/linux_x64/koffi.node'));
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

export function loadKoffi(): Koffi {
  if (!cached && inheritedFd !== null) {
    cached = dlopen(`/proc/self/fd/${inheritedFd}`);
    loadedFd = inheritedFd;
  }
  cached ??= isSea() ? loadFromSea() : loadFromPackage();
  return cached;
}
