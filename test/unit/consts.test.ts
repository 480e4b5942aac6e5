/**
 * Every number in src/libc/consts.ts against this machine's C headers: a C
 * program prints each value as the compiler sees it, and each must equal
 * ours. Every export must have its C spelling listed here, so a constant
 * added without one fails too.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import * as consts from '../../src/libc/consts.js';
import { unmet } from '../helpers/prereq.js';

const HEADERS = [
  'sched.h', 'sys/mount.h', 'fcntl.h', 'sys/stat.h', 'sys/socket.h', 'sys/un.h', 'sys/ioctl.h', 'linux/nsfs.h',
  'net/if.h', 'sys/prctl.h', 'linux/seccomp.h', 'linux/capability.h', 'sys/resource.h', 'spawn.h', 'sys/wait.h',
  'signal.h', 'linux/filter.h', 'linux/magic.h', 'linux/limits.h', 'sys/statfs.h', 'stddef.h', 'stdint.h', 'stdio.h',
];

/** OFFSETOF's keys are `<struct>_<field>`: the C type of each struct prefix. */
const STRUCTS: Record<string, string> = {
  siginfo: 'siginfo_t', ifreq: 'struct ifreq', statfs: 'struct statfs', seccomp_data: 'struct seccomp_data',
};

/** Export name (and key, for the tables) -> the C expression of the same value. */
const C_NAME: Record<string, (key: string) => string> = {
  CLONE: (k) => `CLONE_${k}`,
  MS: (k) => `MS_${k}`,
  O: (k) => `O_${k}`,
  PR: (k) => `PR_${k}`,
  RLIMIT: (k) => k,
  POSIX_SPAWN: (k) => `POSIX_SPAWN_${k}`,
  SIZEOF: (k) => `sizeof(${k.replace(/^struct_/, 'struct ')})`,
  OFFSETOF: (k) => {
    const prefix = Object.keys(STRUCTS).find((t) => k.startsWith(`${t}_`));
    if (prefix === undefined) throw new Error(`OFFSETOF.${k}: list its struct in STRUCTS`);
    return `offsetof(${STRUCTS[prefix]}, ${k.slice(prefix.length + 1)})`;
  },
  SECCOMP_RET: (k) => `SECCOMP_RET_${k}`,
  BPF: (k) => `BPF_${k}`,
  SIG_IGN: () => '(uintptr_t)SIG_IGN',
  LINUX_CAPABILITY_VERSION_3: () => '_LINUX_CAPABILITY_VERSION_3',
};

function expected(): [label: string, ours: bigint, c: string][] {
  const rows: [string, bigint, string][] = [];
  for (const [name, value] of Object.entries(consts)) {
    if (typeof value === 'number' || typeof value === 'bigint') {
      rows.push([name, BigInt(value), (C_NAME[name] ?? (() => name))('')]);
    } else {
      const spell = C_NAME[name];
      if (!spell) throw new Error(`consts.ts exports the table ${name}: list its C spelling in this test`);
      for (const [k, v] of Object.entries(value as Record<string, number>)) rows.push([`${name}.${k}`, BigInt(v), spell(k)]);
    }
  }
  return rows;
}

const haveGcc = (() => {
  try {
    execFileSync('gcc', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(unmet(haveGcc, 'gcc and the C headers (libc6-dev)'))('consts.ts against the C headers', () => {
  it('every constant has the value the C headers give it', () => {
    const rows = expected();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tini-ts-consts-'));
    try {
      const src = [
        '#define _GNU_SOURCE',
        ...HEADERS.map((h) => `#include <${h}>`),
        'int main(void) {',
        ...rows.map(([label, , c]) => `  printf("%s %llu\\n", "${label}", (unsigned long long)(${c}));`),
        '  return 0;',
        '}',
      ].join('\n');
      fs.writeFileSync(path.join(dir, 'c.c'), src);
      execFileSync('gcc', ['-o', path.join(dir, 'c'), path.join(dir, 'c.c')], { stdio: 'pipe' });
      const out = execFileSync(path.join(dir, 'c'), { encoding: 'utf8' });
      const fromC = Object.fromEntries(out.trim().split('\n').map((l) => l.split(' ')));
      const ours = Object.fromEntries(rows.map(([label, v]) => [label, v.toString()]));
      expect(ours).toEqual(fromC);
      expect(rows.length).toBeGreaterThan(80);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
