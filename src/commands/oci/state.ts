/** `state ID`: the runtime-spec state JSON on stdout, and nothing else. */
import type { OciCommand } from '../../cli/oci-args.js';
import { stateJson } from '../../container/store.js';
import { writeStdout } from '../../log/log.js';
import type { OciContext } from './context.js';
import { loadContainer } from './load.js';

export function state(cmd: Extract<OciCommand, { verb: 'state' }>, ctx: OciContext): void {
  const { rec, status } = loadContainer(cmd.id, ctx);
  writeStdout(JSON.stringify(stateJson(rec, status), null, '  ') + '\n');
  ctx.exit(0);
}
