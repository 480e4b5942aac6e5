/**
 * System calls a container needs besides namespaces (ns.ts): device nodes,
 * pivot_root, resource limits, credentials, capabilities, no_new_privs,
 * seccomp; the workload is then started with libc.ts's spawn (given its
 * environment and working directory). Only `tini-ts run`'s container init
 * loads this file; the plain init never declares (or pays for) these prototypes.
 *
 * Per-thread on purpose: credentials (setresuid/setresgid/setgroups) go
 * through syscall(2) rather than glibc's wrappers, which broadcast the change
 * to every thread of the process. The capability bounding set, capset(2),
 * no_new_privs and the seccomp filter are per thread in the kernel anyway.
 * Who changes which threads is said by the caller: `thisThread` (the exec
 * verb: its main thread, which then spawns the process) or `everyThread`
 * (the container's init: all of its threads, see every-thread.ts), each
 * running a list of `threadCalls`. Every call returns a Result carrying the
 * errno by name.
 */
import type { Koffi } from './koffi-native.js';
import { lazyFunc, libcGroup } from './lazy.js';
import { sysError as fail } from './errno.js';
import { ok, type Result } from './types.js';
import { sysno } from './arch.js';
import { bindEveryThread, bindThisThread, type ThreadCall } from './every-thread.js';
import { LINUX_CAPABILITY_VERSION_3, MNT_DETACH, PR, RLIM_INFINITY, SECCOMP_MODE_FILTER, SECCOMP_SET_MODE_FILTER, SIZEOF } from './consts.js';

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
  /** prctl(PR_SET_DUMPABLE): process-wide (the mm's flag), unlike the rest. */
  setDumpable(on: boolean): Result<void>;
  /**
   * prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, prog), or seccomp(SECCOMP_SET_MODE_FILTER,
   * flags, prog) when there are SECCOMP_FILTER_FLAG_* flags: the calling thread only.
   */
  installSeccomp(program: Buffer, flags?: number): Result<void>;
  /**
   * uv_loop_fork(uv_default_loop()): Node's event loop gets a new epoll
   * descriptor, and an io_uring for its epoll changes only if the seccomp
   * filter now in place allows one (libuv aborts when a ring made before the
   * filter is refused). libuv meant it for a forked child; here no other
   * thread may use the loop meanwhile (the init has put nothing on the pool by then).
   */
  renewEventLoop(): Result<void>;
  /** The calls on the calling thread, in order; the first that fails stops them. */
  thisThread(calls: ThreadCall[]): Result<void>;
  /** The calls on every thread of the process (see every-thread.ts); the number of threads. */
  everyThread(calls: ThreadCall[]): Result<number>;
}

/** SECCOMP_FILTER_FLAG_TSYNC: the filter on every thread of the process, or on none (seccomp(2) names the thread that cannot take it). */
export const SECCOMP_FILTER_FLAG_TSYNC = 1;

/** The per-thread calls (see ContainerLibc.thisThread/everyThread), by name. */
export const threadCalls = {
  /** write(fd, "0"): the thread joins a cgroup v1 hierarchy through its `tasks` file (a thread that moves itself takes no global lock). */
  joinTasks: (fd: number, file: string): ThreadCall => ({ call: `write(${file})`, nr: sysno('write'), args: [fd, Buffer.from('0'), 1] }),
  /** EINVAL (a capability this kernel lacks) counts as done. */
  dropBounding: (cap: number): ThreadCall => ({ call: `prctl(PR_CAPBSET_DROP, ${cap})`, nr: sysno('prctl'), args: [PR.CAPBSET_DROP, cap], tolerate: ['EINVAL'] }),
  setKeepCaps: (on: boolean): ThreadCall => ({ call: 'prctl(PR_SET_KEEPCAPS)', nr: sysno('prctl'), args: [PR.SET_KEEPCAPS, on ? 1 : 0] }),
  setgroups(gids: number[]): ThreadCall {
    const b = Buffer.alloc(Math.max(4, gids.length * 4));
    gids.forEach((g, i) => b.writeUInt32LE(g, i * 4));
    return { call: 'setgroups', nr: sysno('setgroups'), args: [gids.length, b] };
  },
  setresgid: (gid: number): ThreadCall => ({ call: 'setresgid', nr: sysno('setresgid'), args: [gid, gid, gid] }),
  setresuid: (uid: number): ThreadCall => ({ call: 'setresuid', nr: sysno('setresuid'), args: [uid, uid, uid] }),
  capset(sets: CapSets): ThreadCall {
    const header = Buffer.alloc(8);
    header.writeUInt32LE(LINUX_CAPABILITY_VERSION_3, 0);
    const data = Buffer.alloc(24);
    for (let i = 0; i < 2; i++) {
      data.writeUInt32LE(sets.effective[i] >>> 0, i * 12);
      data.writeUInt32LE(sets.permitted[i] >>> 0, i * 12 + 4);
      data.writeUInt32LE(sets.inheritable[i] >>> 0, i * 12 + 8);
    }
    return { call: 'capset', nr: sysno('capset'), args: [header, data] };
  },
  /** EPERM and EINVAL count as done, as runc ignores them: an ambient capability must also be permitted and inheritable. */
  raiseAmbient: (cap: number): ThreadCall => ({ call: `prctl(PR_CAP_AMBIENT_RAISE, ${cap})`, nr: sysno('prctl'), args: [PR.CAP_AMBIENT, PR.CAP_AMBIENT_RAISE, cap, 0, 0], tolerate: ['EPERM', 'EINVAL'] }),
  setNoNewPrivs: (): ThreadCall => ({ call: 'prctl(PR_SET_NO_NEW_PRIVS)', nr: sysno('prctl'), args: [PR.SET_NO_NEW_PRIVS, 1, 0, 0, 0] }),
};

