/**
 * System calls a container needs besides namespaces (ns.ts): device nodes,
 * pivot_root, resource limits, credentials, capabilities, no_new_privs,
 * seccomp; the workload is then started with libc.ts's spawn (given its
 * environment and working directory). Only `tini-ts run`'s re-executed init
 * loads this file; the plain init never declares (or pays for) these prototypes.
 *
 * Per-thread on purpose: credentials (setresuid/setresgid/setgroups) go
 * through syscall(2) rather than glibc's wrappers, which broadcast the change
 * to every thread of the process. The init's set-up stage changes only its
 * main thread, then execs (fexecve) into the supervising stage: exec leaves
 * that one thread, so every thread the supervisor later has starts with the
 * workload's credentials, capabilities, no_new_privs, seccomp filter and
 * cgroups. The same holds for the capability bounding set, capset(2) and the
 * seccomp filter (installed without SECCOMP_FILTER_FLAG_TSYNC), which the
 * kernel keeps per thread anyway. Every call returns a Result carrying the
 * errno by name.
 */
import type { Koffi } from './koffi-native.js';
import { libcGroup } from './lazy.js';
import { sysError as fail } from './errno.js';
import { ok, type Result } from './types.js';
import { sysno } from './arch.js';
import { F_SETFD, LINUX_CAPABILITY_VERSION_3, MNT_DETACH, PR, RLIM_INFINITY, SECCOMP_MODE_FILTER, SECCOMP_SET_MODE_FILTER, SIZEOF } from './consts.js';

/** RLIM_INFINITY, as a JS number: anything at or above 2^63 means unlimited. */
const UNLIMITED = 2 ** 64 - 1;

export interface CapSets {
  effective: [number, number];
  permitted: [number, number];
  inheritable: [number, number];
}

export interface ContainerLibc {
  mknod(path: string, mode: number, major: number, minor: number): Result<void>;
  /** chdir(newRoot); pivot_root(".", "."); umount2(".", MNT_DETACH); chdir("/") */
  pivotRoot(newRoot: string): Result<void>;
  chdir(path: string): Result<void>;
  setrlimit(resource: number, soft: number, hard: number): Result<void>;
  /** prlimit(pid, resource, new, old): sets (unless `set` is null) and returns the old limits (0: this process). */
  prlimit(pid: number, resource: number, set: { soft: number; hard: number } | null): Result<{ soft: number; hard: number }>;
  /** Calling thread only. */
  setgroups(gids: number[]): Result<void>;
  setresgid(gid: number): Result<void>;
  setresuid(uid: number): Result<void>;
  setKeepCaps(on: boolean): Result<void>;
  /** prctl(PR_SET_DUMPABLE): process-wide (the mm's flag), unlike the rest. */
  setDumpable(on: boolean): Result<void>;
  dropBounding(cap: number): Result<void>;
  capset(sets: CapSets): Result<void>;
  raiseAmbient(cap: number): Result<void>;
  setNoNewPrivs(): Result<void>;
  /**
   * prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, prog), or seccomp(SECCOMP_SET_MODE_FILTER,
   * flags, prog) when there are SECCOMP_FILTER_FLAG_* flags: the calling thread only.
   */
  installSeccomp(program: Buffer, flags?: number): Result<void>;
  /** fcntl(F_SETFD, 0): the descriptor survives exec. */
  keepOnExec(fd: number): Result<void>;
  /** fexecve(fd, argv, envp): returns only on failure. */
  fexecve(fd: number, argv: Buffer[], env: Buffer[]): Result<never>;
}

const cstrings = (list: Buffer[]): (Buffer | null)[] => [...list.map((a) => Buffer.concat([a, Buffer.from([0])])), null];

