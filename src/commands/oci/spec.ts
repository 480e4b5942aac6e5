/**
 * `spec [--bundle DIR] [--rootless]`: writes runc's default config.json (the
 * same content `runc spec` writes, so a bundle made with either runs on both)
 * and never overwrites one. The rootless form is written as runc writes it,
 * with a warning: tini-ts has no user namespaces to run it with.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { OciCommand } from '../../cli/oci-args.js';
import { OCI_VERSION } from '../../container/store.js';
import type { OciContext } from './context.js';

const CAPS = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];

export function defaultSpec(rootless: boolean): Record<string, unknown> {
  const sys = rootless
    ? { destination: '/sys', type: 'none', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] }
    : { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] };
  const namespaces = ['pid', ...(rootless ? [] : ['network']), 'ipc', 'uts', 'mount', ...(rootless ? ['user'] : [])].map((type) => ({ type }));
  const idMap = [{ containerID: 0, hostID: 0, size: 1 }];
  return {
    ociVersion: OCI_VERSION,
    process: {
      terminal: true,
      user: { uid: 0, gid: 0 },
      args: ['sh'],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: '/',
      capabilities: { bounding: CAPS, effective: CAPS, permitted: CAPS, ambient: CAPS },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'runc',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', ...(rootless ? [] : ['gid=5'])] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      sys,
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
    ],
    linux: {
      ...(rootless ? { uidMappings: idMap, gidMappings: idMap } : { resources: { devices: [{ allow: false, access: 'rwm' }] } }),
      namespaces,
      maskedPaths: ['/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/sys/firmware', '/proc/scsi'],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
}

export function spec(cmd: Extract<OciCommand, { verb: 'spec' }>, ctx: OciContext): void {
  const file = path.join(path.resolve(cmd.bundle ?? '.'), 'config.json');
  try {
    // O_EXCL: an existing config.json is never replaced, even one made meanwhile.
    fs.writeFileSync(file, JSON.stringify(defaultSpec(cmd.rootless), null, '\t'), { flag: 'wx', mode: 0o666 });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return ctx.fail(code === 'EEXIST' ? 'File config.json exists. Remove it first' : `spec: cannot write ${file}: ${code}`);
  }
  if (cmd.rootless) ctx.log('warning', 'spec --rootless: written as runc writes it, but tini-ts cannot run it (user namespaces are not supported)');
  ctx.exit(0);
}
