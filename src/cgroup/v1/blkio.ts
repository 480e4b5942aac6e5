/**
 * cgroup v1 blkio controller: a weight (blkio.weight with CFQ, blkio.bfq.weight
 * with BFQ; neither exists under other I/O schedulers) and throttles per
 * device (blkio.throttle.{read,write}_{bps,iops}_device, "MAJOR:MINOR RATE",
 * one line per write).
 */
import path from 'node:path';
import { exists, writeFile } from '../fsutil.js';
import { blockIOApplies } from '../resources.js';
import { THROTTLE_LISTS, cgroupFailure, type Controller, type LinuxResources, type ThrottleList } from '../types.js';

export const name = 'blkio';

export const THROTTLE_FILES: Record<ThrottleList, string> = {
  throttleReadBpsDevice: 'blkio.throttle.read_bps_device',
  throttleWriteBpsDevice: 'blkio.throttle.write_bps_device',
  throttleReadIOPSDevice: 'blkio.throttle.read_iops_device',
  throttleWriteIOPSDevice: 'blkio.throttle.write_iops_device',
};

export function apply(dir: string, r: LinuxResources): void {
  const b = r.blockIO ?? {};
  if (b.weight !== undefined) {
    const file = ['blkio.weight', 'blkio.bfq.weight'].map((f) => path.join(dir, f)).find(exists);
    if (!file) throw cgroupFailure('needs the CFQ or BFQ I/O scheduler (no blkio.weight or blkio.bfq.weight here); throttles work with any', { field: 'blockIO.weight' });
    writeFile(file, String(b.weight), 'the block I/O weight');
  }
  for (const list of THROTTLE_LISTS) {
    for (const t of b[list] ?? []) writeFile(path.join(dir, THROTTLE_FILES[list]), `${t.major}:${t.minor} ${t.rate}`, `the block I/O throttle of ${t.major}:${t.minor}`);
  }
}

export const controller: Controller = { name, joined: (s) => s.everyController === true, applies: blockIOApplies, apply };
