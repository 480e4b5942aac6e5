/**
 * A minimal root filesystem for tests, built from Debian's busybox-static
 * (no network download): /bin/busybox plus a symlink per applet, and the
 * directories a runtime mounts over.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const BUSYBOX = '/bin/busybox';

export function busyboxAvailable(): boolean {
  try {
    return fs.statSync(BUSYBOX).isFile() && execFileSync('file', ['-b', BUSYBOX]).toString().includes('statically linked');
  } catch {
    return fs.existsSync(BUSYBOX);
  }
}

/** Creates DIR with busybox and its applets; returns DIR. */
export function makeBusyboxRootfs(dir: string): string {
  for (const d of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'root', 'var', 'run']) {
    fs.mkdirSync(path.join(dir, d), { recursive: true });
  }
  fs.chmodSync(path.join(dir, 'tmp'), 0o1777);
  fs.copyFileSync(BUSYBOX, path.join(dir, 'bin/busybox'));
  fs.chmodSync(path.join(dir, 'bin/busybox'), 0o755);
  const applets = execFileSync(BUSYBOX, ['--list']).toString().split('\n').filter(Boolean);
  for (const a of applets) {
    const link = path.join(dir, 'bin', a);
    if (a !== 'busybox' && !fs.existsSync(link)) fs.symlinkSync('busybox', link);
  }
  fs.writeFileSync(path.join(dir, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n');
  fs.writeFileSync(path.join(dir, 'etc/group'), 'root:x:0:\ntty:x:5:\nnogroup:x:65534:\n');
  // As in an image from `docker export`: the runtime's mount points exist, so runs leave the tree as it is.
  for (const f of ['hostname', 'hosts', 'resolv.conf']) fs.writeFileSync(path.join(dir, 'etc', f), '');
  return dir;
}

/**
 * The busybox root filesystem plus what BINARY (and its FFI addon beside it)
 * needs from the host to run inside (the dynamic loader, glibc, libstdc++):
 * an image where tini-ts runs as docker-init or an ENTRYPOINT. Taken from
 * `ldd`, each library copied (links resolved) to the path ldd names.
 */
export function makeGlibcRootfs(dir: string, binary: string): string {
  makeBusyboxRootfs(dir);
  const objects = [binary, ...fs.readdirSync(path.dirname(binary)).filter((n) => n.endsWith('.node')).map((n) => path.join(path.dirname(binary), n))];
  const libs = new Set<string>();
  for (const o of objects) {
    for (const line of execFileSync('ldd', [o]).toString().split('\n')) {
      const m = /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line);
      if (m) libs.add(m[1]);
    }
  }
  for (const lib of libs) {
    const dest = path.join(dir, lib);
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.copyFileSync(fs.realpathSync(lib), dest);
    fs.chmodSync(dest, 0o755);
  }
  return dir;
}
