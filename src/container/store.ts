/**
 * OCI containers as the runtime keeps them: one directory per container
 * under the root (`--root`, default /run/tini-ts), holding state.json and,
 * while the container is `created`, exec.fifo (the start gate the init waits
 * on). Ownership is by id: nothing here depends on which process made it.
 *
 * The status is not stored but read from the facts, as runc does: the init
 * gone (or its pid reused: the start time differs) is `stopped`; the gate
 * still there is `created`; a frozen cgroup is `paused`; else `running`.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ErrnoName } from '../libc/errno.js';
import { failed, type Outcome } from '../libc/error.js';
import { ok } from '../libc/types.js';

export const DEFAULT_ROOT = '/run/tini-ts';
export const STATE_FILE = 'state.json';
export const START_FIFO = 'exec.fifo';
export const OCI_VERSION = '1.0.2';

export type Status = 'creating' | 'created' | 'running' | 'paused' | 'stopped';

export interface ContainerRecord {
  ociVersion: string;
  id: string;
  /** Host pid of the container's init (0 while creating). */
  pid: number;
  /** Field 22 of /proc/PID/stat when the init started: tells it from a later process with the same pid. */
  pidStart: string | null;
  bundle: string;
  rootfs: string;
  /** RFC 3339. */
  created: string;
  annotations: Record<string, string>;
  /** The container's cgroup directories, one per hierarchy. */
  cgroupDirs: string[];
  /** config.json's poststart and poststop hooks (run by start and delete, from the bundle as it was at create). */
  hooks?: { poststart?: StoredHook[]; poststop?: StoredHook[] };
}


/** A hook as config.json gave it (runtime/oci/hooks.ts runs it). */
export interface StoredHook { path: string; args: string[]; env: string[] | null; timeout: number | null }

/** runc's rule for ids: word characters, '+', '-' and '.', never '.' or '..'. */
export function idProblem(id: string | undefined): string | null {
  if (id === undefined || id === '') return 'container id cannot be empty';
  if (!/^[\w+.-]+$/.test(id) || id === '.' || id === '..') return `invalid container id format: ${id}`;
  return null;
}

/**
 * mkdir -p, one level at a time: Node's recursive mkdir retries for ever
 * where mkdir(2) says ENOENT under a parent that exists (as in /proc or
 * /sys), so a --root there would hang at full CPU. Throws the first failure.
 */
function makeDirs(dir: string, mode: number): void {
  const parts = path.resolve(dir).split('/').filter(Boolean);
  for (let i = 1; i <= parts.length; i++) {
    const d = `/${parts.slice(0, i).join('/')}`;
    if (fs.existsSync(d)) continue;
    try {
      fs.mkdirSync(d, { mode });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e; // made meanwhile by another command: fine
    }
  }
}

export class Store {
  constructor(readonly root: string) {}

  dir(id: string): string {
    return path.join(this.root, id);
  }

  fifo(id: string): string {
    return path.join(this.dir(id), START_FIFO);
  }

  /** Makes the container's directory (and the root, if missing); false if it exists (the id is taken). */
  claim(id: string): Outcome<boolean> {
    try {
      makeDirs(this.root, 0o700);
    } catch (e) {
      const x = e as NodeJS.ErrnoException;
      return failed(`cannot create ${x.path ?? this.root}: ${x.code}`, { field: '--root', call: `mkdir(${x.path ?? this.root})`, errno: x.code as ErrnoName });
    }
    try {
      fs.mkdirSync(this.dir(id), { mode: 0o700 });
      return ok(true);
    } catch (e) {
      const x = e as NodeJS.ErrnoException;
      if (x.code === 'EEXIST') return ok(false);
      return failed(`cannot create ${this.dir(id)}: ${x.code}`, { call: `mkdir(${this.dir(id)})`, errno: x.code as ErrnoName });
    }
  }

  /** Written whole or not at all (a temporary file renamed into place). */
  write(rec: ContainerRecord): Outcome<void> {
    const file = path.join(this.dir(rec.id), STATE_FILE);
    const tmp = `${file}.${process.pid}.tmp`;
    try {
      fs.writeFileSync(tmp, JSON.stringify(rec), { mode: 0o600 });
      fs.renameSync(tmp, file);
      return ok(undefined);
    } catch (e) {
      const x = e as NodeJS.ErrnoException;
      fs.rmSync(tmp, { force: true });
      return failed(`cannot write the container's state ${file}: ${x.code ?? x.message}`, x.code ? { call: `${x.syscall}(${x.path ?? file})`, errno: x.code as ErrnoName } : {});
    }
  }

  /** The record, or null if there is no such container. */
  read(id: string): ContainerRecord | null {
    try {
      return JSON.parse(fs.readFileSync(path.join(this.dir(id), STATE_FILE), 'utf8')) as ContainerRecord;
    } catch {
      return null;
    }
  }

  /** Every container id with a state file, sorted. */
  ids(): string[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.root);
    } catch {
      return [];
    }
    return names.filter((n) => idProblem(n) === null && fs.existsSync(path.join(this.root, n, STATE_FILE))).sort();
  }

  /** The directory and everything in it (no symbolic link is followed). */
  remove(id: string): void {
    fs.rmSync(this.dir(id), { recursive: true, force: true });
  }
}

export interface StatusFacts {
  /** Field 22 of /proc/PID/stat, or null when there is no such process (or it is a zombie). */
  startTimeOf(pid: number): string | null;
  fifoExists: boolean;
  frozen: boolean;
}

export function statusOf(rec: ContainerRecord, facts: StatusFacts): Status {
  if (rec.pid <= 0) return 'creating';
  const start = facts.startTimeOf(rec.pid);
  if (start === null || (rec.pidStart !== null && start !== rec.pidStart)) return 'stopped';
  if (facts.frozen) return 'paused';
  return facts.fifoExists ? 'created' : 'running';
}

/** The runtime-spec state JSON, as runc prints it (pid 0 once stopped; annotations only when there are some). */
export function stateJson(rec: ContainerRecord, status: Status): Record<string, unknown> {
  return {
    ociVersion: rec.ociVersion,
    id: rec.id,
    pid: status === 'stopped' ? 0 : rec.pid,
    status,
    bundle: rec.bundle,
    rootfs: rec.rootfs,
    created: rec.created,
    owner: '',
    ...(Object.keys(rec.annotations).length > 0 ? { annotations: rec.annotations } : {}),
  };
}

/** Field 22 of /proc/PID/stat; null when gone or a zombie (the init has ended, its parent has not reaped it yet). */
export function procStartTime(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z' || fields[0] === 'X') return null;
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

/** Whether the cgroup is frozen (v1 freezer.state FROZEN, v2 cgroup.freeze 1). */
export function cgroupFrozen(dirs: string[]): boolean {
  for (const d of dirs) {
    for (const [file, frozen] of [['freezer.state', 'FROZEN'], ['cgroup.freeze', '1']] as const) {
      try {
        if (fs.readFileSync(path.join(d, file), 'utf8').trim() === frozen) return true;
      } catch {
        // not this hierarchy's file
      }
    }
  }
  return false;
}
