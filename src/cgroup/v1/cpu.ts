/** cgroup v1 cpu controller: CFS bandwidth (cpu.cfs_quota_us / cpu.cfs_period_us) and cpu.shares. */
import path from 'node:path';
import { writeFile } from '../fsutil.js';
import type { Controller, LinuxResources } from '../types.js';

export const name = 'cpu';

export const DEFAULT_PERIOD_US = 100_000;

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

/** cpu.shares or a quota: what the cpu controller writes (v1 and v2). */
export const cpuApplies = (r: LinuxResources): boolean => r.cpu?.shares !== undefined || bandwidth(r) !== null;

export function apply(dir: string, r: LinuxResources): void {
  const bw = bandwidth(r);
  if (bw) {
    writeFile(path.join(dir, 'cpu.cfs_period_us'), String(bw.period), 'the CPU period');
    writeFile(path.join(dir, 'cpu.cfs_quota_us'), bw.quota === null ? '-1' : String(bw.quota), 'the CPU quota');
  }
  if (r.cpu?.shares !== undefined) writeFile(path.join(dir, 'cpu.shares'), String(r.cpu.shares), 'the CPU shares');
}

export const controller: Controller = { name, joined: () => true, applies: cpuApplies, apply };
