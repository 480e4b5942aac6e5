/** cgroup v2 memory controller: memory.max, memory.swap.max, memory.low; memory.events and memory.peak. */
import path from 'node:path';
import { exists, readKeyed, readNumber, writeFile } from '../fsutil.js';
import { cgroupFailure, type CgroupStats, type Controller, type LinuxResources } from '../types.js';
import { memoryApplies } from '../resources.js';

export const name = 'memory';

export function apply(dir: string, r: LinuxResources): void {
  const m = r.memory ?? {};
  if (m.limit !== undefined) writeFile(path.join(dir, 'memory.max'), m.limit < 0 ? 'max' : String(m.limit), 'the memory limit');
  if (m.swap !== undefined) {
    const file = path.join(dir, 'memory.swap.max');
    if (!exists(file)) throw cgroupFailure('needs swap accounting (memory.swap.max is missing)', { field: 'memory.swap' });
    // OCI's (and docker's) swap is memory plus swap; v2 limits the swap alone
    const swap = m.swap < 0 || (m.limit ?? 0) < 0 ? 'max' : String(Math.max(0, m.swap - (m.limit ?? 0)));
    writeFile(file, swap, 'the swap limit');
  }
  // A reservation protects that much from reclaim; -1 (none) protects nothing.
  if (m.reservation !== undefined) writeFile(path.join(dir, 'memory.low'), String(Math.max(0, m.reservation)), 'the memory reservation');
  // Refused rather than ignored: the workload would not get what it asked for.
  if (m.swappiness !== undefined) throw cgroupFailure('cgroup v2 has no per-cgroup swappiness (only v1 has memory.swappiness)', { field: 'memory.swappiness' });
}

export function stats(dir: string): Pick<CgroupStats, 'oomKills' | 'memoryLimitHits' | 'memoryPeakBytes'> {
  const events = path.join(dir, 'memory.events');
  return {
    oomKills: readKeyed(events, 'oom_kill'),
    memoryLimitHits: readKeyed(events, 'max'),
    memoryPeakBytes: readNumber(path.join(dir, 'memory.peak')), // Linux >= 5.19
  };
}

export const controller: Controller = { name, joined: () => true, applies: memoryApplies, apply, stats };
