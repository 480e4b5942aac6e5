/**
 * `kill [--all] ID [SIGNAL]`: to the init (which forwards it to the
 * workload's process group), or with --all to every process in the
 * container's cgroup, the init included.
 */
import path from 'node:path';
import type { OciCommand } from '../../cli/oci-args.js';
import { readPids } from '../../cgroup/fsutil.js';
import { setFrozen } from '../../container/freeze.js';
import type { OciContext } from './context.js';
import { loadContainer } from './load.js';

export function kill(cmd: Extract<OciCommand, { verb: 'kill' }>, ctx: OciContext): void {
  const { rec, status } = loadContainer(cmd.id, ctx);
  if (cmd.all) {
    // As runc: a stopped container whose processes are all gone is fine.
    for (const pid of cgroupPids(rec.cgroupDirs)) signal(pid, cmd.signal);
    if (status === 'paused' && cmd.signal === 9) setFrozen(rec.cgroupDirs, false);
    ctx.exit(0);
  }
  if (status === 'stopped' || status === 'creating') ctx.fail('container not running');
  const err = signal(rec.pid, cmd.signal);
  if (err) ctx.fail(`kill ${rec.pid}: ${err}`);
  // A frozen process dies of SIGKILL only once thawed (cgroup v1), as runc thaws it.
  if (status === 'paused' && cmd.signal === 9) setFrozen(rec.cgroupDirs, false);
  ctx.exit(0);
}

export function cgroupPids(dirs: string[]): number[] {
  return [...new Set(dirs.flatMap((d) => readPids(path.join(d, 'cgroup.procs'))))];
}

/** null, or the errno's name (a process that is gone already is not an error). */
export function signal(pid: number, sig: number): string | null {
  try {
    process.kill(pid, sig);
    return null;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    return code === 'ESRCH' ? null : code;
  }
}
