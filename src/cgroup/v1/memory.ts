/** cgroup v1 memory controller: memory.limit_in_bytes, memory.memsw.limit_in_bytes, memory.soft_limit_in_bytes; OOM and peak counters. */
import path from 'node:path';
import { exists, readKeyed, readNumber, writeFile } from '../fsutil.js';
import { cgroupFailure, type CgroupStats, type Controller, type Limits } from '../types.js';

export const name = 'memory';

export function apply(dir: string, limits: Limits): void {
  const memsw = path.join(dir, 'memory.memsw.limit_in_bytes');
  if (limits.memorySwapBytes !== undefined && !exists(memsw)) {
    throw cgroupFailure('needs swap accounting (memory.memsw.* files are missing; boot with swapaccount=1)', { field: 'memorySwapBytes' });
  }
  // memsw may never be below limit_in_bytes: raising both (an update) writes memsw first, lowering both writes it last.
  const current = readNumber(memsw);
  // No memory limit (-1) needs no memory+swap limit either (memsw may not be below it).
  if (limits.memoryBytes !== undefined && limits.memoryBytes < 0 && exists(memsw)) limits = { ...limits, memorySwapBytes: -1 };
  const swapFirst = limits.memorySwapBytes !== undefined && limits.memoryBytes !== undefined && current !== null && (limits.memoryBytes < 0 || limits.memoryBytes > current);
  const writeSwap = () => writeFile(memsw, String(limits.memorySwapBytes), 'the memory+swap limit');
  if (swapFirst) writeSwap();
  if (limits.memoryBytes !== undefined) {
    writeFile(path.join(dir, 'memory.limit_in_bytes'), String(limits.memoryBytes), 'the memory limit');
  }
  if (limits.memorySwapBytes !== undefined && !swapFirst) writeSwap();
  if (limits.memorySwappiness !== undefined) writeFile(path.join(dir, 'memory.swappiness'), String(limits.memorySwappiness), 'the swappiness');
  if (limits.memoryReservationBytes !== undefined) writeFile(path.join(dir, 'memory.soft_limit_in_bytes'), String(limits.memoryReservationBytes), 'the memory reservation');
  if (limits.oomKillDisable) writeFile(path.join(dir, 'memory.oom_control'), '1', 'disableOOMKiller');
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
