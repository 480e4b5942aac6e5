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

/**
 * An engine's call (containerd, Docker, Podman drive runc's command line):
 * the binary installed under a name with `runc` in it, or a first argument
 * that is one of runc's global flags (tini's own flags are none of them).
 */
const RUNTIME_FLAG = /^--?(root|log|log-format|systemd-cgroup|criu|rootless)(=|$)/;
function isRuntimeCall(args: string[]): boolean {
  const name = (process.argv0 ?? '').split('/').pop() ?? '';
  return name.includes('runc') || RUNTIME_FLAG.test(args[0] ?? '');
}

function main(): void {
  ignoreNodeDebug();
  const badArch = unsupportedArch(process.arch, process.platform);
  if (badArch) {
    writeStderr(`[FATAL tini-ts (${process.pid})] ${badArch}\n`);
    process.exit(1);
  }
  const args = process.argv.slice(2);
  const mode = MODES[args[0] ?? ''];
  if (mode) mode(args.slice(1));
  else if (isRuntimeCall(args)) MODES.oci(args);
  else runInit(args);
}

main();
