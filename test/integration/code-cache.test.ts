/**
 * The V8 code caches the build makes (build/build.mjs, build/sea-main.cjs):
 * the plain init's (main.cache, for its own bundle init.cjs), and, when the build runs as root, the
 * runtime's own, made by running `tini-ts run -- /bin/true` once: the
 * launcher's (run.cache, for main.cjs) and the init's in the namespaces
 * (run-init.cache, for its own bundle run-init.cjs); and the launcher's for
 * a bundle (run-bundle.cache, for main.cjs) and its init's, which builds a
 * root filesystem (run-init-rootfs.cache), made by a `run --bundle`; and
 * early.cjs's, the bundle that spawns the container's init first.
 * Each must be taken by V8 for the bundle as the binary wraps it, with the
 * binary's V8 flags: a rejected cache costs every start its compilation.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildInfo, ROOT, requireBinary } from '../helpers/proc.js';
import { unmet } from '../helpers/prereq.js';

const DIST = path.join(ROOT, 'dist');
// The flags of the binary (build/build.mjs execArgv); V8 hashes some of them into a cache.
const FLAGS = ['--disable-sigusr1', '--expose-internals', '--no-warnings', '--v8-pool-size=1', '--single-threaded-gc', '--openssl-config=/dev/null'];

beforeAll(() => requireBinary());

/** Whether V8 rejects FILE as the cache of dist/SCRIPT wrapped as sea-main.cjs wraps it. */
function rejected(file: string, script = 'main.cjs'): boolean {
  const check = `const fs = require('node:fs');
    const s = new (require('node:vm').Script)('(function (exports, require, module, __filename, __dirname) {' + fs.readFileSync(process.argv[1], 'utf8') + '\\n})',
      { cachedData: fs.readFileSync(process.argv[2]) });
    process.stdout.write(String(s.cachedDataRejected));`;
  // The Node the binary was built from (a cache is only for the V8 that made it), else the pinned one.
  return execFileSync(buildInfo(path.join(DIST, 'tini-ts')).nodeBinary ?? process.execPath, [...FLAGS, '-e', check, path.join(DIST, script), file], { env: {} }).toString() !== 'false';
}

describe('the code caches in the binary', () => {
  it("the plain init's is taken", () => {
    expect(rejected(path.join(DIST, 'main.cache'), 'init.cjs')).toBe(false);
  });

  it.skipIf(unmet(process.getuid?.() === 0, 'root (the build makes the runtime caches as root only)'))(
    "the launcher's and the namespaced init's, made by a run at build time, are taken",
    () => {
      // run-bundle.cache: the launcher's for a bundle (`run --bundle`, OCI create), made by a bundle run.
      for (const [name, script] of [['run.cache', 'main.cjs'], ['run-bundle.cache', 'main.cjs'], ['run-init.cache', 'run-init.cjs'], ['run-init-rootfs.cache', 'run-init.cjs']]) {
        const file = path.join(DIST, name);
        expect(fs.existsSync(file) && fs.statSync(file).size > 0, `${name} (built as root?)`).toBe(true);
        expect(rejected(file, script), name).toBe(false);
      }
      // early.cjs's (run's and OCI create's early spawn of the init): the bundle run's, else the plain run's.
      const early = ['run-bundle.cache.early', 'run.cache.early'].map((f) => path.join(DIST, f)).find((f) => fs.existsSync(f) && fs.statSync(f).size > 0);
      expect(early, 'an early.cjs cache').toBeDefined();
      expect(rejected(early!, 'early.cjs')).toBe(false);
    },
  );

  it("the container's init has a bundle of its own, with none of the launcher's and the verbs' code (it is on the path from `run` to the workload)", () => {
    const own = fs.readFileSync(path.join(DIST, 'run-init.cjs'), 'utf8');
    expect(own).toMatch(/function runNsInit\b/);
    expect(own).toMatch(/function supervise\b/);
    for (const f of ['runLauncher', 'createContainer', 'parseRunArgs', 'runOci']) expect(own, f).not.toMatch(new RegExp(`function ${f}\\b`));
    expect(fs.readFileSync(path.join(DIST, 'main.cjs'), 'utf8')).toMatch(/function runLauncher\b/);
  });
});
