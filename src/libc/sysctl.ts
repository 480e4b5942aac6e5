/**
 * Kernel parameters a container may set: only those the kernel keeps per
 * namespace (as runc allows them), so that nothing written for a container
 * changes the host: the IPC ones with a new ipc namespace, net.* with a new
 * network namespace, kernel.domainname with a new uts namespace. Pure.
 */
const IPC = new Set(['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced']);

/** Why KEY cannot be set for this container, or null. */
export function sysctlProblem(key: string, ns: { ipc: boolean; net: boolean; uts?: boolean }): string | null {
  if (!/^[a-z0-9_]+(\.[A-Za-z0-9_-]+)+$/.test(key)) return `'${key}' is not a sysctl name (like net.ipv4.ip_forward)`;
  if (IPC.has(key) || key.startsWith('fs.mqueue.')) return ns.ipc ? null : `${key} needs a new ipc namespace (it would change the host's)`;
  if (key.startsWith('net.')) return ns.net ? null : `${key} needs a new network namespace (it would change the host's)`;
  // The uts namespace's (Docker's --domainname); the host name has a field of its own, as runc says.
  if (key === 'kernel.domainname' && ns.uts) return null;
  if (key === 'kernel.hostname' && ns.uts) return 'kernel.hostname is not allowed: it conflicts with the hostname field (--hostname)';
  return `${key} is not namespaced: setting it would change the host (only kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*, net.* and kernel.domainname are allowed)`;
}

/** /proc/sys/KEY with dots as slashes (a slash in a net.* key component stays a dot, e.g. an interface name). */
export function sysctlFile(key: string): string {
  return `/proc/sys/${key.split('.').join('/')}`;
}
