/**
 * New limits for an existing cgroup (OCI `update`): each controller of the
 * version's list that the limits concern writes into the container's
 * directory of its hierarchy. Every directory is found before anything is
 * written, so a container without (say) a cpuset cgroup changes nothing.
 */
import fs from 'node:fs';
import path from 'node:path';
import { CONTROLLERS as V1 } from './v1/index.js';
import { CONTROLLERS as V2 } from './v2/index.js';
import { CgroupError, type Limits } from './types.js';

/** Returns null, or one line saying what could not be changed. */
export function updateCgroup(root: string, version: 1 | 2, dirs: readonly string[], limits: Limits): string | null {
  const wanted = (version === 1 ? V1 : V2).filter((c) => c.apply && c.needed(limits) && c.name !== 'devices' && c.name !== 'freezer');
  const plan: { apply: (dir: string, l: Limits) => void; dir: string }[] = [];
  for (const c of wanted) {
    const dir = version === 2 ? dirs[0] : dirs.find((d) => d.startsWith(hierarchy(root, c.name) + '/'));
    if (dir === undefined || !fs.existsSync(dir)) return `the container has no ${c.name} cgroup (it was created without that controller)`;
    plan.push({ apply: c.apply!, dir });
  }
  try {
    for (const p of plan) p.apply(p.dir, limits);
  } catch (e) {
    if (e instanceof CgroupError) return e.message;
    throw e;
  }
  return null;
}

/** A v1 hierarchy's mount (cpu is a link to cpu,cpuacct where they are mounted together). */
function hierarchy(root: string, controller: string): string {
  const p = path.join(root, controller);
  try {
    return fs.realpathSync(p);
  } catch {
    return p;
  }
}