export const createContainerLibc: (koffi?: Koffi) => ContainerLibc = libcGroup((c, errno, koffi) => {
  // This architecture's numbers (throws one line on an architecture tini-ts does not know).
  const SYS_SETGROUPS = sysno('setgroups');
  const SYS_SETRESUID = sysno('setresuid');
  const SYS_SETRESGID = sysno('setresgid');
  const SYS_CAPSET = sysno('capset');
  const SYS_PIVOT_ROOT = sysno('pivot_root');
  const SYS_SECCOMP = sysno('seccomp');
  const mknod = c.func('int mknod(const char *path, unsigned int mode, unsigned long dev)');
  const chdir = c.func('int chdir(const char *path)');
  const umount2 = c.func('int umount2(const char *target, int flags)');
  const setrlimit = c.func('int setrlimit(int resource, void *rlim)');
  const syscall = c.func('long syscall(long number, ...)');
  const prctl = c.func('int prctl(int option, ...)');
  const fcntl = c.func('int fcntl(int fd, int cmd, int arg)');
  const prlimit = c.func('int prlimit(int pid, int resource, void *new_limit, void *old_limit)');
  const fexecve = c.func('int fexecve(int fd, void **argv, void **envp)');
  const fprog = koffi.struct('tini_ts_sock_fprog', { len: 'unsigned short', filter: 'void *' });
  const fprogPtr = koffi.pointer(fprog);

  const check = (call: string, rc: number | bigint): Result<void> => (Number(rc) === -1 ? fail(call, errno()) : ok(undefined));
  const ul = (v: number) => ['unsigned long', v] as const;
  const pr = (call: string, option: number, a = 0, b = 0, c2 = 0, d = 0) =>
    check(call, prctl(option, ...ul(a), ...ul(b), ...ul(c2), ...ul(d)));

  return {
    mknod(path, mode, major, minor) {
      const dev = ((major & 0xfff) << 8) | (minor & 0xff) | ((minor & ~0xff) << 12);
      return check(`mknod(${path})`, mknod(path, mode, dev));
    },
    pivotRoot(newRoot) {
      if (chdir(newRoot) === -1) return fail(`chdir(${newRoot})`, errno());
      if (Number(syscall(SYS_PIVOT_ROOT, 'const char *', '.', 'const char *', '.')) === -1) return fail('pivot_root', errno());
      // The old root is now stacked under the new one at "."; detach it.
      if (umount2('.', MNT_DETACH) === -1) return fail('umount2(old root)', errno());
      return check('chdir(/)', chdir('/'));
    },
    chdir: (path) => check(`chdir(${path})`, chdir(path)),
    setrlimit(resource, soft, hard) {
      const b = Buffer.alloc(SIZEOF.struct_rlimit);
      const big = (v: number) => (v >= 2 ** 63 ? RLIM_INFINITY : BigInt(v));
      b.writeBigUInt64LE(big(soft), 0);
      b.writeBigUInt64LE(big(hard), 8);
      return check('setrlimit', setrlimit(resource, b));
    },
    prlimit(pid, resource, set) {
      const big = (v: number) => (v >= 2 ** 63 ? RLIM_INFINITY : BigInt(v));
      const num = (v: bigint) => (v >= 2n ** 63n ? UNLIMITED : Number(v));
      let b: Buffer | null = null;
      if (set) {
        b = Buffer.alloc(SIZEOF.struct_rlimit);
        b.writeBigUInt64LE(big(set.soft), 0);
        b.writeBigUInt64LE(big(set.hard), 8);
      }
      const old = Buffer.alloc(SIZEOF.struct_rlimit);
      if (prlimit(pid, resource, b, old) === -1) return fail(`prlimit(${pid})`, errno());
      return ok({ soft: num(old.readBigUInt64LE(0)), hard: num(old.readBigUInt64LE(8)) });
    },
    setgroups(gids) {
      const b = Buffer.alloc(Math.max(4, gids.length * 4));
      gids.forEach((g, i) => b.writeUInt32LE(g, i * 4));
      return check('setgroups', syscall(SYS_SETGROUPS, 'long', gids.length, 'void *', b));
    },
    setresgid: (gid) => check('setresgid', syscall(SYS_SETRESGID, 'long', gid, 'long', gid, 'long', gid)),
    setresuid: (uid) => check('setresuid', syscall(SYS_SETRESUID, 'long', uid, 'long', uid, 'long', uid)),
    setKeepCaps: (on) => pr('prctl(PR_SET_KEEPCAPS)', PR.SET_KEEPCAPS, on ? 1 : 0),
    setDumpable: (on) => pr('prctl(PR_SET_DUMPABLE)', PR.SET_DUMPABLE, on ? 1 : 0),
    dropBounding: (cap) => pr(`prctl(PR_CAPBSET_DROP, ${cap})`, PR.CAPBSET_DROP, cap),
    capset(sets) {
      const header = Buffer.alloc(8);
      header.writeUInt32LE(LINUX_CAPABILITY_VERSION_3, 0);
      const data = Buffer.alloc(24);
      for (let i = 0; i < 2; i++) {
        data.writeUInt32LE(sets.effective[i] >>> 0, i * 12);
        data.writeUInt32LE(sets.permitted[i] >>> 0, i * 12 + 4);
        data.writeUInt32LE(sets.inheritable[i] >>> 0, i * 12 + 8);
      }
      return check('capset', syscall(SYS_CAPSET, 'void *', header, 'void *', data));
    },
    raiseAmbient: (cap) => pr(`prctl(PR_CAP_AMBIENT_RAISE, ${cap})`, PR.CAP_AMBIENT, PR.CAP_AMBIENT_RAISE, cap),
    setNoNewPrivs: () => pr('prctl(PR_SET_NO_NEW_PRIVS)', PR.SET_NO_NEW_PRIVS, 1),
    installSeccomp(program, flags = 0) {
      const prog = { len: program.length / 8, filter: program };
      if (flags !== 0) {
        return check('seccomp(SECCOMP_SET_MODE_FILTER)', syscall(SYS_SECCOMP, 'long', SECCOMP_SET_MODE_FILTER, 'long', flags, fprogPtr, prog));
      }
      return check('prctl(PR_SET_SECCOMP)', prctl(PR.SET_SECCOMP, 'unsigned long', SECCOMP_MODE_FILTER, fprogPtr, prog, 'unsigned long', 0, 'unsigned long', 0));
    },
    keepOnExec: (fd) => check('fcntl(F_SETFD)', fcntl(fd, F_SETFD, 0)),
    fexecve(fd, argv, env) {
      fexecve(fd, cstrings(argv), cstrings(env));
      return fail('fexecve', errno());
    },
  };
});
