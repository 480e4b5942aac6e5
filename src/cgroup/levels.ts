/**
 * Which levels of a --cgroup-parent a launcher made, recorded outside the
 * cgroup tree (cgroupfs holds no regular files): one file per launcher,
 * named like its cgroup (`<pid>-<starttime>-<random>`), one absolute
 * directory per line. Written before the levels are made and corrected
 * after, so a launcher SIGKILLed at any point leaves a record; the next
 * run's sweep removes the recorded levels that are empty once their owner is
 * dead. Only levels that did not exist before are recorded: a level the user
 * made is never removed.
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
 * Writes (or, with no levels, drops) the record of `owner` atomically. Best
 * effort: where it cannot be written (a read-only /run) the run goes on as
 * before, and only a SIGKILLed launcher's levels would stay.
 */
export function writeRecord(dir: string, owner: string, levels: string[]): void {
  try {
    if (levels.length === 0) return dropRecord(dir, owner);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const tmp = `${recordFile(dir, owner)}.tmp`;
    fs.writeFileSync(tmp, levels.join('\n') + '\n', { mode: 0o600 });
    fs.renameSync(tmp, recordFile(dir, owner));
  } catch {
    // see above
  }
}

export function readRecord(dir: string, owner: string): string[] {
  try {
    return fs.readFileSync(recordFile(dir, owner), 'utf8').split('\n').filter((l) => path.isAbsolute(l));
  } catch {
    return [];
  }
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
 * rmdir the recorded levels that are empty, innermost first; true when none
 * of them is left (a level still holding another launcher's cgroup stays,
 * and so does the record, for a later sweep).
 */
export function removeRecordedLevels(levels: string[]): boolean {
  let all = true;
  for (const l of [...levels].sort((a, b) => b.length - a.length)) if (!rmdirLevel(l)) all = false;
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
  for (const owner of names) {
    if (!/^[0-9]+-[0-9]+-[^.]*$/.test(owner) || !isDead(owner)) continue;
    const levels = readRecord(dir, owner);
    const present = levels.filter((l) => exists(l));
    if (removeRecordedLevels(levels)) {
      removed.push(...present);
      dropRecord(dir, owner);
    } else {
      for (const l of present) (exists(l) ? busy : removed).push(l);
    }
  }
  return { removed, busy };
}
