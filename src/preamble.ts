/**
 * What every entry does first (src/main.ts, and src/init-main.ts, the plain
 * init's own bundle): keep NODE_DEBUG from reaching the init's Node, and
 * refuse an architecture this build does not know.
 */
import { writeStderr } from './log/log.js';
import { unsupportedArch } from './texts.js';

/**
 * NODE_DEBUG is meant for the program's Node, not the init's: Node's
 * debuglog would print through process.stderr, which switches the shared
 * stderr to O_NONBLOCK under the child. Its categories are read at start-up,
 * before any of ours; clear them before the first timer (needs the SEA's
 * --expose-internals; elsewhere there is nothing to fix).
 */
function ignoreNodeDebug(): void {
  if (!process.env.NODE_DEBUG) return;
  try {
    const req = typeof require === 'function' ? require : undefined;
    (req?.('internal/util/debuglog') as { initializeDebugEnv(v: string): void } | undefined)?.initializeDebugEnv('');
  } catch {
    // not a SEA: nothing to do
  }
}

export function preamble(): void {
  ignoreNodeDebug();
  const badArch = unsupportedArch(process.arch, process.platform);
  if (badArch) {
    writeStderr(`[FATAL tini-ts (${process.pid})] ${badArch}\n`);
    process.exit(1);
  }
}
