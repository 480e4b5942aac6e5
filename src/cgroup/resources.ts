/**
 * What a LinuxResources asks of each controller, whatever the cgroup
 * version: the controllers of both lists decide from these whether the
 * resources concern them, and read the CPU bandwidth the same way.
 */
import { THROTTLE_LISTS, type LinuxResources } from './types.js';

/** docker's and the kernel's default CFS period. */
export const DEFAULT_PERIOD_US = 100_000;

/** Anything of memory's (v2 takes the same fields; it refuses swappiness). */
export const memoryApplies = (r: LinuxResources): boolean => Object.values(r.memory ?? {}).some((v) => v !== undefined && v !== false);

/** pids.limit, but 0: "not set", as runc reads it. */
export const pidsApplies = (r: LinuxResources): boolean => (r.pids?.limit ?? 0) !== 0;

/**
 * The CFS bandwidth cpu.quota and cpu.period ask for: null when no quota is
 * given (0 is "not set", as runc reads it; a period alone changes nothing),
 * quota null for none (-1). The kernel's minimum quota is 1 ms.
 */
export function bandwidth(r: LinuxResources): { quota: number | null; period: number } | null {
  const quota = r.cpu?.quota;
  if (quota === undefined || quota === 0) return null;
  return { quota: quota < 0 ? null : Math.max(1000, quota), period: r.cpu?.period ?? DEFAULT_PERIOD_US };
}

/** cpu.shares or a quota. */
export const cpuApplies = (r: LinuxResources): boolean => r.cpu?.shares !== undefined || bandwidth(r) !== null;

/** cpu.cpus or cpu.mems. */
export const cpusetApplies = (r: LinuxResources): boolean => r.cpu?.cpus !== undefined || r.cpu?.mems !== undefined;

/** A block I/O weight or any throttle (v1 blkio, v2 io). */
export const blockIOApplies = (r: LinuxResources): boolean => r.blockIO?.weight !== undefined || THROTTLE_LISTS.some((l) => (r.blockIO?.[l] ?? []).length > 0);
