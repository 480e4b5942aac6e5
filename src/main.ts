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
import { isRuntimeCall } from './cli/oci-args.js';
import { runInit } from './init.js';
import { MODES } from './modes.js';
import { preamble } from './preamble.js';


function main(): void {
  preamble();
  const args = process.argv.slice(2);
  const mode = MODES[args[0] ?? ''];
  if (mode) mode(args.slice(1));
  else if (isRuntimeCall(args, process.argv0 ?? '')) MODES.oci(args);
  else runInit(args);
}

main();
