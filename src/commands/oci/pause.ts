/** `pause ID` and `resume ID`: freeze and thaw every process of the container's cgroup (the init included, as runc's). */
import type { OciCommand } from '../../cli/oci-args.js';
import { setFrozen } from '../../container/freeze.js';
import type { OciContext } from './context.js';
import { loadContainer } from './load.js';

export function pause(cmd: Extract<OciCommand, { verb: 'pause' | 'resume' }>, ctx: OciContext): void {
  const { rec, status } = loadContainer(cmd.id, ctx);
  if (cmd.verb === 'pause' && status !== 'running') ctx.fail(status === 'paused' ? 'container already paused' : 'container not running');
  if (cmd.verb === 'resume' && status !== 'paused') ctx.fail('container not paused');
  const r = setFrozen(rec.cgroupDirs, cmd.verb === 'pause');
  if (!r.ok) ctx.fail(r.error);
  ctx.exit(0);
}
