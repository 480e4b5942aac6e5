/**
 * The linux/arm64 binary needs no libatomic.so.1 either: under qemu-user
 * with a copy of the arm64 libraries that lacks it, the binary runs its
 * program, while the arm64 Node it was built from cannot start there (the
 * copy is not vacuous); a copy of the binary whose built-in compare-exchange
 * (build/patch-node.mjs: an ldaxr/stlxr loop) starts with `brk` dies of
 * SIGTRAP at start-up, so every start runs through it.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain JS build script, no types
import { implementation } from '../../build/patch-node.mjs';
import { BASE_ENV, BIN, buildInfo, cleanup, tempDir } from '../helpers/proc.js';

afterEach(cleanup);

const ARM64 = path.join(path.dirname(BIN), 'tini-ts');
const SYSROOT = '/usr/aarch64-linux-gnu';

/** A copy of the arm64 sysroot's lib/ without libatomic. */
function sysrootWithout(): string {
  const dir = tempDir('tini-ts-arm64-sysroot-', '/var/tmp');
  fs.cpSync(path.join(SYSROOT, 'lib'), path.join(dir, 'lib'), { recursive: true, verbatimSymlinks: true });
  for (const f of fs.readdirSync(path.join(dir, 'lib'))) if (f.startsWith('libatomic')) fs.rmSync(path.join(dir, 'lib', f));
  expect(fs.readdirSync(path.join(dir, 'lib')).filter((f) => f.startsWith('libatomic'))).toEqual([]);
  expect(fs.existsSync(path.join(dir, 'lib/libstdc++.so.6'))).toBe(true);
  return dir;
}

const qemu = (sysroot: string, args: string[], env: Record<string, string> = BASE_ENV) =>
  spawnSync('/usr/bin/qemu-aarch64-static', ['-L', sysroot, ...args], { encoding: 'utf8', env, timeout: 60_000 });

describe('linux/arm64 under qemu-user: no libatomic needed', () => {
  it('runs its program with no libatomic in the libraries; the Node it was built from (Node >= 25) cannot', () => {
    const root = sysrootWithout();
    // Not -s (qemu-user refuses PR_SET_CHILD_SUBREAPER): verbosity 0 silences the warning about it.
    const r = qemu(root, [ARM64, '--', '/bin/sh', '-c', 'echo ran; exit 4'], { ...BASE_ENV, TINI_VERBOSITY: '0' });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('ran\n');
    expect(r.status).toBe(4);
    const source = buildInfo().nodeBinary;
    expect(source, 'build-info.json names the Node the build started from').toBeTruthy();
    const n = qemu(root, [source!, '-e', '1']);
    if (buildInfo().libatomicPatched) {
      expect(n.stderr).toMatch(/libatomic\.so\.1: cannot open shared object file/);
      expect(n.status).toBe(127);
    } else {
      expect(n.stderr).toBe('');
      expect(n.status).toBe(0);
    }
  });

  it('a copy whose built-in compare-exchange traps dies of SIGTRAP at start-up; the binary as built does not', () => {
    const impl = implementation(fs.readFileSync(ARM64));
    if (!buildInfo().libatomicPatched) {
      expect(impl).toBeNull();
      return;
    }
    expect(impl.arch).toBe('arm64');
    const copy = path.join(tempDir('tini-ts-arm64-trap-', '/var/tmp'), 'tini-ts');
    fs.copyFileSync(ARM64, copy);
    expect(qemu(SYSROOT, [copy, '--version']).status).toBe(0);
    const fd = fs.openSync(copy, 'r+');
    fs.writeSync(fd, Buffer.from([0x00, 0x00, 0x20, 0xd4]), 0, 4, impl.offset); // brk #0
    fs.closeSync(fd);
    expect(qemu(SYSROOT, [copy, '--version']).signal).toBe('SIGTRAP');
  });
});
