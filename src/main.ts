/**
 * tini-ts entry point. In the single-executable binary process.argv is
 * [execPath, argv0, ...args]; under plain node it is [node, script, ...args].
 *
 * One binary, front doors by first argument:
 *   tini-ts [OPTIONS] [--] PROGRAM...   the init (tini's command line)
 *   tini-ts run [OPTIONS] -- PROGRAM... the launcher (namespaces, cgroup, report)
 *   tini-ts check [OPTIONS] -- PROGRAM... signal-semantics checks
 * A program literally named `run` or `check` is started with `tini-ts -- run`.
 */
import { runInit } from './init.js';
import { MODES } from './modes.js';

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

function main(): void {
  ignoreNodeDebug();
  const args = process.argv.slice(2);
  const mode = MODES[args[0] ?? ''];
  if (mode) mode(args.slice(1));
  else runInit(args);
}

main();
