/**
 * tini-ts entry point. In the single-executable binary process.argv is
 * [execPath, argv0, ...args]; under plain node it is [node, script, ...args].
 */
import { runInit } from './init.js';

function main(): void {
  const args = process.argv.slice(2);
  runInit(args);
}

main();
