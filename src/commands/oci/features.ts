/**
 * `features`: the runtime-spec features document, saying what tini-ts
 * honours (not what it merely parses): no user or time namespaces, no
 * systemd cgroups, no AppArmor or SELinux; linux.seccomp is compiled as
 * written for the architectures and with the actions listed.
 */
import { CAPABILITIES } from '../../libc/capabilities.js';
import { writeStdout } from '../../log/log.js';
import { MOUNT_FLAG_OPTIONS } from '../../runtime/rootfs/plan.js';
import { HOOK_KINDS } from '../../runtime/oci/hooks.js';
import { FLAGS, OPS } from '../../runtime/hardening/oci-seccomp.js';
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
      seccomp: {
        enabled: true,
        // SCMP_ACT_NOTIFY (a seccomp agent) is refused.
        actions: ['SCMP_ACT_ALLOW', 'SCMP_ACT_ERRNO', 'SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_LOG', 'SCMP_ACT_TRACE', 'SCMP_ACT_TRAP'],
        operators: [...OPS].sort(),
        // The kernel's view from an x86_64 or aarch64 host; other architectures are named in a warning.
        archs: ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_X32', 'SCMP_ARCH_X86', 'SCMP_ARCH_X86_64'],
        knownFlags: ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_NEW_LISTENER', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'],
        supportedFlags: Object.keys(FLAGS).sort(),
      },
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
