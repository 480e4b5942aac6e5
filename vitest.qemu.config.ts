/**
 * The linux/arm64 binary under qemu-user (npm run test:arm64): the init's
 * integration tests that qemu can carry, run against dist/arm64/tini-ts (npm
 * run release builds it) through test/setup/qemu-wrapper.sh's wrapper, plus
 * test/qemu/ (the arm64 binary alone: its addon from memory). Left out,
 * because Debian 12's qemu-user 7.2 cannot emulate them (each was seen to fail
 * for that reason alone, and passes on amd64):
 *  - `-s` / TINI_SUBREAPER, the (sub) and (subenv) modes: qemu rejects
 *    prctl(PR_SET_CHILD_SUBREAPER) with EINVAL;
 *  - real-time signals 34..64: qemu keeps host real-time signals for itself
 *    and shifts the guest's (40 arrives as 38);
 *  - exec failures (126/127 and their message): glibc's posix_spawn uses
 *    clone(CLONE_VM|CLONE_VFORK), which qemu emulates as fork, so the child's
 *    exec error never reaches the parent;
 *  - qemu replaces the init's argv[0] and reorders its environment, so the
 *    byte-for-byte environment test and node-argv's argv[0] tests cannot pass;
 *  - the addon tests that read the init's /proc/PID/maps: they are qemu's
 *    (test/qemu/ checks the arm64 addon from memory through qemu's maps);
 *  - grace.test.ts runs its init with -s throughout.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { configDefaults, defineConfig } from 'vitest/config';
import base from './vitest.config.js';

const root = import.meta.dirname;
const bin = path.join(root, 'dist/arm64/tini-ts');
const wrapper = path.join(root, 'dist/arm64/tini-ts-qemu');
if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: npm run release builds it`);
execFileSync('sh', [path.join(root, 'test/setup/qemu-wrapper.sh'), bin, wrapper], { stdio: 'inherit' });

const FILES = ['cli', 'doctor', 'exit-codes', 'reaping', 'signals', 'stopping', 'child-state', 'node-env'];
const QEMU_CANNOT = [
  // -s
  String.raw`\((sub|subenv)\)`,
  String.raw`warns on stderr without -s`,
  String.raw`child state: plain launch`,
  String.raw`--termination-log > (without a stop|a file that cannot be opened)`,
  // real-time signals
  String.raw`signal (3[4-9]|[4-6]\d) ->`,
  String.raw`RT 34\.\.64`,
  // the environment as qemu passes it on
  String.raw`the environment reaches the child byte for byte`,
];

export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: [...FILES.map((f) => `test/integration/${f}.test.ts`), 'test/qemu/**/*.test.ts'],
    exclude: configDefaults.exclude,
    testNamePattern: new RegExp(`^(?!.*(${QEMU_CANNOT.join('|')})).*$`),
    env: { TINI_TS_IT_BIN: wrapper },
  },
});
