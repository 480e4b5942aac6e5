/**
 * Which levels of a --cgroup-parent a launcher made, recorded outside the
 * cgroup tree (cgroupfs holds no regular files): one file per launcher,
 * named like its cgroup (`<pid>-<starttime>-<random>`), one absolute
 * directory per line. Written before the levels are made and corrected
 * after, so a launcher SIGKILLed at any point leaves a record; the next
 * run's sweep removes the recorded levels that are empty once their owner is
 * dead. Only levels that did not exist before are recorded: a level the user
 * made is never removed. Each level is recorded with its inode once it
 * exists, and removed only while it still has that inode: a record written in
 * another mount namespace (a launcher inside a container), or a level removed
 * and made again by someone else since, is never taken for ours.
 */
import fs from 'node:fs';
import path from 'node:path';
import { exists, rmdirIfEmpty, rmdirLevel } from './fsutil.js';

/** Beside the launchers' state directories, which live in /run/tini-ts. */
export const LEVELS_DIR = '/run/tini-ts/cgroup-levels';

/** Of `levels` (outermost first), those that do not exist yet. */
export function missingLevels(levels: string[]): string[] {
  return levels.filter((l) => !exists(l));
}

const recordFile = (dir: string, owner: string) => path.join(dir, owner);

/**
 * Whether levels made for the cgroup `name` are recorded: only a launcher's
 * (`<pid>-<starttime>-<random>`), whose death a sweep can tell. A cgroup
 * named otherwise (a container id) outlives the process that made it; its
 * owner removes it.
 */
export function recordable(name: string, parent: string, defaultParent: string): boolean {
  return parent !== defaultParent && LAUNCHER_NAME.test(name);
}

const LAUNCHER_NAME = /^[0-9]+-[0-9]+-[^.]*$/;

/** A level and its inode (null: not made yet, so not removable by a sweep). */
interface Level {
  dir: string;
  ino: string | null;
}

function inode(dir: string): string | null {
  try {
    return String(fs.statSync(dir, { bigint: true }).ino);
  } catch {
    return null;
  }
}

/**
 * Writes (or, with no levels, drops) the record of `owner` atomically. Best
 * effort: where it cannot be written (a read-only /run) the run goes on as
 * before, and only a SIGKILLed launcher's levels would stay.
 */
export function writeRecord(dir: string, owner: string, levels: string[]): void {
  if (levels.length === 0) return dropRecord(dir, owner);
  // Another launcher's sweep or drop may rmdir the directory, empty, between
  // its mkdir and the write here: made again then (ENOENT), a few times.
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      const tmp = `${recordFile(dir, owner)}.tmp`;
      fs.writeFileSync(tmp, levels.map((l) => `${inode(l) ?? '-'} ${l}\n`).join(''), { mode: 0o600 });
      fs.renameSync(tmp, recordFile(dir, owner));
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return; // see above
    }
  }
}

export function readRecord(dir: string, owner: string): Level[] {
  let text: string;
  try {
    text = fs.readFileSync(recordFile(dir, owner), 'utf8');
  } catch {
    return [];
  }
  const out: Level[] = [];
  for (const line of text.split('\n')) {
    const m = /^([0-9]+|-) (\/.*)$/.exec(line);
    if (m) out.push({ dir: m[2], ino: m[1] === '-' ? null : m[1] });
  }
  return out;
}

/** Removes the record, then its directory and /run/tini-ts when they are empty (other launchers' state keeps them). */
export function dropRecord(dir: string, owner: string): void {
  try {
    fs.rmSync(recordFile(dir, owner), { force: true });
  } catch {
    return;
  }
  if (rmdirIfEmpty(dir)) rmdirIfEmpty(path.dirname(dir));
}

/**
 * rmdir the recorded levels that are empty and still ours (same inode),
 * innermost first; true when none of ours is left (a level still holding
 * another launcher's cgroup stays, and so does the record, for a later sweep).
 */
export function removeRecordedLevels(levels: Level[]): boolean {
  let all = true;
  for (const l of [...levels].sort((a, b) => b.dir.length - a.dir.length)) {
    const now = inode(l.dir);
    if (now === null || l.ino === null || now !== l.ino) continue; // gone, never made, or not ours
    if (!rmdirLevel(l.dir)) all = false;
  }
  return all;
}

/** The owner's record once its levels are gone: removes what is empty, drops the record when nothing is left. */
export function settleRecord(dir: string, owner: string): void {
  const levels = readRecord(dir, owner);
  if (levels.length === 0 || removeRecordedLevels(levels)) dropRecord(dir, owner);
}

/**
 * Levels recorded by launchers that died: removed when empty (returned),
 * records kept while a level is still in use. `isDead(name)` judges the owner.
 */
export function sweepLevels(dir: string, isDead: (owner: string) => boolean): { removed: string[]; busy: string[] } {
  const removed: string[] = [];
  const busy: string[] = [];
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return { removed, busy };
  }
  for (const name of names) {
    // A launcher killed between writing its record and renaming it left the copy.
    const owner = name.endsWith('.tmp') ? name.slice(0, -4) : name;
    if (!LAUNCHER_NAME.test(owner) || !isDead(owner)) continue;
    if (owner !== name) {
      if (!names.includes(owner)) fs.rmSync(path.join(dir, name), { force: true });
      continue;
    }
    const levels = readRecord(dir, owner);
    const ours = levels.filter((l) => l.ino !== null && inode(l.dir) === l.ino).map((l) => l.dir);
    if (removeRecordedLevels(levels)) dropRecord(dir, owner);
    for (const l of ours) (exists(l) ? busy : removed).push(l);
  }
  // Nothing left (also a directory a launcher made and was killed before it wrote in it).
  if (rmdirIfEmpty(dir)) rmdirIfEmpty(path.dirname(dir));
  return { removed, busy };
}
