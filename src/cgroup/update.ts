/**
 * New limits for an existing cgroup (OCI `update`): each controller of the
 * version's list that the resources concern writes into the container's
 * directory of its hierarchy. Every directory is found before anything is
 * written, so a container without (say) a cpuset cgroup changes nothing.
 */
import fs from 'node:fs';
import path from 'node:path';
import { CONTROLLERS as V1 } from './v1/index.js';
import { CONTROLLERS as V2 } from './v2/index.js';
import { RunFailure, failed, type Outcome } from '../libc/error.js';
import { ok } from '../libc/types.js';
import type { Controller, LinuxResources } from './types.js';

/** Done, or what could not be changed (a value's error names its field under the resources). Device rules are set at creation only. */
export function updateCgroup(root: string, version: 1 | 2, dirs: readonly string[], resources: LinuxResources): Outcome<void> {
  const r: LinuxResources = { ...resources, devices: undefined };
  const wanted = (version === 1 ? V1 : V2).filter((c) => c.apply && c.applies(r));
  const plan: { c: Controller; dir: string }[] = [];
  for (const c of wanted) {
    const dir = version === 2 ? dirs[0] : dirs.find((d) => d.startsWith(hierarchy(root, c.name) + '/'));
    if (dir === undefined || !fs.existsSync(dir)) return failed(`the container has no ${c.name} cgroup (it was created without that controller)`);
    plan.push({ c, dir });
  }
  try {
    for (const p of plan) p.c.apply!(p.dir, r);
  } catch (e) {
    if (e instanceof RunFailure) return { ok: false, error: e.error };
    throw e;
  }
  return ok(undefined);
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
