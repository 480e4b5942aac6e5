/** cgroup v2 cpu controller: cpu.max ("quota period"), cpu.weight; cpu.stat for usage. */
import path from 'node:path';
import { readKeyed, writeFile } from '../fsutil.js';
import type { CgroupStats, Controller, Limits } from '../types.js';
import { DEFAULT_PERIOD_US, quotaUs } from '../v1/cpu.js';

export const name = 'cpu';

/**
 * v1 shares (2..262144, default 1024) to v2 weight (1..10000) exactly as runc
 * converts them, integer division included: 1 + ((shares - 2) * 9999) / 262142
 * (1024 gives 39, not the kernel's default 100, as with runc).
 */
export function sharesToWeight(shares: number): number {
  return 1 + Math.floor(((shares - 2) * 9999) / 262142);
}

export function apply(dir: string, limits: Limits): void {
  if (limits.cpus !== undefined) {
    const period = limits.cpuPeriodUs ?? DEFAULT_PERIOD_US;
    writeFile(path.join(dir, 'cpu.max'), `${Number.isFinite(limits.cpus) ? quotaUs(limits.cpus, period) : 'max'} ${period}`, 'the CPU quota');
  }
  if (limits.cpuShares !== undefined) writeFile(path.join(dir, 'cpu.weight'), String(sharesToWeight(limits.cpuShares)), 'the CPU weight');
}

export function stats(dir: string): Pick<CgroupStats, 'cpuUserUs' | 'cpuSystemUs'> {
  const file = path.join(dir, 'cpu.stat');
  return { cpuUserUs: readKeyed(file, 'user_usec'), cpuSystemUs: readKeyed(file, 'system_usec') };
}

export const controller: Controller = { name, needed: () => true, apply, stats };
