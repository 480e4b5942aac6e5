/** Small synchronous file helpers for cgroupfs (and a fake tree standing in for it). */
import fs from 'node:fs';
import path from 'node:path';
import { CGROUP2_SUPER_MAGIC, CGROUP_SUPER_MAGIC } from '../libc/consts.js';
import type { ErrnoName } from '../libc/errno.js';
import { RunFailure } from '../libc/error.js';
import { cgroupFailure } from './types.js';

export function readText(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

export function readNumber(file: string): number | null {
  const t = readText(file);
  if (t === null) return null;
  const n = Number(t.trim());
  return Number.isFinite(n) ? n : null;
}

/** A value from a flat-keyed file (`key value` lines: memory.events, cpu.stat, oom_control). */
export function readKeyed(file: string, key: string): number | null {
  const t = readText(file);
  if (t === null) return null;
  for (const line of t.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k === key && v !== undefined) {
      const n = Number(v);
      return Number.isFinite(n) ? n : null;
    }
  }
  return null;
}

export function writeFile(file: string, value: string, what: string): void {
  try {
    fs.writeFileSync(file, value);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    throw cgroupFailure(`cannot set ${what}: writing '${value}' to ${file} failed (${code})`, { call: `write(${file})`, errno: code as ErrnoName });
  }
}

export function exists(file: string): boolean {
  try {
    fs.accessSync(file);
    return true;
  } catch {
    return false;
  }
}

export function readPids(file: string): number[] {
  const t = readText(file);
  if (!t) return [];
  return t.split('\n').filter((l) => l.trim() !== '').map(Number);
}

/** SIGKILL every pid listed in `procsFile` until it reads empty (or time runs out). */
export function killUntilEmpty(procsFile: string, timeoutMs: number): boolean {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pids = readPids(procsFile);
    if (pids.length === 0) return true;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    if (Date.now() > deadline) return false;
    sleepMs(5);
  }
}

/** rmdir with retries: a cgroup is busy until its last task is reaped. */
export function rmdirRetry(dir: string, timeoutMs: number): boolean {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      fs.rmdirSync(dir);
      return true;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return true; // never made
      if (code === 'ENOTEMPTY' && !onCgroupfs(dir)) {
        // a fake tree in a test: its "control files" are regular files
        fs.rmSync(dir, { recursive: true, force: true });
        return true;
      }
      if (code !== 'EBUSY' || Date.now() > deadline) return false;
      sleepMs(10);
    }
  }
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));
export function sleepMs(ms: number): void {
  Atomics.wait(sleepCell, 0, 0, ms);
}

export function onCgroupfs(dir: string): boolean {
  try {
    const t = fs.statfsSync(dir).type;
    return t === CGROUP_SUPER_MAGIC || t === CGROUP2_SUPER_MAGIC;
  } catch {
    return true; // when unsure, never delete recursively
  }
}

/** Remove a shared parent directory if it is empty (another launcher may still use it: then leave it). */
export function rmdirIfEmpty(dir: string): boolean {
  try {
    fs.rmdirSync(dir);
    return true;
  } catch (e) {
    // busy, not empty, or gone: all fine
    return (e as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

/**
 * rmdir a parent level if it is empty (true when gone). On a fake tree in a
 * test, whose "control files" are regular files, a level without
 * subdirectories counts as empty, as on cgroupfs.
 */
export function rmdirLevel(dir: string): boolean {
  try {
    fs.rmdirSync(dir);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return true;
    if (code !== 'ENOTEMPTY' || onCgroupfs(dir)) return false;
    try {
      if (fs.readdirSync(dir, { withFileTypes: true }).some((d) => d.isDirectory())) return false;
      fs.rmSync(dir, { recursive: true, force: true });
      return true;
    } catch {
      return false;
    }
  }
}

/**
 * The directories of a (relative, possibly nested) parent path under `base`,
 * outermost first: `a/b` gives base/a, base/a/b.
 */
export function parentLevels(base: string, parent: string): string[] {
  const out: string[] = [];
  let dir = base;
  for (const part of parent.split('/').filter((p) => p !== '')) {
    dir = path.join(dir, part);
    out.push(dir);
  }
  return out;
}

/**
 * Removes the parent's levels under `base` that are empty, innermost first,
 * stopping at the first still in use, and never above `outermost` (the first
 * level this launcher created: what existed before is not ours to remove).
 */
export function removeEmptyParent(base: string, parent: string, outermost: string): void {
  for (const dir of parentLevels(base, parent).reverse()) {
    if (dir.length < outermost.length || !rmdirLevel(dir)) return;
  }
}

/**
 * mkdir -p `parent`, then mkdir `dir` inside; retried when a concurrent
 * launcher removed the (empty) parent in between. `onParent` runs once the
 * parent's directories exist (to prepare each level). Returns the outermost
 * level of `parent` it created, if any. On failure the levels it created are
 * removed again (innermost first, while empty) before the error is thrown.
 */
export function mkdirUnder(parent: string, dir: string, onParent: () => void = () => {}): string | undefined {
  for (let attempt = 0; ; attempt++) {
    let created: string | undefined;
    try {
      created = fs.mkdirSync(parent, { recursive: true });
      onParent();
      fs.mkdirSync(dir);
      return created;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (created) removeMadeLevels(parent, created);
      if (code === 'ENOENT' && attempt < 5) continue;
      if (e instanceof RunFailure) throw e;
      throw cgroupFailure(`cannot create ${dir}: ${code ?? (e as Error).message}`, code ? { call: `mkdir(${dir})`, errno: code as ErrnoName } : {});
    }
  }
}

/** rmdir `parent` and its ancestors up to and including `outermost` (the first level made), while empty. */
function removeMadeLevels(parent: string, outermost: string): void {
  for (let d = parent; d.length >= outermost.length; d = path.dirname(d)) if (!rmdirLevel(d)) return;
}
