/**
 * `features`: the runtime-spec features document, saying what tini-ts
 * honours (not what it merely parses): no user or time namespaces, no
 * systemd cgroups, no AppArmor or SELinux, and linux.seccomp is not enforced
 * as written (tini-ts's own default filter is applied in its place).
 */
import { CAPABILITIES } from '../../libc/capabilities.js';
import { writeStdout } from '../../log/log.js';
import { MOUNT_FLAG_OPTIONS } from '../../runtime/rootfs/plan.js';
import { HOOK_KINDS } from '../../runtime/oci/hooks.js';
import { OCI_VERSION } from '../../container/store.js';
import { VERSION } from '../../texts.js';
import type { OciContext } from './context.js';

export function featuresDocument(): Record<string, unknown> {
  return {
    ociVersionMin: '1.0.0',
    ociVersionMax: OCI_VERSION,
    hooks: [...HOOK_KINDS],
    mountOptions: [...MOUNT_FLAG_OPTIONS],
    linux: {
      namespaces: ['cgroup', 'ipc', 'mount', 'network', 'pid', 'uts'],
      capabilities: CAPABILITIES.map((c) => `CAP_${c}`),
      cgroup: { v1: true, v2: true, systemd: false, systemdUser: false },
      seccomp: { enabled: false },
      apparmor: { enabled: false },
      selinux: { enabled: false },
    },
    annotations: { 'io.github.tini-ts.version': VERSION },
  };
}

export function features(ctx: OciContext): void {
  writeStdout(JSON.stringify(featuresDocument(), null, '    ') + '\n');
  ctx.exit(0);
}
