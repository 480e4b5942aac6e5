/**
 * The binary's first bundle for `tini-ts run` (build/sea-main.cjs runs it
 * before main.cjs): spawns the container's init before main.cjs is loaded,
 * when argv says enough (see container/early.ts). It never fails the run:
 * anything unexpected leaves the spawn to main.cjs.
 */
import { spawnEarly } from './container/early.js';

export function earlyStart(args: readonly string[]): void {
  try {
    spawnEarly(args);
  } catch {
    // main.cjs spawns as usual, and says what is wrong if anything is
  }
}
