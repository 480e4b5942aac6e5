/**
 * tini-ts entry point. In the single-executable binary process.argv is
 * [execPath, argv0, ...args]; under plain node it is [node, script, ...args].
 *
 * One binary, front doors by first argument:
 *   tini-ts [OPTIONS] [--] PROGRAM...   the init (tini's command line)
 *   tini-ts run [OPTIONS] -- PROGRAM... the launcher (namespaces, cgroup, report)
 *   tini-ts check [OPTIONS] -- PROGRAM... signal-semantics checks
 * A program literally named `run` or `check` is started with `tini-ts -- run`.
 * (The binary runs src/init-main.ts instead when argv is the plain init's:
 * build/sea-main.cjs mirrors the dispatch below.)
 */
import { runInit } from './init.js';
import { MODES } from './modes.js';
import { preamble } from './preamble.js';

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
  preamble();
  const args = process.argv.slice(2);
  const mode = MODES[args[0] ?? ''];
  if (mode) mode(args.slice(1));
  else if (isRuntimeCall(args)) MODES.oci(args);
  else runInit(args);
}

main();