export const createContainerLibc: (koffi?: Koffi) => ContainerLibc = libcGroup('container', (c, errno, koffi) => {
  // This architecture's numbers (throws one line on an architecture tini-ts does not know).
  const SYS_PIVOT_ROOT = sysno('pivot_root');
  const SYS_SECCOMP = sysno('seccomp');
  const mknod = lazyFunc(c, 'int mknod(const char *path, unsigned int mode, unsigned long dev)');
  const chdir = lazyFunc(c, 'int chdir(const char *path)');
  const umount2 = lazyFunc(c, 'int umount2(const char *target, int flags)');
  const setrlimit = lazyFunc(c, 'int setrlimit(int resource, void *rlim)');
  const syscall = lazyFunc(c, 'long syscall(long number, ...)');
  const prctl = lazyFunc(c, 'int prctl(int option, ...)');
  const prlimit = lazyFunc(c, 'int prlimit(int pid, int resource, void *new_limit, void *old_limit)');
  // Declared when first used (seccomp, the loop's renewal): the group is bound on every init's path.
  let fprog: unknown = null;
  const fprogPtr = () => (fprog ??= koffi.pointer(koffi.struct('tini_ts_sock_fprog', { len: 'unsigned short', filter: 'void *' })));
  let uv: { defaultLoop: () => unknown; loopFork: (loop: unknown) => number } | null = null;
  const libuv = () => {
    if (uv) return uv;
    const self = koffi.load(null);
    return (uv = { defaultLoop: self.func('void *uv_default_loop(void)'), loopFork: self.func('int uv_loop_fork(void *loop)') });
  };
  const thisThread = bindThisThread(c, errno);
  const everyThread = bindEveryThread(c, errno, koffi);

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
    setDumpable: (on) => pr('prctl(PR_SET_DUMPABLE)', PR.SET_DUMPABLE, on ? 1 : 0),
    installSeccomp(program, flags = 0) {
      const prog = { len: program.length / 8, filter: program };
      if (flags !== 0) {
        const rc = Number(syscall(SYS_SECCOMP, 'long', SECCOMP_SET_MODE_FILTER, 'long', flags, fprogPtr(), prog));
        // With TSYNC, a positive return names a thread that could not take the filter (none took it).
        if (rc > 0) return fail(`seccomp(SECCOMP_FILTER_FLAG_TSYNC): thread ${rc}`, 16);
        return check('seccomp(SECCOMP_SET_MODE_FILTER)', rc);
      }
      return check('prctl(PR_SET_SECCOMP)', prctl(PR.SET_SECCOMP, 'unsigned long', SECCOMP_MODE_FILTER, fprogPtr(), prog, 'unsigned long', 0, 'unsigned long', 0));
    },
    renewEventLoop() {
      const rc = libuv().loopFork(libuv().defaultLoop());
      return rc === 0 ? ok(undefined) : fail('uv_loop_fork', -rc);
    },
    thisThread,
    everyThread,
  };
});
