/**
 * The OCI runtime's front door: `tini-ts [global flags] COMMAND ...` as
 * engines call runc (see cli/oci-args.ts). One file per verb; each parses
 * nothing itself, calls the container store, prints, exits.
 */
import { parseOciArgs } from '../../cli/oci-args.js';
import { writeStdout } from '../../log/log.js';
import { VERSION } from '../../texts.js';
import { createContext } from './context.js';

/*
 * Each verb is loaded when called (require inside the case): every call is a
 * Node start, and `start`, `state`, `kill` or `delete` need neither the
 * runtime (launcher, root filesystem, seccomp) nor each other.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
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
      return (require('./create.js') as typeof import('./create.js')).create(cmd, ctx);
    case 'start':
      return (require('./start.js') as typeof import('./start.js')).start(cmd, ctx);
    case 'state':
      return (require('./state.js') as typeof import('./state.js')).state(cmd, ctx);
    case 'kill':
      return (require('./kill.js') as typeof import('./kill.js')).kill(cmd, ctx);
    case 'delete':
      return (require('./delete.js') as typeof import('./delete.js')).del(cmd, ctx);
    case 'list':
      return (require('./list.js') as typeof import('./list.js')).list(cmd, ctx);
    case 'ps':
      return (require('./ps.js') as typeof import('./ps.js')).ps(cmd, ctx);
    case 'pause':
    case 'resume':
      return (require('./pause.js') as typeof import('./pause.js')).pause(cmd, ctx);
    case 'exec':
      return (require('./exec.js') as typeof import('./exec.js')).exec(cmd, ctx);
    case 'update':
      return (require('./update.js') as typeof import('./update.js')).update(cmd, ctx);
    case 'spec':
      return (require('./spec.js') as typeof import('./spec.js')).spec(cmd, ctx);
    case 'features':
      return (require('./features.js') as typeof import('./features.js')).features(ctx);
    case 'events':
      return (require('./events.js') as typeof import('./events.js')).events(cmd, ctx);
  }
}
