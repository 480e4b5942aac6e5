/** cgroup v2 cpu controller: cpu.max ("quota period"), cpu.weight; cpu.stat for usage. */
import path from 'node:path';
import { readKeyed, writeFile } from '../fsutil.js';
import type { CgroupStats, Controller, LinuxResources } from '../types.js';
import { bandwidth, cpuApplies } from '../resources.js';

export const name = 'cpu';

/**
 * v1 shares (2..262144, default 1024) to v2 weight (1..10000) exactly as runc
 * converts them, integer division included: 1 + ((shares - 2) * 9999) / 262142
 * (1024 gives 39, not the kernel's default 100, as with runc).
 */
export function sharesToWeight(shares: number): number {
  return 1 + Math.floor(((shares - 2) * 9999) / 262142);
}

export function apply(dir: string, r: LinuxResources): void {
  const bw = bandwidth(r);
  if (bw) writeFile(path.join(dir, 'cpu.max'), `${bw.quota ?? 'max'} ${bw.period}`, 'the CPU quota');
  if (r.cpu?.shares !== undefined) writeFile(path.join(dir, 'cpu.weight'), String(sharesToWeight(r.cpu.shares)), 'the CPU weight');
}

export function stats(dir: string): Pick<CgroupStats, 'cpuUserUs' | 'cpuSystemUs'> {
  const file = path.join(dir, 'cpu.stat');
  return { cpuUserUs: readKeyed(file, 'user_usec'), cpuSystemUs: readKeyed(file, 'system_usec') };
}

export const controller: Controller = { name, joined: () => true, applies: cpuApplies, apply, stats };
