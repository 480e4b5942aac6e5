/** cgroup v2 memory controller: memory.max, memory.swap.max, memory.low; memory.events and memory.peak. */
import path from 'node:path';
import { exists, readKeyed, readNumber, writeFile } from '../fsutil.js';
import { cgroupFailure, type CgroupStats, type Controller, type Limits } from '../types.js';

export const name = 'memory';

export function apply(dir: string, limits: Limits): void {
  if (limits.memoryBytes !== undefined) writeFile(path.join(dir, 'memory.max'), limits.memoryBytes < 0 ? 'max' : String(limits.memoryBytes), 'the memory limit');
  if (limits.memorySwapBytes !== undefined) {
    const file = path.join(dir, 'memory.swap.max');
    if (!exists(file)) throw cgroupFailure('needs swap accounting (memory.swap.max is missing)', { field: 'memorySwapBytes' });
    // docker's --memory-swap is memory plus swap; v2 limits the swap alone
    const swap = limits.memorySwapBytes < 0 || (limits.memoryBytes ?? 0) < 0 ? 'max' : String(Math.max(0, limits.memorySwapBytes - (limits.memoryBytes ?? 0)));
    writeFile(file, swap, 'the swap limit');
  }
  // A reservation protects that much from reclaim; -1 (none) protects nothing.
  if (limits.memoryReservationBytes !== undefined) writeFile(path.join(dir, 'memory.low'), String(Math.max(0, limits.memoryReservationBytes)), 'the memory reservation');
  // Refused rather than ignored: the workload would not get what it asked for.
  if (limits.memorySwappiness !== undefined) throw cgroupFailure('cgroup v2 has no per-cgroup swappiness (only v1 has memory.swappiness)', { field: 'memorySwappiness' });
}

export function stats(dir: string): Pick<CgroupStats, 'oomKills' | 'memoryLimitHits' | 'memoryPeakBytes'> {
  const events = path.join(dir, 'memory.events');
  return {
    oomKills: readKeyed(events, 'oom_kill'),
    memoryLimitHits: readKeyed(events, 'max'),
    memoryPeakBytes: readNumber(path.join(dir, 'memory.peak')), // Linux >= 5.19
  };
}

export const controller: Controller = { name, needed: () => true, apply, stats };
