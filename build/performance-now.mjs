/**
 * Injected by build/build.mjs, which compiles every `performance.now()` of the
 * bundle to `__performanceNow()`: the same clock (Node's own implementation,
 * same origin), without what the global `performance` costs on first use,
 * which is loading perf_hooks and ten internal modules, about 1 ms. The init
 * first reads the clock when its child exits or a signal comes in, so that
 * millisecond landed on the exit and signal latencies (test/bench/NOTES.md).
 * Needs --expose-internals (the binary has it); without it, the global.
 */
let now;

export function __performanceNow() {
  if (now === undefined) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      now = require('internal/perf/utils').now;
    } catch {
      now = () => globalThis.performance.now();
    }
  }
  return now();
}
