/**
 * Freezing a container's cgroup: v1 freezer.state (FROZEN, THAWED), v2
 * cgroup.freeze (1, 0). The kernel freezes asynchronously: wait until the
 * state says so (v1 FREEZING turns FROZEN; v2 cgroup.events "frozen 1").
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ErrnoName } from '../libc/errno.js';
import { failed, type Outcome } from '../libc/error.js';
import { ok } from '../libc/types.js';

const WAIT_MS = 5000;

/** Done, or why the cgroup could not be frozen or thawed. */
export function setFrozen(dirs: string[], frozen: boolean): Outcome<void> {
  const v1 = dirs.map((d) => path.join(d, 'freezer.state')).find((f) => fs.existsSync(f));
  const v2 = dirs.map((d) => path.join(d, 'cgroup.freeze')).find((f) => fs.existsSync(f));
  const file = v1 ?? v2;
  if (!file) return failed('the container has no freezer (cgroup v1 freezer hierarchy or cgroup v2 cgroup.freeze)');
  try {
    fs.writeFileSync(file, v1 ? (frozen ? 'FROZEN' : 'THAWED') : frozen ? '1' : '0');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code as ErrnoName;
    return failed(`writing ${file}: ${code}`, { call: `write(${file})`, errno: code });
  }
  const done = () => {
    try {
      if (v1) return fs.readFileSync(v1, 'utf8').trim() === (frozen ? 'FROZEN' : 'THAWED');
      return new RegExp(`^frozen ${frozen ? 1 : 0}$`, 'm').test(fs.readFileSync(path.join(path.dirname(v2!), 'cgroup.events'), 'utf8'));
    } catch {
      return false;
    }
  };
  const nap = new Int32Array(new SharedArrayBuffer(4));
  const deadline = Date.now() + WAIT_MS;
  while (!done()) {
    if (Date.now() > deadline) return failed(`the cgroup did not become ${frozen ? 'frozen' : 'thawed'} within ${WAIT_MS / 1000}s`);
    if (v1 && frozen) fs.writeFileSync(v1, 'FROZEN'); // v1 may need asking again while tasks are busy
    Atomics.wait(nap, 0, 0, 1);
  }
  return ok(undefined);
}
