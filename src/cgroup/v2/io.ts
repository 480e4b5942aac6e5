/**
 * cgroup v2 io controller: a weight (io.weight "default N"; io.bfq.weight
 * with BFQ) and per-device limits in io.max, one line per device
 * ("MAJOR:MINOR rbps=N wbps=N riops=N wiops=N", the keys given).
 */
import path from 'node:path';
import { exists, writeFile } from '../fsutil.js';
import { THROTTLE_LISTS, cgroupFailure, type Controller, type LinuxResources, type ThrottleList } from '../types.js';
import { blockIOApplies } from '../resources.js';

export const name = 'io';

const KEYS: Record<ThrottleList, string> = { throttleReadBpsDevice: 'rbps', throttleWriteBpsDevice: 'wbps', throttleReadIOPSDevice: 'riops', throttleWriteIOPSDevice: 'wiops' };

/** io.max lines, one per device, in the order the devices first appear (lists in the spec's order). */
export function ioMaxLines(blockIO: LinuxResources['blockIO']): string[] {
  const byDevice = new Map<string, string[]>();
  for (const list of THROTTLE_LISTS) {
    for (const t of blockIO?.[list] ?? []) {
      const dev = `${t.major}:${t.minor}`;
      byDevice.set(dev, [...(byDevice.get(dev) ?? []), `${KEYS[list]}=${t.rate}`]);
    }
  }
  return [...byDevice].map(([dev, keys]) => `${dev} ${keys.join(' ')}`);
}

/**
 * blkio's 10..1000 onto io.weight's 1..10000 as runc converts it (integer
 * division): io.bfq.weight takes the blkio value as it is.
 */
export function blkioToIoWeight(w: number): number {
  return 1 + Math.floor(((w - 10) * 9999) / 990);
}

export function apply(dir: string, r: LinuxResources): void {
  const w = r.blockIO?.weight;
  if (w !== undefined) {
    const weight = path.join(dir, 'io.weight');
    const bfq = path.join(dir, 'io.bfq.weight');
    if (exists(bfq)) writeFile(bfq, String(w), 'the block I/O weight');
    else if (exists(weight)) writeFile(weight, `default ${blkioToIoWeight(w)}`, 'the block I/O weight');
    else throw cgroupFailure('needs io.weight or io.bfq.weight (an I/O scheduler with weights); throttles work with any', { field: 'blockIO.weight' });
  }
  for (const line of ioMaxLines(r.blockIO)) writeFile(path.join(dir, 'io.max'), line, `the block I/O limit ${line}`);
}

export const controller: Controller = { name, joined: () => false, applies: blockIOApplies, apply };
