/**
 * cgroup v2: one directory, <root>/<parent>/<name> (the parent is `tini-ts`
 * unless --cgroup-parent says otherwise; it may be nested). The controllers
 * must be listed in the root's cgroup.controllers and enabled in
 * cgroup.subtree_control of the root and of every level of the parent (done
 * here when missing).
 */
import fs from 'node:fs';
import path from 'node:path';
import { exists, killUntilEmpty, mkdirUnder, parentLevels, readPids, readText, removeEmptyParent, rmdirRetry, writeFile } from '../fsutil.js';
import { RunFailure } from '../../libc/error.js';
import { LEVELS_DIR, missingLevels, recordable, settleRecord, writeRecord } from '../levels.js';
import { CGROUP_PARENT, cgroupFailure, type Cgroup, type CgroupSetup, type CgroupStats, type Controller, type LinuxResources } from '../types.js';
import * as memory from './memory.js';
import * as pids from './pids.js';
import * as cpu from './cpu.js';
import * as cpuset from './cpuset.js';
import * as io from './io.js';

/** Every v2 controller tini-ts drives, in the order they are applied. */
export const CONTROLLERS: readonly Controller[] = [memory.controller, pids.controller, cpu.controller, cpuset.controller, io.controller];

/** The controllers a cgroup with these resources and this set-up enables. */
export function controllersFor(resources: LinuxResources, setup: CgroupSetup = {}): string[] {
  return CONTROLLERS.filter((c) => c.joined(setup) || c.applies(resources)).map((c) => c.name);
}

export function missingController(root: string, controllers: string[]): string | undefined {
  const available = (readText(path.join(root, 'cgroup.controllers')) ?? '').trim().split(/\s+/);
  return controllers.find((c) => !available.includes(c));
}

function enable(dir: string, controllers: string[]): void {
  const file = path.join(dir, 'cgroup.subtree_control');
  const on = (readText(file) ?? '').trim().split(/\s+/);
  const wanted = controllers.filter((c) => !on.includes(c));
  if (wanted.length === 0) return;
  try {
    writeFile(file, wanted.map((c) => `+${c}`).join(' '), `cgroup.subtree_control of ${dir}`);
  } catch (e) {
    // v2's "no internal processes" rule: a cgroup with processes cannot hand
    // controllers to children (the root of a cgroup namespace included, as in
    // a container running tini-ts run). Say how to get out of it.
    if (!(e instanceof RunFailure) || e.error.errno !== 'EBUSY') throw e;
    throw cgroupFailure(
      `${e.error.what}: ${dir} holds processes, and cgroup v2 enables controllers only below a cgroup without any; ` +
        `move them into a child cgroup first (mkdir ${dir}/init and write each pid of ${dir}/cgroup.procs to ${dir}/init/cgroup.procs), or give --cgroup-parent under a cgroup without processes`,
      { call: e.error.call, errno: e.error.errno },
    );
  }
}

export class CgroupV2 implements Cgroup {
  readonly version = 2 as const;
  readonly dir: string;
  readonly dirs: string[];
  /** The outermost parent level this cgroup's creation made, if any. */
  private createdParent: string | undefined;

  constructor(
    readonly root: string,
    readonly name: string,
    readonly controllers: string[],
    readonly parent = CGROUP_PARENT,
    readonly levelsDir = LEVELS_DIR,
  ) {
    this.dir = path.join(root, parent, name);
    this.dirs = [this.dir];
  }

  create(): void {
    const missing = missingController(this.root, this.controllers);
    if (missing) throw cgroupFailure(`the cgroup v2 controller '${missing}' is not available in ${path.join(this.root, 'cgroup.controllers')}`);
    const parentDir = path.join(this.root, this.parent);
    const levels = parentLevels(this.root, this.parent);
    enable(this.root, this.controllers);
    // The levels of a --cgroup-parent about to be made are recorded first, so
    // that a launcher killed from here on leaves them to the next run's sweep.
    const recorded = !recordable(this.name, this.parent, CGROUP_PARENT) ? null : missingLevels(levels);
    if (recorded) writeRecord(this.levelsDir, this.name, recorded);
    try {
      this.createdParent = mkdirUnder(parentDir, this.dir, () => levels.forEach((d) => enable(d, this.controllers)));
    } finally {
      const made = this.createdParent;
      if (recorded) writeRecord(this.levelsDir, this.name, made ? levels.filter((l) => l.length >= made.length) : recorded.filter(exists));
    }
  }

  apply(resources: LinuxResources): void {
    for (const c of CONTROLLERS) if (this.controllers.includes(c.name)) c.apply?.(this.dir, resources);
  }

  procsFiles(): string[] {
    return [path.join(this.dir, 'cgroup.procs')];
  }

  addProcess(pid: number): void {
    writeFile(this.procsFiles()[0], String(pid), `the cgroup of process ${pid}`);
  }

  pids(): number[] {
    return readPids(this.procsFiles()[0]);
  }

  pidsCurrent(): number | null {
    return pids.current(this.dir);
  }

  stats(): CgroupStats {
    return Object.assign({}, ...CONTROLLERS.filter((c) => this.controllers.includes(c.name)).map((c) => c.stats?.(this.dir) ?? {})) as CgroupStats;
  }

  killAll(timeoutMs = 2000): boolean {
    // cgroup.kill (Linux >= 5.14) kills every task at once, fork bombs included
    const kill = path.join(this.dir, 'cgroup.kill');
    if (exists(kill)) {
      try {
        fs.writeFileSync(kill, '1');
      } catch {
        // fall back to the loop
      }
    }
    return killUntilEmpty(this.procsFiles()[0], timeoutMs);
  }

  remove(): boolean {
    const gone = rmdirRetry(this.dir, 2000);
    // The parent once empty: all of tini-ts's own; of a --cgroup-parent only
    // the levels made here (what existed before is the user's, as with docker).
    const outermost = this.parent === CGROUP_PARENT ? parentLevels(this.root, this.parent)[0] : this.createdParent;
    if (outermost) removeEmptyParent(this.root, this.parent, outermost);
    // a level still holding another launcher's cgroup stays recorded, for a later sweep
    if (recordable(this.name, this.parent, CGROUP_PARENT)) settleRecord(this.levelsDir, this.name);
    return gone;
  }
}
