/**
 * cgroup v1: one directory per controller hierarchy, <root>/<controller>/<parent>/<name>
 * (the parent is `tini-ts` unless --cgroup-parent says otherwise; it may be nested).
 * memory, pids, cpu and cpuacct are always used (the report needs their
 * counters); cpuset only with cpu.cpus/mems, devices only with device rules
 * (a container). Controllers mounted together
 * (cpu,cpuacct) share one directory. With `everyHierarchy` (OCI containers)
 * the cgroup is also made in every other hierarchy mounted under the root
 * (name=systemd, a hybrid host's v2 tree...), where nothing but the process
 * goes, as runc does.
 */
import fs from 'node:fs';
import path from 'node:path';
import { exists, killUntilEmpty, mkdirUnder, parentLevels, readPids, removeEmptyParent, rmdirRetry, writeFile } from '../fsutil.js';
import { LEVELS_DIR, missingLevels, recordable, settleRecord, writeRecord } from '../levels.js';
import { CGROUP_PARENT, cgroupFailure, type Cgroup, type CgroupSetup, type CgroupStats, type Controller, type DeviceRule, type LinuxResources } from '../types.js';
import * as memory from './memory.js';
import * as pids from './pids.js';
import * as cpu from './cpu.js';
import * as cpuacct from './cpuacct.js';
import * as cpuset from './cpuset.js';
import * as devices from './devices.js';
import * as blkio from './blkio.js';
import * as freezer from './freezer.js';

/** Every v1 controller tini-ts drives, in the order they are applied. */
export const CONTROLLERS: readonly Controller[] = [memory.controller, pids.controller, cpu.controller, cpuacct.controller, cpuset.controller, devices.controller, blkio.controller, freezer.controller];

/** The hierarchies a cgroup with these resources and this set-up joins. */
export function controllersFor(resources: LinuxResources, setup: CgroupSetup = {}): string[] {
  return CONTROLLERS.filter((c) => c.joined(setup) || c.applies(resources)).map((c) => c.name);
}

/**
 * The hierarchies mounted under root that hold none of CONTROLLERS (real
 * paths, each once): named ones (`systemd`, name=systemd), controllers
 * tini-ts drives nothing through (net_cls, perf_event...), and a hybrid
 * host's cgroup v2 tree (`unified`). runc joins every one of them.
 */
export function otherHierarchies(root: string): string[] {
  const known = new Set(CONTROLLERS.map((c) => realpathOr(path.join(root, c.name))));
  const out: string[] = [];
  let entries: string[];
  try {
    entries = fs.readdirSync(root).sort();
  } catch {
    return out;
  }
  for (const e of entries) {
    const mount = realpathOr(path.join(root, e));
    if (known.has(mount) || out.includes(mount) || !exists(path.join(mount, 'cgroup.procs'))) continue;
    out.push(mount);
  }
  return out;
}

/** The first missing controller, or undefined when all are mounted under root. */
export function missingController(root: string, controllers: string[]): string | undefined {
  return controllers.find((c) => !exists(path.join(root, c, 'cgroup.procs')));
}

export class CgroupV1 implements Cgroup {
  readonly version = 1 as const;
  readonly dirs: string[];
  private readonly byController: Map<string, string>;
  private readonly parentDirs: Map<string, string>;
  /** Per hierarchy mount: the outermost parent level this cgroup's creation made. */
  private readonly createdParent = new Map<string, string>();
  /** Each hierarchy's mount (real path), where the parent path starts. */
  private readonly mounts: Map<string, string>;

  constructor(
    readonly root: string,
    readonly name: string,
    readonly controllers: string[],
    readonly parent = CGROUP_PARENT,
    readonly levelsDir = LEVELS_DIR,
    /** Other hierarchies to join (their mounts, absolute: otherHierarchies), keyed by that path. */
    others: readonly string[] = [],
    /** The set-up's device rules, written with the resources (CgroupSetup.devices). */
    private readonly devices?: readonly DeviceRule[],
  ) {
    this.byController = new Map();
    this.parentDirs = new Map();
    this.mounts = new Map();
    const seen = new Set<string>();
    this.dirs = [];
    for (const c of [...controllers, ...others]) {
      const mount = realpathOr(path.isAbsolute(c) ? c : path.join(root, c));
      const dir = path.join(mount, parent, name);
      this.byController.set(c, dir);
      this.parentDirs.set(c, path.join(mount, parent));
      this.mounts.set(c, mount);
      if (!seen.has(dir)) {
        seen.add(dir);
        this.dirs.push(dir);
      }
    }
  }

