/** cgroup pids controller (v1, and v2 re-exports it: the same files): pids.max; pids.peak (newer kernels) and pids.events. */
import path from 'node:path';
import { readKeyed, readNumber, writeFile } from '../fsutil.js';
import type { CgroupStats, Controller, Limits } from '../types.js';

export const name = 'pids';

export function apply(dir: string, limits: Limits): void {
  if (limits.pids !== undefined) writeFile(path.join(dir, 'pids.max'), limits.pids < 0 ? 'max' : String(limits.pids), 'the pids limit');
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

export const controller: Controller = { name, needed: () => true, apply, stats };
