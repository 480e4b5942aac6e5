/** cgroup v2 cpuset controller: cpuset.cpus, cpuset.mems (the same files as v1's, so the same code). */
import type { Controller } from '../types.js';
import { apply, cpusetApplies } from '../v1/cpuset.js';

export const name = 'cpuset';

export { apply };

export const controller: Controller = { name, joined: () => false, applies: cpusetApplies, apply };
