/** cgroup v1 cpuacct controller: user and system CPU time (nanoseconds, or USER_HZ ticks in cpuacct.stat). */
import path from 'node:path';
import { readKeyed, readNumber } from '../fsutil.js';
import type { CgroupStats, Controller } from '../types.js';

export const name = 'cpuacct';

const USER_HZ = 100;

export function stats(dir: string): Pick<CgroupStats, 'cpuUserUs' | 'cpuSystemUs'> {
  const userNs = readNumber(path.join(dir, 'cpuacct.usage_user'));
  const sysNs = readNumber(path.join(dir, 'cpuacct.usage_sys'));
  if (userNs !== null && sysNs !== null) return { cpuUserUs: Math.round(userNs / 1000), cpuSystemUs: Math.round(sysNs / 1000) };
  const user = readKeyed(path.join(dir, 'cpuacct.stat'), 'user');
  const sys = readKeyed(path.join(dir, 'cpuacct.stat'), 'system');
  return {
    cpuUserUs: user === null ? null : (user * 1e6) / USER_HZ,
    cpuSystemUs: sys === null ? null : (sys * 1e6) / USER_HZ,
  };
}

export const controller: Controller = { name, joined: () => true, applies: () => false, stats };
