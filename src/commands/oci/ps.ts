/**
 * `ps --format json ID`: the host pids of the container's cgroup, as a JSON
 * array (containerd's Pids: `ctr task ps`, `docker top`, CRI). The init is
 * one of them; on cgroup v1 only its main thread is in the cgroup, whose
 * pid is the init's. Nothing but the JSON is printed: go-runc reads stdout
 * and stderr together.
 */
import type { OciCommand } from '../../cli/oci-args.js';
import { writeStdout } from '../../log/log.js';
import type { OciContext } from './context.js';
import { cgroupPids } from './kill.js';
import { loadContainer } from './load.js';

export function ps(cmd: Extract<OciCommand, { verb: 'ps' }>, ctx: OciContext): void {
  const { rec } = loadContainer(cmd.id, ctx);
  writeStdout(JSON.stringify(cgroupPids(rec.cgroupDirs)) + '\n');
  ctx.exit(0);
}
