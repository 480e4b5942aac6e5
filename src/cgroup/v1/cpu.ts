/** cgroup v1 cpu controller: CFS bandwidth (cpu.cfs_quota_us / cpu.cfs_period_us) and cpu.shares. */
import path from 'node:path';
import { writeFile } from '../fsutil.js';
import type { Controller, Limits } from '../types.js';

export const name = 'cpu';

export const DEFAULT_PERIOD_US = 100_000;

export function quotaUs(cpus: number, periodUs: number): number {
  // the kernel's minimum quota is 1 ms
  return Math.max(1000, Math.round(cpus * periodUs));
}

export function apply(dir: string, limits: Limits): void {
  if (limits.cpus !== undefined) {
    const period = limits.cpuPeriodUs ?? DEFAULT_PERIOD_US;
    writeFile(path.join(dir, 'cpu.cfs_period_us'), String(period), 'the CPU period');
    writeFile(path.join(dir, 'cpu.cfs_quota_us'), Number.isFinite(limits.cpus) ? String(quotaUs(limits.cpus, period)) : '-1', 'the CPU quota');
  }
  if (limits.cpuShares !== undefined) writeFile(path.join(dir, 'cpu.shares'), String(limits.cpuShares), 'the CPU shares');
}

export const controller: Controller = { name, needed: () => true, apply };
