/** cgroup v1 memory controller: memory.limit_in_bytes, memory.memsw.limit_in_bytes, memory.soft_limit_in_bytes; OOM and peak counters. */
import path from 'node:path';
import { exists, readKeyed, readNumber, writeFile } from '../fsutil.js';
import { memoryApplies } from '../resources.js';
import { cgroupFailure, type CgroupStats, type Controller, type LinuxResources } from '../types.js';

export const name = 'memory';

export function apply(dir: string, r: LinuxResources): void {
  const m = r.memory ?? {};
  const memsw = path.join(dir, 'memory.memsw.limit_in_bytes');
  if (m.swap !== undefined && !exists(memsw)) {
    throw cgroupFailure('needs swap accounting (memory.memsw.* files are missing; boot with swapaccount=1)', { field: 'memory.swap' });
  }
  // memsw may never be below limit_in_bytes: raising both (an update) writes memsw first, lowering both writes it last.
  const current = readNumber(memsw);
  // No memory limit (-1) needs no memory+swap limit either (memsw may not be below it).
  const swap = m.limit !== undefined && m.limit < 0 && exists(memsw) ? -1 : m.swap;
  const swapFirst = swap !== undefined && m.limit !== undefined && current !== null && (m.limit < 0 || m.limit > current);
  const writeSwap = () => writeFile(memsw, String(swap), 'the memory+swap limit');
  if (swapFirst) writeSwap();
  if (m.limit !== undefined) writeFile(path.join(dir, 'memory.limit_in_bytes'), String(m.limit), 'the memory limit');
  if (swap !== undefined && !swapFirst) writeSwap();
  if (m.swappiness !== undefined) writeFile(path.join(dir, 'memory.swappiness'), String(m.swappiness), 'the swappiness');
  if (m.reservation !== undefined) writeFile(path.join(dir, 'memory.soft_limit_in_bytes'), String(m.reservation), 'the memory reservation');
  if (m.disableOOMKiller) writeFile(path.join(dir, 'memory.oom_control'), '1', 'disableOOMKiller');
}

export function stats(dir: string): Pick<CgroupStats, 'oomKills' | 'memoryLimitHits' | 'memoryPeakBytes'> {
  return {
    // `oom_kill` in memory.oom_control exists since Linux 4.13
    oomKills: readKeyed(path.join(dir, 'memory.oom_control'), 'oom_kill'),
    memoryLimitHits: readNumber(path.join(dir, 'memory.failcnt')),
    memoryPeakBytes: readNumber(path.join(dir, 'memory.max_usage_in_bytes')),
  };
}

export const controller: Controller = { name, joined: () => true, applies: memoryApplies, apply, stats };
