/**
 * The OCI runtime's front door: `tini-ts [global flags] COMMAND ...` as
 * engines call runc (see cli/oci-args.ts). One file per verb; each parses
 * nothing itself, calls the container store, prints, exits.
 */
import { parseOciArgs } from '../../cli/oci-args.js';
import { writeStdout } from '../../log/log.js';
import { VERSION } from '../../texts.js';
import { createContext } from './context.js';
import { create } from './create.js';
import { del } from './delete.js';
import { exec } from './exec.js';
import { kill } from './kill.js';
import { list } from './list.js';
import { pause } from './pause.js';
import { ps } from './ps.js';
import { start } from './start.js';
import { state } from './state.js';
import { update } from './update.js';
import { spec } from './spec.js';
import { features } from './features.js';
import { events } from './events.js';

export function runOci(args: string[]): void {
  const parsed = parseOciArgs(args);
  const ctx = createContext(parsed.global);
  if (parsed.kind === 'error') return ctx.fail(parsed.message);
  const cmd = parsed.command;
  switch (cmd.verb) {
    case 'version':
      writeStdout(`tini-ts version ${VERSION}\nspec: 1.0.2\n`);
      return ctx.exit(0);
    case 'create':
      return create(cmd, ctx);
    case 'start':
      return start(cmd, ctx);
    case 'state':
      return state(cmd, ctx);
    case 'kill':
      return kill(cmd, ctx);
    case 'delete':
      return del(cmd, ctx);
    case 'list':
      return list(cmd, ctx);
    case 'ps':
      return ps(cmd, ctx);
    case 'pause':
    case 'resume':
      return pause(cmd, ctx);
    case 'exec':
      return exec(cmd, ctx);
    case 'update':
      return update(cmd, ctx);
    case 'spec':
      return spec(cmd, ctx);
    case 'features':
      return features(ctx);
    case 'events':
      return events(cmd, ctx);
  }
}
