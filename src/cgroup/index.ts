/**
 * Picks the cgroup implementation for a root directory: v2 when the root is
 * a cgroup2 mount (it has cgroup.controllers), v1 when it holds per-controller
 * hierarchies (memory/, pids/...). Also sweeps cgroups left by launchers that died.
 */
import fs from 'node:fs';
import path from 'node:path';
import { exists, readPids, rmdirRetry } from './fsutil.js';
import { LEVELS_DIR, sweepLevels } from './levels.js';
import { CGROUP_PARENT, cgroupFailure, type Cgroup, type CgroupSetup, type LinuxResources } from './types.js';
import { CgroupV1, controllersFor as v1Controllers, otherHierarchies } from './v1/index.js';
import { CgroupV2, controllersFor as v2Controllers } from './v2/index.js';

export const DEFAULT_ROOT = '/sys/fs/cgroup';

export function detectVersion(root: string): 1 | 2 | null {
  if (exists(path.join(root, 'cgroup.controllers'))) return 2;
  if (exists(path.join(root, 'memory', 'cgroup.procs')) || exists(path.join(root, 'pids', 'cgroup.procs'))) return 1;
  return null;
}

/**
 * The cgroup `<parent>/<name>` in each hierarchy under root (`parent`: relative, possibly nested; default `tini-ts`),
 * with the controllers its resources and set-up need. v2 has no devices controller (it needs eBPF programs): the
 * set-up's device rules apply on v1 only.
 */
export function openCgroup(root: string, name: string, resources: LinuxResources, setup: CgroupSetup = {}, version = detectVersion(root), parent = CGROUP_PARENT, levelsDir = LEVELS_DIR): Cgroup {
  if (version === 2) return new CgroupV2(root, name, v2Controllers(resources, setup), parent, levelsDir);
  if (version === 1) return new CgroupV1(root, name, v1Controllers(resources, setup), parent, levelsDir, setup.everyHierarchy ? otherHierarchies(root) : [], setup.devices);
  throw cgroupFailure(`no cgroup hierarchy found at ${root} (mount cgroup2 or the v1 controllers there)`);
}

/** This process's start time (field 22 of /proc/self/stat), to tell it from a later process with the same pid. */
export function startTime(pid: number | 'self'): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

/** `<pid>-<starttime>-<random>`: the owner can be checked for life later. */
export function cgroupName(pid: number, start: string | null, random: string): string {
  return `${pid}-${start ?? '0'}-${random}`;
}

export function ownerAlive(name: string, isAlive: (pid: number, start: string) => boolean): boolean {
  const m = /^([0-9]+)-([0-9]+)-/.exec(name);
  if (!m) return true; // not ours to judge
  return isAlive(Number(m[1]), m[2]);
}

export const processAlive = (pid: number, start: string): boolean => {
  const now = startTime(pid);
  return now !== null && (start === '0' || now === start);
};

/**
 * Remove the empty cgroups under <hierarchy>/<parent>/ (`tini-ts` unless
 * --cgroup-parent said otherwise) whose launcher is dead: only those named as
 * a launcher names its cgroups, and only in this parent (other parents are
 * other runs' business). Cgroups that still hold processes are left alone
 * (and returned). Then the --cgroup-parent levels that dead launchers made
 * (recorded in `levelsDir`, whatever their parent), once empty.
 */
export function sweepStale(root: string, isAlive = processAlive, parent = CGROUP_PARENT, levelsDir = LEVELS_DIR): { removed: string[]; busy: string[] } {
  const removed: string[] = [];
  const busy: string[] = [];
  const parents: string[] = [];
  const version = detectVersion(root);
  if (version === 2) parents.push(path.join(root, parent));
  else if (version === 1) {
    const seen = new Set<string>();
    for (const c of fs.readdirSync(root)) {
      let real: string;
      try {
        real = fs.realpathSync.native(path.join(root, c));
      } catch {
        continue;
      }
      if (seen.has(real)) continue;
      seen.add(real);
      parents.push(path.join(real, parent));
    }
  }
  for (const dirOfParent of parents) {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dirOfParent, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      if (!e.isDirectory() || ownerAlive(e.name, isAlive)) continue;
      const dir = path.join(dirOfParent, e.name);
      if (readPids(path.join(dir, 'cgroup.procs')).length > 0) busy.push(dir);
      else if (rmdirRetry(dir, 200)) removed.push(dir);
      else busy.push(dir);
    }
  }
  // levels still holding live cgroups are no leftover: they stay recorded, unreported
  removed.push(...sweepLevels(levelsDir, (owner) => !ownerAlive(owner, isAlive)).removed);
  return { removed, busy };
}

export type { Cgroup, CgroupSetup, LinuxResources };
