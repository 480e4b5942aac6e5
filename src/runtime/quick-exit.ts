/**
 * Leaving the launcher or the init with _exit(2) rather than process.exit:
 * both write everything synchronously (nothing is buffered), and Node's
 * teardown (exit handlers, joining its threads, static destructors) costs
 * milliseconds that the launcher, and whoever waits for it, would spend
 * waiting. Not when a profile or coverage is being written at exit.
 */
import type { NsLibc } from '../libc/ns.js';

function writesAtExit(): boolean {
  if (process.env.NODE_V8_COVERAGE) return true;
  const opts = `${process.env.NODE_OPTIONS ?? ''} ${process.execArgv.join(' ')}`;
  return /--(cpu-prof|heap-prof|prof)\b/.test(opts);
}

export function quickExit(ns: Pick<NsLibc, 'exit'> | null, code: number): never {
  if (ns && !writesAtExit()) ns.exit(code);
  process.exit(code);
}
