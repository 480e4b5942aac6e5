/** cgroup pids controller (v1, and v2 re-exports it: the same files): pids.max; pids.peak (newer kernels) and pids.events. */
import path from 'node:path';
import { readKeyed, readNumber, writeFile } from '../fsutil.js';
import { pidsApplies } from '../resources.js';
import type { CgroupStats, Controller, LinuxResources } from '../types.js';

export const name = 'pids';

/** pids.limit: tasks; -1 (any negative) removes the limit; 0 means "not set", as runc reads it. */
export function apply(dir: string, r: LinuxResources): void {
  const limit = r.pids?.limit;
  if (limit !== undefined && limit !== 0) writeFile(path.join(dir, 'pids.max'), limit < 0 ? 'max' : String(limit), 'the pids limit');
}

export function current(dir: string): number | null {
  return readNumber(path.join(dir, 'pids.current'));
}

export function stats(dir: string): Pick<CgroupStats, 'pidsPeak' | 'pidsLimitHits'> {
  return {
    pidsPeak: readNumber(path.join(dir, 'pids.peak')),
    pidsLimitHits: readKeyed(path.join(dir, 'pids.events'), 'max'),
  };
}

export const controller: Controller = { name, joined: () => true, applies: pidsApplies, apply, stats };
