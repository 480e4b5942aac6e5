/** cgroup v2 cpuset controller: cpuset.cpus, cpuset.mems. */
import path from 'node:path';
import { writeFile } from '../fsutil.js';
import type { Controller, Limits } from '../types.js';

export const name = 'cpuset';

export function apply(dir: string, limits: Limits): void {
  if (limits.cpusetCpus !== undefined) writeFile(path.join(dir, 'cpuset.cpus'), limits.cpusetCpus, 'the CPU set');
  if (limits.cpusetMems !== undefined) writeFile(path.join(dir, 'cpuset.mems'), limits.cpusetMems, 'the memory node set');
}

export const controller: Controller = { name, needed: (l) => l.cpusetCpus !== undefined || l.cpusetMems !== undefined, apply };
