/** cgroup v2 cpuset controller: cpuset.cpus, cpuset.mems. */
import path from 'node:path';
import { writeFile } from '../fsutil.js';
import { cpusetApplies } from '../resources.js';
import type { Controller, LinuxResources } from '../types.js';

export const name = 'cpuset';

export function apply(dir: string, r: LinuxResources): void {
  if (r.cpu?.cpus !== undefined) writeFile(path.join(dir, 'cpuset.cpus'), r.cpu.cpus, 'the CPU set');
  if (r.cpu?.mems !== undefined) writeFile(path.join(dir, 'cpuset.mems'), r.cpu.mems, 'the memory node set');
}

export const controller: Controller = { name, joined: () => false, applies: cpusetApplies, apply };
