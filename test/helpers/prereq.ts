/**
 * The one place that decides whether a test may be skipped for a missing
 * prerequisite. Use: `describe.skipIf(unmet(canRun, 'root and ...'))(...)`
 * or `it.skipIf(unmet(...))`.
 *
 * Without CI a missing prerequisite skips (a developer's machine may lack
 * root or a package). With CI=true it does not: the skip still happens, but
 * a failing test naming the prerequisite is registered in its place, so a
 * suite can never pass green having tested nothing, unless the skip is on
 * the short list below, each with its reason.
 */
import { it } from 'vitest';

export const ALLOWED_SKIPS = {
  'cgroup-v2-on-v1-host':
    'tests of cgroup v2 behaviour need the unified hierarchy; on a host that binds the controllers to v1 they run in the VM stage (npm run test:vm), which boots a v2-only guest',
  'acceptance-suite-outside-repo':
    "the shared black-box acceptance suite is not part of this repository (npm run acceptance runs it where it is checked out beside it); a clean CI checkout does not have it",
  'vm-stage-inside-guest':
    'the VM stage boots a guest; inside that guest (TINI_TS_IN_VM=1) it does not boot another one',
} as const;

export type AllowedSkip = keyof typeof ALLOWED_SKIPS;

export const inCi = (): boolean => /^(1|true|yes)$/i.test(process.env.CI ?? '');

/**
 * true (skip) when `ok` is false. With CI=true and no `allowed` reason, also
 * registers a test that fails with "missing prerequisite: WHAT".
 */
export function unmet(ok: boolean, what: string, allowed?: AllowedSkip): boolean {
  if (ok) return false;
  if (inCi() && allowed === undefined) {
    it(`missing prerequisite: ${what}`, () => {
      throw new Error(`missing prerequisite: ${what} (CI=true: a skip is a failure unless listed in test/helpers/prereq.ts ALLOWED_SKIPS)`);
    });
  }
  return true;
}
