/** cgroup v2 cpuset controller: cpuset.cpus. */
import path from 'node:path';
import { writeFile } from '../fsutil.js';
import type { Controller, Limits } from '../types.js';

export const name = 'cpuset';

export function apply(dir: string, limits: Limits): void {
  if (limits.cpusetCpus !== undefined) writeFile(path.join(dir, 'cpuset.cpus'), limits.cpusetCpus, 'the CPU set');
}

export const controller: Controller = { name, needed: (l) => l.cpusetCpus !== undefined, apply };
