/** cgroup v1 memory controller: memory.limit_in_bytes, memory.memsw.limit_in_bytes; OOM and peak counters. */
import path from 'node:path';
import { exists, readKeyed, readNumber, writeFile } from '../fsutil.js';
import { CgroupError, type CgroupStats, type Controller, type Limits } from '../types.js';

export const name = 'memory';

export function apply(dir: string, limits: Limits): void {
  if (limits.memoryBytes !== undefined) {
    writeFile(path.join(dir, 'memory.limit_in_bytes'), String(limits.memoryBytes), 'the memory limit');
  }
  if (limits.memorySwapBytes !== undefined) {
    const file = path.join(dir, 'memory.memsw.limit_in_bytes');
    if (!exists(file)) {
      throw new CgroupError('--memory-swap needs swap accounting (memory.memsw.* files are missing; boot with swapaccount=1)');
    }
    // memsw must be written after limit_in_bytes (it may not be below it)
    writeFile(file, String(limits.memorySwapBytes), 'the memory+swap limit');
  }
  if (limits.memorySwappiness !== undefined) writeFile(path.join(dir, 'memory.swappiness'), String(limits.memorySwappiness), 'the swappiness');
}

export function stats(dir: string): Pick<CgroupStats, 'oomKills' | 'memoryLimitHits' | 'memoryPeakBytes'> {
  return {
    // `oom_kill` in memory.oom_control exists since Linux 4.13
    oomKills: readKeyed(path.join(dir, 'memory.oom_control'), 'oom_kill'),
    memoryLimitHits: readNumber(path.join(dir, 'memory.failcnt')),
    memoryPeakBytes: readNumber(path.join(dir, 'memory.max_usage_in_bytes')),
  };
}

export const controller: Controller = { name, needed: () => true, apply, stats };