  dir(controller: string): string {
    return this.byController.get(controller)!;
  }

  create(): void {
    const missing = missingController(this.root, this.controllers);
    if (missing) throw cgroupFailure(`the cgroup v1 controller '${missing}' is not mounted at ${path.join(this.root, missing)}`);
    // The levels of a --cgroup-parent about to be made, in every hierarchy,
    // are recorded first: a launcher killed from here on leaves them to the
    // next run's sweep.
    const mounts = [...new Set(this.mounts.values())];
    const recorded = !recordable(this.name, this.parent, CGROUP_PARENT) ? null : mounts.flatMap((m) => missingLevels(parentLevels(m, this.parent)));
    if (recorded) writeRecord(this.levelsDir, this.name, recorded);
    let ok = false;
    try {
      this.makeDirs();
      ok = true;
    } finally {
      if (recorded) {
        const made = ok
          ? mounts.flatMap((m) => {
              const outermost = this.createdParent.get(m);
              return outermost ? parentLevels(m, this.parent).filter((l) => l.length >= outermost.length) : [];
            })
          : recorded.filter(exists);
        writeRecord(this.levelsDir, this.name, made);
      }
    }
  }

  private makeDirs(): void {
    const made = new Set<string>();
    for (const c of this.byController.keys()) {
      const dir = this.dir(c);
      if (made.has(dir)) continue;
      made.add(dir);
      const parentDir = this.parentDirs.get(c)!;
      // a v1 cpuset refuses tasks until cpus and mems are set at every level
      const levels = parentLevels(this.mounts.get(c)!, this.parent);
      const fill = c === cpuset.name ? () => levels.forEach((d) => cpuset.inherit(d, path.dirname(d))) : undefined;
      const created = mkdirUnder(parentDir, dir, fill);
      if (created) this.createdParent.set(this.mounts.get(c)!, created);
      if (c === cpuset.name) cpuset.inherit(dir, parentDir);
    }
  }

  apply(resources: LinuxResources): void {
    const r = this.devices && resources.devices === undefined ? { ...resources, devices: [...this.devices] } : resources;
    for (const c of CONTROLLERS) if (this.byController.has(c.name)) c.apply?.(this.dir(c.name), r);
  }

  procsFiles(): string[] {
    return this.dirs.map((d) => path.join(d, 'cgroup.procs'));
  }

  addProcess(pid: number): void {
    for (const f of this.procsFiles()) writeFile(f, String(pid), `the cgroup of process ${pid}`);
  }

  pids(): number[] {
    return readPids(path.join(this.dir(pids.name), 'cgroup.procs'));
  }

  pidsCurrent(): number | null {
    return pids.current(this.dir(pids.name));
  }

  stats(): CgroupStats {
    return Object.assign({}, ...CONTROLLERS.filter((c) => this.byController.has(c.name)).map((c) => c.stats?.(this.dir(c.name)) ?? {})) as CgroupStats;
  }

  killAll(timeoutMs = 2000): boolean {
    // Every process is in every hierarchy; the pids one is as good as any.
    let empty = true;
    for (const f of this.procsFiles()) empty = killUntilEmpty(f, timeoutMs) && empty;
    return empty;
  }

  remove(): boolean {
    let all = true;
    for (const dir of this.dirs) all = rmdirRetry(dir, 2000) && all;
    // The parent, in each hierarchy, once no other launcher uses it: all of
    // tini-ts's own; of a --cgroup-parent only the levels made here (what
    // existed before is the user's, as with docker).
    for (const mount of new Set(this.mounts.values())) {
      const outermost = this.parent === CGROUP_PARENT ? parentLevels(mount, this.parent)[0] : this.createdParent.get(mount);
      if (outermost) removeEmptyParent(mount, this.parent, outermost);
    }
    // a level still holding another launcher's cgroup stays recorded, for a later sweep
    if (recordable(this.name, this.parent, CGROUP_PARENT)) settleRecord(this.levelsDir, this.name);
    return all;
  }
}

function realpathOr(p: string): string {
  try {
    return fs.realpathSync.native(p);
  } catch {
    return p;
  }
}
