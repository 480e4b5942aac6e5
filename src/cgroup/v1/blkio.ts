/**
 * cgroup v1 blkio controller: a weight (blkio.weight with CFQ, blkio.bfq.weight
 * with BFQ; neither exists under other I/O schedulers) and throttles per
 * device (blkio.throttle.{read,write}_{bps,iops}_device, "MAJOR:MINOR RATE",
 * one line per write).
 */
import path from 'node:path';
import { exists, writeFile } from '../fsutil.js';
import { cgroupFailure, type Controller, type Limits, type Throttle } from '../types.js';

export const name = 'blkio';

export const THROTTLE_FILES: Record<Throttle['kind'], string> = {
  readBps: 'blkio.throttle.read_bps_device',
  writeBps: 'blkio.throttle.write_bps_device',
  readIops: 'blkio.throttle.read_iops_device',
  writeIops: 'blkio.throttle.write_iops_device',
};

export function apply(dir: string, limits: Limits): void {
  if (limits.blkioWeight !== undefined) {
    const file = ['blkio.weight', 'blkio.bfq.weight'].map((f) => path.join(dir, f)).find(exists);
    if (!file) throw cgroupFailure('needs the CFQ or BFQ I/O scheduler (no blkio.weight or blkio.bfq.weight here); throttles work with any', { field: 'blkioWeight' });
    writeFile(file, String(limits.blkioWeight), 'the block I/O weight');
  }
  for (const t of limits.blkioThrottle ?? []) {
    writeFile(path.join(dir, THROTTLE_FILES[t.kind]), `${t.major}:${t.minor} ${t.rate}`, `the block I/O throttle of ${t.major}:${t.minor}`);
  }
}

export const controller: Controller = {
  name,
  needed: (l) => l.everyController === true || l.blkioWeight !== undefined || (l.blkioThrottle ?? []).length > 0,
  apply,
};
