/** cgroup v1 cpu controller: CFS bandwidth (cpu.cfs_quota_us / cpu.cfs_period_us) and cpu.shares. */
import path from 'node:path';
import { writeFile } from '../fsutil.js';
import { bandwidth, cpuApplies } from '../resources.js';
import type { Controller, LinuxResources } from '../types.js';

export const name = 'cpu';

export function apply(dir: string, r: LinuxResources): void {
  const bw = bandwidth(r);
  if (bw) {
    writeFile(path.join(dir, 'cpu.cfs_period_us'), String(bw.period), 'the CPU period');
    writeFile(path.join(dir, 'cpu.cfs_quota_us'), bw.quota === null ? '-1' : String(bw.quota), 'the CPU quota');
  }
  if (r.cpu?.shares !== undefined) writeFile(path.join(dir, 'cpu.shares'), String(r.cpu.shares), 'the CPU shares');
}

export const controller: Controller = { name, joined: () => true, applies: cpuApplies, apply };
