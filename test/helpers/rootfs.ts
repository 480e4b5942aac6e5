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
