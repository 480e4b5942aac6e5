/**
 * The struct sizes, offsets and constants src/libc/libc.ts hands to glibc
 * (from src/libc/consts.ts, one set for both), checked against each
 * architecture's own headers: a C file of static
 * assertions compiled with this machine's gcc (x86_64) and with Debian's
 * aarch64 cross compiler (gcc-aarch64-linux-gnu, libc6-dev-arm64-cross).
 * Compiled only, never run: the compiler computes the layouts.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  F_SETPIPE_SZ, FIONREAD, MSG_DONTWAIT, MSG_NOSIGNAL, O, OFFSETOF, P_ALL, POSIX_SPAWN, PR, RLIMIT, SIG_UNBLOCK, SIZEOF,
} from '../../src/libc/consts.js';
import { unmet } from '../helpers/prereq.js';

const COMPILERS = { x64: 'x86_64-linux-gnu-gcc', arm64: 'aarch64-linux-gnu-gcc' } as const;

/** What libc.ts passes as raw buffers; the same numbers must hold on both architectures. */
const LAYOUT = {
  posix_spawnattr_t: SIZEOF.posix_spawnattr_t,
  posix_spawn_file_actions_t: SIZEOF.posix_spawn_file_actions_t,
  sigset_t: SIZEOF.sigset_t,
  siginfo_t: SIZEOF.siginfo_t,
  si_code: OFFSETOF.siginfo_si_code,
  si_pid: OFFSETOF.siginfo_si_pid,
  si_status: OFFSETOF.siginfo_si_status,
  rlimit: SIZEOF.struct_rlimit,
  rlim_cur: 0,
};
const LAYOUTS: Record<keyof typeof COMPILERS, typeof LAYOUT> = { x64: LAYOUT, arm64: LAYOUT };

/** The flags and numbers libc.ts passes, by their C names. */
const CONSTANTS: Record<string, number> = {
  ...Object.fromEntries(Object.entries(POSIX_SPAWN).map(([k, v]) => [`POSIX_SPAWN_${k}`, v])),
  O_RDWR: O.RDWR,
  P_ALL,
  MSG_DONTWAIT,
  MSG_NOSIGNAL,
  PR_SET_PDEATHSIG: PR.SET_PDEATHSIG,
  PR_SET_NAME: PR.SET_NAME,
  PR_SET_CHILD_SUBREAPER: PR.SET_CHILD_SUBREAPER,
  PR_GET_CHILD_SUBREAPER: PR.GET_CHILD_SUBREAPER,
  SIG_UNBLOCK,
  FIONREAD,
  F_SETPIPE_SZ,
  RLIMIT_SIGPENDING: RLIMIT.RLIMIT_SIGPENDING,
};
const has = (cc: string) => spawnSync(cc, ['--version']).status === 0;

/** C expressions for each layout field. */
const EXPR: Record<keyof typeof LAYOUT, string> = {
  posix_spawnattr_t: 'sizeof(posix_spawnattr_t)',
  posix_spawn_file_actions_t: 'sizeof(posix_spawn_file_actions_t)',
  sigset_t: 'sizeof(sigset_t)',
  siginfo_t: 'sizeof(siginfo_t)',
  si_code: 'offsetof(siginfo_t, si_code)',
  si_pid: 'offsetof(siginfo_t, si_pid)',
  si_status: 'offsetof(siginfo_t, si_status)',
  rlimit: 'sizeof(struct rlimit)',
  rlim_cur: 'offsetof(struct rlimit, rlim_cur)',
};

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tini-ts-layout-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function source(layout: Record<string, number>, constants: Record<string, number>): string {
  return [
    '#define _GNU_SOURCE',
    ...['stddef.h', 'spawn.h', 'signal.h', 'sys/wait.h', 'sys/socket.h', 'sys/prctl.h', 'sys/ioctl.h', 'fcntl.h', 'sys/resource.h'].map((h) => `#include <${h}>`),
    ...Object.entries(layout).map(([k, v]) => `_Static_assert(${EXPR[k as keyof typeof EXPR]} == ${v}, "${k} is not ${v}");`),
    ...Object.entries(constants).map(([k, v]) => `_Static_assert(${k} == ${v}, "${k} is not ${v}");`),
  ].join('\n');
}

/** Compiles the assertions for ARCH; the compiler's errors, or '' when they all hold. */
function check(arch: keyof typeof COMPILERS, layout: Record<string, number>, constants: Record<string, number> = CONSTANTS): string {
  const file = path.join(dir, `${arch}-${Math.random().toString(36).slice(2)}.c`);
  fs.writeFileSync(file, source(layout, constants));
  const r = spawnSync(COMPILERS[arch], ['-fsyntax-only', '-Wall', file], { encoding: 'utf8' });
  return r.status === 0 ? '' : r.stderr || String(r.error);
}

describe.each(Object.keys(COMPILERS) as (keyof typeof COMPILERS)[])('glibc layouts on %s', (arch) => {
  describe.skipIf(unmet(has(COMPILERS[arch]), `${COMPILERS[arch]} (test/setup/install-deps.sh installs it)`))('', () => {
    it('every size, offset and constant the init uses holds for this architecture', () => {
      expect(check(arch, LAYOUTS[arch])).toBe('');
    });

    it('a wrong value is caught (the check is not vacuous)', () => {
      expect(check(arch, { ...LAYOUTS[arch], si_pid: 12 })).toMatch(/si_pid is not 12/);
      expect(check(arch, LAYOUTS[arch], { ...CONSTANTS, F_SETPIPE_SZ: 1032 })).toMatch(/F_SETPIPE_SZ is not 1032/);
    });
  });
});
