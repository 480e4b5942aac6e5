/**
 * cgroup v1 cpuset controller. A v1 cpuset starts empty and refuses tasks
 * until cpuset.cpus and cpuset.mems are set, in every level of the path:
 * the intermediate `tini-ts` directory copies its parent's values.
 */
import path from 'node:path';
import { readText, writeFile } from '../fsutil.js';
import { cpusetApplies } from '../resources.js';
import type { Controller, LinuxResources } from '../types.js';

export const name = 'cpuset';

/** Fill cpuset.cpus/mems of `dir` from `parent` where they are empty. */
export function inherit(dir: string, parent: string): void {
  for (const f of ['cpuset.cpus', 'cpuset.mems']) {
    const mine = readText(path.join(dir, f));
    if (mine !== null && mine.trim() !== '') continue;
    const theirs = (readText(path.join(parent, f)) ?? '').trim();
    writeFile(path.join(dir, f), theirs, f);
  }
}

export function apply(dir: string, r: LinuxResources): void {
  if (r.cpu?.cpus !== undefined) writeFile(path.join(dir, 'cpuset.cpus'), r.cpu.cpus, 'the CPU set');
  if (r.cpu?.mems !== undefined) writeFile(path.join(dir, 'cpuset.mems'), r.cpu.mems, 'the memory node set');
}

export const controller: Controller = { name, joined: (s) => s.everyController === true, applies: cpusetApplies, apply };
