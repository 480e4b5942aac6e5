/**
 * `delete [--force] ID`: a stopped container is destroyed (every process of
 * its cgroup killed, the cgroup and the state directory removed); a created
 * one is killed first, as runc does; a running or paused one only with
 * --force. An unknown id is an error, except with --force.
 */
import type { OciCommand } from '../../cli/oci-args.js';
import fs from 'node:fs';
import path from 'node:path';
import { rmdirRetry } from '../../cgroup/fsutil.js';
import { CGROUP_PARENT } from '../../cgroup/types.js';
import { setFrozen } from '../../container/freeze.js';
import { procStartTime } from '../../container/store.js';
import { createLibc } from '../../libc/libc.js';
import { createNsLibc } from '../../libc/ns.js';
import { render } from '../../libc/error.js';
import { runHooks } from '../../runtime/oci/hooks.js';
import { hookState, type OciContext } from './context.js';
import { cgroupPids, signal } from './kill.js';
import { currentStatus } from './load.js';

const WAIT_MS = 10_000;

export function del(cmd: Extract<OciCommand, { verb: 'delete' }>, ctx: OciContext): void {
  const rec = ctx.store.read(cmd.id);
  if (!rec) {
    if (cmd.force) {
      ctx.store.remove(cmd.id); // a stale directory without a state file
      ctx.exit(0);
    }
    ctx.fail('container does not exist');
  }
  const status = currentStatus(rec, ctx);
  if ((status === 'running' || status === 'paused') && !cmd.force) ctx.fail(`cannot delete container ${cmd.id} that is not stopped: ${status}`);
  if (status !== 'stopped' && rec.pid > 0) {
    signal(rec.pid, 9);
    if (status === 'paused') setFrozen(rec.cgroupDirs, false); // a frozen init dies only once thawed
    const deadline = Date.now() + WAIT_MS;
    const nap = new Int32Array(new SharedArrayBuffer(4));
    while (procStartTime(rec.pid) === rec.pidStart && Date.now() < deadline) Atomics.wait(nap, 0, 0, 1);
    if (procStartTime(rec.pid) === rec.pidStart) ctx.fail(`the container's init (${rec.pid}) survived SIGKILL for ${WAIT_MS / 1000}s`);
  }
  // Whatever is left in the cgroup (with a shared pid namespace, or a process that escaped the init).
  for (const pid of cgroupPids(rec.cgroupDirs)) signal(pid, 9);
  const stuck = rec.cgroupDirs.filter((d) => !rmdirRetry(d, 2000));
  if (stuck.length > 0) ctx.fail(`cannot remove the container's cgroup ${stuck.join(', ')}`);
  // tini-ts's own parent level (no linux.cgroupsPath) once no container uses it; an engine's parent is the engine's.
  for (const parent of new Set(rec.cgroupDirs.map((d) => path.dirname(d)))) {
    if (path.basename(parent) !== CGROUP_PARENT) continue;
    try {
      fs.rmdirSync(parent);
    } catch {
      // another container's cgroup is there (EBUSY, ENOTEMPTY): it stays
    }
  }
  ctx.store.remove(cmd.id);
  // poststop: once everything is gone; a failure is a warning (the container is deleted all the same).
  // (The C library is loaded only for hooks: most containers have none.)
  if (rec.hooks?.poststop?.length) {
    const ran = runHooks(createLibc(), createNsLibc(), 'poststop', rec.hooks.poststop, hookState(rec, 'stopped', 0));
    if (!ran.ok) ctx.log('warning', render(ran.error));
  }
  ctx.exit(0);
}
