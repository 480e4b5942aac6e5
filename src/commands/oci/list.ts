/** `list [--format table|json] [-q]`: every container under --root. */
import type { OciCommand } from '../../cli/oci-args.js';
import { stateJson } from '../../container/store.js';
import { writeStdout } from '../../log/log.js';
import type { OciContext } from './context.js';
import { currentStatus } from './load.js';

export function list(cmd: Extract<OciCommand, { verb: 'list' }>, ctx: OciContext): void {
  const states = ctx.store.ids().flatMap((id) => {
    const rec = ctx.store.read(id);
    return rec ? [stateJson(rec, currentStatus(rec, ctx))] : [];
  });
  if (cmd.quiet) writeStdout(states.map((s) => `${s.id}\n`).join(''));
  else if (cmd.format === 'json') writeStdout(JSON.stringify(states) + '\n');
  else {
    const rows = [['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER'], ...states.map((s) => [s.id, s.pid, s.status, s.bundle, s.created, s.owner].map(String))];
    const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
    writeStdout(rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] + 3))).join('').trimEnd() + '\n').join(''));
  }
  ctx.exit(0);
}
