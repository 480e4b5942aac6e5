/**
 * Linux capabilities by name, Docker's default set, and --cap-add/--cap-drop
 * resolution. Pure: the numbers are the kernel's (include/uapi/linux/capability.h).
 */

export const CAPABILITIES: readonly string[] = [
  'CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID',
  'SETPCAP', 'LINUX_IMMUTABLE', 'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW',
  'IPC_LOCK', 'IPC_OWNER', 'SYS_MODULE', 'SYS_RAWIO', 'SYS_CHROOT', 'SYS_PTRACE', 'SYS_PACCT',
  'SYS_ADMIN', 'SYS_BOOT', 'SYS_NICE', 'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'MKNOD',
  'LEASE', 'AUDIT_WRITE', 'AUDIT_CONTROL', 'SETFCAP', 'MAC_OVERRIDE', 'MAC_ADMIN', 'SYSLOG',
  'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ', 'PERFMON', 'BPF', 'CHECKPOINT_RESTORE',
];

export const CAP_LAST = CAPABILITIES.length - 1;

/** The 14 capabilities `docker run` keeps by default (moby oci/caps/defaults.go). */
export const DOCKER_DEFAULT_CAPS: readonly string[] = [
  'CHOWN', 'DAC_OVERRIDE', 'FSETID', 'FOWNER', 'MKNOD', 'NET_RAW', 'SETGID', 'SETUID',
  'SETFCAP', 'SETPCAP', 'NET_BIND_SERVICE', 'SYS_CHROOT', 'KILL', 'AUDIT_WRITE',
];

/** `net_admin`, `CAP_NET_ADMIN` -> `NET_ADMIN`; undefined if unknown. `ALL` is kept. */
export function normalizeCapability(name: string): string | undefined {
  const n = name.trim().toUpperCase().replace(/^CAP_/, '');
  if (n === 'ALL') return n;
  return CAPABILITIES.includes(n) ? n : undefined;
}

export function capabilityNumber(name: string): number {
  const i = CAPABILITIES.indexOf(name);
  if (i < 0) throw new Error(`unknown capability ${name}`);
  return i;
}

export type CapResult = { ok: true; caps: string[] } | { ok: false; error: string };

/**
 * Docker's rule: start from the defaults, drop (ALL clears), then add (ALL
 * adds every one). Adds win over drops, as in moby's TweakCapabilities.
 */
export function resolveCapabilities(add: readonly string[], drop: readonly string[], base: readonly string[] = DOCKER_DEFAULT_CAPS): CapResult {
  const norm = (list: readonly string[], flag: string): string[] | string => {
    const out: string[] = [];
    for (const raw of list) {
      const n = normalizeCapability(raw);
      if (!n) return `${flag}: unknown capability '${raw}'`;
      out.push(n);
    }
    return out;
  };
  const a = norm(add, '--cap-add');
  if (typeof a === 'string') return { ok: false, error: a };
  const d = norm(drop, '--cap-drop');
  if (typeof d === 'string') return { ok: false, error: d };
  let caps = new Set(base);
  if (d.includes('ALL')) caps = new Set();
  for (const c of d) caps.delete(c);
  if (a.includes('ALL')) caps = new Set(CAPABILITIES);
  for (const c of a) if (c !== 'ALL') caps.add(c);
  return { ok: true, caps: CAPABILITIES.filter((c) => caps.has(c)) };
}

/** The 64-bit mask of a capability set, as /proc/PID/status shows CapEff. */
export function capabilityMask(caps: readonly string[]): bigint {
  let m = 0n;
  for (const c of caps) m |= 1n << BigInt(capabilityNumber(c));
  return m;
}

/** The two 32-bit words of a capability set, for capset(2)'s version-3 data. */
export function capabilityWords(caps: readonly string[]): [number, number] {
  const m = capabilityMask(caps);
  return [Number(m & 0xffffffffn), Number(m >> 32n)];
}
