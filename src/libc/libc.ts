/**
 * The real libc, through koffi. The only module that declares C prototypes.
 * Each function checks its result and reports failures as a SysError that
 * carries the errno by name (see types.ts).
 */
import type { Koffi } from './koffi-native.js';
import { lazyFunc, libcGroup } from './lazy.js';
import { ERRNO, sysError as fail } from './errno.js';
import {
  F_SETPIPE_SZ, FIONREAD, MSG_DONTWAIT, MSG_NOSIGNAL, O, OFFSETOF, P_ALL, POSIX_SPAWN, PR, RLIM_INFINITY, RLIMIT, SIG_IGN, SIG_UNBLOCK, SIZEOF,
} from './consts.js';
import { ok, type Libc, type Result, type SpawnRequest, type SysError, type WaitStatus, type WaitidInfo } from './types.js';

/** NUL-terminated copies and a final NULL: an argv or envp array. */
const cstrings = (list: Buffer[]): (Buffer | null)[] => [...list.map((a) => Buffer.concat([a, Buffer.from([0])])), null];

/** A sigset_t with the given signals set (bit n-1 for signal n). */
function sigset(sigs: number[]): Buffer {
  const set = Buffer.alloc(SIZEOF.sigset_t);
  for (const s of sigs) set[(s - 1) >> 3] |= 1 << ((s - 1) & 7);
  return set;
}

/** The bindings, made once per koffi instance (see lazy.ts). */
export const createLibc: (koffi?: Koffi) => Libc = libcGroup('libc', (_c, _errno, koffi) => bindLibc(koffi));

function bindLibc(koffi: Koffi): Libc {
  const c = koffi.load('libc.so.6');
  const self = koffi.load(null as unknown as string);
  const errno = () => koffi.errno();

  const getpid = lazyFunc(c, 'int getpid(void)');
  const getpgrp = lazyFunc(c, 'int getpgrp(void)');
  const kill = lazyFunc(c, 'int kill(int pid, int sig)');
  const waitpid = lazyFunc(c, 'int waitpid(int pid, _Out_ int *status, int options)');
  const prctl = lazyFunc(c, 'int prctl(int option, ...)');
  const tcgetpgrp = lazyFunc(c, 'int tcgetpgrp(int fd)');
  const signal = lazyFunc(c, 'void *signal(int sig, void *handler)');
  const pthreadSigmask = lazyFunc(c, 'int pthread_sigmask(int how, void *set, void *old)');
  const _exit = lazyFunc(c, 'void _exit(int status)');
  const waitid = lazyFunc(c, 'int waitid(int idtype, int id, void *infop, int options)');
  const send = lazyFunc(c, 'long send(int fd, void *buf, unsigned long len, int flags)');
  const raise = lazyFunc(c, 'int raise(int sig)');
  const ioctl = lazyFunc(c, 'int ioctl(int fd, unsigned long request, ...)');
  const fcntl = lazyFunc(c, 'int fcntl(int fd, int cmd, ...)');
  let memfdCreate: ((name: string, flags: number) => number) | undefined;
  const getrlimit = lazyFunc(c, 'int getrlimit(int resource, void *rlim)');

  const attrInit = lazyFunc(c, 'int posix_spawnattr_init(void *attr)');
  const attrDestroy = lazyFunc(c, 'int posix_spawnattr_destroy(void *attr)');
  const attrSetflags = lazyFunc(c, 'int posix_spawnattr_setflags(void *attr, short flags)');
  const attrSetpgroup = lazyFunc(c, 'int posix_spawnattr_setpgroup(void *attr, int pgroup)');
  const attrSetsigmask = lazyFunc(c, 'int posix_spawnattr_setsigmask(void *attr, void *set)');
  const attrSetsigdefault = lazyFunc(c, 'int posix_spawnattr_setsigdefault(void *attr, void *set)');
  const faInit = lazyFunc(c, 'int posix_spawn_file_actions_init(void *fa)');
  const faDestroy = lazyFunc(c, 'int posix_spawn_file_actions_destroy(void *fa)');
  const faAdddup2 = lazyFunc(c, 'int posix_spawn_file_actions_adddup2(void *fa, int fd, int newfd)');
  let faAddclosefrom: ((fa: Buffer, from: number) => number) | undefined;
  try {
    faAddclosefrom = c.func('int posix_spawn_file_actions_addclosefrom_np(void *fa, int from)');
  } catch {
    faAddclosefrom = undefined; // glibc < 2.34: inherited fds without FD_CLOEXEC pass through
  }
  let faAddtcsetpgrp: ((fa: Buffer, fd: number) => number) | undefined;
  try {
    faAddtcsetpgrp = c.func('int posix_spawn_file_actions_addtcsetpgrp_np(void *fa, int fd)');
  } catch {
    faAddtcsetpgrp = undefined; // glibc < 2.35: the child keeps the init's foreground group
  }
  // glibc >= 2.29; declared on first use (only `tini-ts run`'s workload asks for a directory).
  let faAddchdir: ((fa: Buffer, path: string) => number) | null | undefined;
  const addchdir = () => {
    if (faAddchdir === undefined) {
      try {
        faAddchdir = c.func('int posix_spawn_file_actions_addchdir_np(void *fa, const char *path)');
      } catch {
        faAddchdir = null;
      }
    }
    return faAddchdir;
  };
  const spawnp = c.func(
    'int posix_spawnp(_Out_ int *pid, const char *file, void *fa, void *attr, void **argv, void *envp)',
  );
  // An explicit environment (`tini-ts run`'s workload): envp as an array; declared on first use.
  let spawnpEnv: ((pid: number[], file: Buffer | string, fa: Buffer, attr: Buffer, argv: (Buffer | null)[], envp: (Buffer | null)[]) => number) | undefined;
  // The process's own `environ` (the executable's copy): passing it on keeps
  // the environment byte for byte, whatever its encoding.
  const environSym = self.symbol('environ');

  /** For calls that return -1 and set errno. */
  const check = (call: string, rc: number): Result<void> => (rc === -1 ? fail(call, errno()) : ok(undefined));
  /** For posix_spawn*, which return the error number itself. */
  const checkRc = (call: string, rc: number): SysError | undefined => (rc === 0 ? undefined : fail(call, rc));

  // Declared on first use: the gated spawn (an explicit file action, run on the libuv pool).
  let faAddopen: ((fa: Buffer, fd: number, path: string, oflag: number, mode: number) => number) | undefined;
  let spawnpPool: { async: (...args: unknown[]) => void } | undefined;

  /** posix_spawn's attributes and file actions for a request; `release` frees them. */
  function prepareSpawn(req: SpawnRequest): Result<{ attr: Buffer; fa: Buffer; argv: (Buffer | null)[]; file: Buffer | string; release(): void }> {
    const attr = Buffer.alloc(SIZEOF.posix_spawnattr_t);
    const fa = Buffer.alloc(SIZEOF.posix_spawn_file_actions_t);
    const e1 = checkRc('posix_spawnattr_init', attrInit(attr));
    if (e1) return e1;
    const e2 = checkRc('posix_spawn_file_actions_init', faInit(fa));
    if (e2) {
      attrDestroy(attr);
      return e2;
    }
    const release = () => {
      faDestroy(fa);
      attrDestroy(attr);
    };
    const failed = (e: SysError) => {
      release();
      return e;
    };
    let flags = POSIX_SPAWN.SETSIGMASK | POSIX_SPAWN.SETSIGDEF;
    // glibc's child runs setsid before the file actions, so the open below makes the terminal its controlling one.
    if (req.terminal !== undefined) flags |= POSIX_SPAWN.SETSID;
    else if (req.newProcessGroup) flags |= POSIX_SPAWN.SETPGROUP;
    if (req.credentials) flags |= POSIX_SPAWN.RESETIDS;
    const err =
      checkRc('posix_spawnattr_setflags', attrSetflags(attr, flags)) ??
      checkRc('posix_spawnattr_setpgroup', attrSetpgroup(attr, 0)) ??
      checkRc('posix_spawnattr_setsigmask', attrSetsigmask(attr, Buffer.alloc(SIZEOF.sigset_t))) ??
      // Every bit, not sigfillset(): glibc leaves its internal 32/33 out of
      // sigfillset, and posix_spawn would then keep them ignored in the child.
      checkRc('posix_spawnattr_setsigdefault', attrSetsigdefault(attr, Buffer.alloc(SIZEOF.sigset_t, 0xff)));
    if (err) return failed(err);
    if (req.gate !== undefined) {
      // First of all: the child waits in this open until the parent opens the pipe for writing.
      faAddopen ??= c.func('int posix_spawn_file_actions_addopen(void *fa, int fd, const char *path, int oflag, unsigned int mode)');
      const e = checkRc('posix_spawn_file_actions_addopen', faAddopen(fa, Math.max(2, ...req.passFds) + 1, `/proc/self/fd/${req.gate}`, 0 /* O_RDONLY */, 0));
      if (e) return failed(e);
    }
    if (req.terminal !== undefined) {
      faAddopen ??= c.func('int posix_spawn_file_actions_addopen(void *fa, int fd, const char *path, int oflag, unsigned int mode)');
      const e =
        checkRc('posix_spawn_file_actions_addopen', faAddopen(fa, 0, req.terminal, O.RDWR, 0)) ??
        checkRc('posix_spawn_file_actions_adddup2', faAdddup2(fa, 0, 1)) ??
        checkRc('posix_spawn_file_actions_adddup2', faAdddup2(fa, 0, 2));
      if (e) return failed(e);
    }
    for (const [i, fd] of (req.stdio ?? []).entries()) {
      const e = checkRc('posix_spawn_file_actions_adddup2', faAdddup2(fa, fd, i));
      if (e) return failed(e);
    }
    // dup2(fd, fd) clears the FD_CLOEXEC that Node sets on stdio at start-up.
    for (const fd of req.passFds) {
      if (req.terminal !== undefined && fd <= 2) continue;
      const e = checkRc('posix_spawn_file_actions_adddup2', faAdddup2(fa, fd, fd));
      if (e) return failed(e);
    }
    for (const r of req.redirect ?? []) {
      const e = checkRc('posix_spawn_file_actions_adddup2', faAdddup2(fa, r.from, r.to));
      if (e) return failed(e);
    }
    // Nothing else the init holds or inherited reaches the child.
    if (faAddclosefrom) {
      const e = checkRc('posix_spawn_file_actions_addclosefrom_np', faAddclosefrom(fa, Math.max(2, ...req.passFds) + 1));
      if (e) return failed(e);
    }
    if (req.foregroundTty && faAddtcsetpgrp) {
      const e = checkRc('posix_spawn_file_actions_addtcsetpgrp_np', faAddtcsetpgrp(fa, 0));
      if (e) return failed(e);
    }
    if (req.cwd !== undefined) {
      const chdir = addchdir();
      if (!chdir) return failed(fail('posix_spawn_file_actions_addchdir_np', ERRNO.ENOSYS));
      const e = checkRc('posix_spawn_file_actions_addchdir_np', chdir(fa, req.cwd));
      if (e) return failed(e);
    }
    const argv = cstrings(req.argv);
    return ok({ attr, fa, argv, file: req.file ?? argv[0]!, release });
  }

  // Raw system calls: glibc's wrappers would change every thread's ids (setxid broadcast). Their
  // numbers are this architecture's, looked up on first use (--user only: the plain init's start-up
  // never loads the tables).
  let rawSyscall: ((...args: unknown[]) => number) | undefined;
  const sys = (name: string, ...args: unknown[]): number => {
    rawSyscall ??= c.func('long syscall(long number, ...)') as unknown as (...args: unknown[]) => number;
    return Number(rawSyscall(syscallNumber(name), ...args));
  };
  const syscallNumber = (name: string): number => {
    try {
      return (require('./arch.js') as typeof import('./arch.js')).sysno(name);
    } catch {
      return -1; // an architecture without tables: syscall(-1) fails with ENOSYS, never throws after the spawn
    }
  };
  const getuid = lazyFunc(c, 'unsigned int getuid(void)');
  const getgid = lazyFunc(c, 'unsigned int getgid(void)');

  /**
   * --user: this thread's real uid, real gid and groups become the
   * user's (its effective ids stay root's, so it can come back); the child
   * of posix_spawn inherits them, and POSIX_SPAWN_RESETIDS sets its
   * effective ids to the real ones before exec. Returns the undo, or the error.
   */
  function becomeForSpawn(cr: { uid: number; gid: number; groups: number[] }): Result<() => Result<void>> {
    const n = sys('getgroups', 'long', 0, 'void *', null);
    if (n < 0) return fail('getgroups', errno());
    const saved = Buffer.alloc(Math.max(1, n) * 4);
    if (n > 0 && sys('getgroups', 'long', n, 'void *', saved) < 0) return fail('getgroups', errno());
    const groups = Buffer.alloc(Math.max(1, cr.groups.length) * 4);
    cr.groups.forEach((g, i) => groups.writeUInt32LE(g, i * 4));
    const ruid = getuid();
    const rgid = getgid();
    const undo = (): Result<void> => {
      const r = [
        sys('setresuid', 'long', ruid, 'long', -1, 'long', -1) === -1 ? 'setresuid' : null,
        sys('setresgid', 'long', rgid, 'long', -1, 'long', -1) === -1 ? 'setresgid' : null,
        sys('setgroups', 'long', n, 'void *', saved) === -1 ? 'setgroups' : null,
      ].find((x) => x !== null);
      return r ? fail(r, errno()) : ok(undefined);
    };
    if (sys('setgroups', 'long', cr.groups.length, 'void *', groups) === -1) return fail('setgroups', errno());
    if (sys('setresgid', 'long', cr.gid, 'long', -1, 'long', -1) === -1) {
      const e = fail('setresgid', errno());
      undo();
      return e;
    }
    if (sys('setresuid', 'long', cr.uid, 'long', -1, 'long', -1) === -1) {
      const e = fail('setresuid', errno());
      undo();
      return e;
    }
    return ok(undo);
  }

  function spawn(req: SpawnRequest): Result<number> {
    if (req.credentials) {
      const as = becomeForSpawn(req.credentials);
      if (!as.ok) return as;
      try {
        return spawnPrepared(req);
      } finally {
        // With root's effective ids kept (CAP_SETUID, CAP_SETGID), going back cannot be refused.
        as.value();
      }
    }
    return spawnPrepared(req);
  }

  function spawnPrepared(req: SpawnRequest): Result<number> {
    const p = prepareSpawn(req);
    if (!p.ok) return p;
    const { attr, fa, argv, file, release } = p.value;
    try {
      const pid = [0];
      let rc: number;
      if (req.env === undefined) rc = spawnp(pid, file, fa, attr, argv, koffi.decode(environSym, 'void *'));
      else {
        spawnpEnv ??= c.func('int posix_spawnp(_Out_ int *pid, const char *file, void *fa, void *attr, void **argv, void **envp)');
        rc = spawnpEnv(pid, file, fa, attr, argv, cstrings(req.env));
      }
      return rc === 0 ? ok(pid[0]) : fail('posix_spawnp', rc);
    } finally {
      release();
    }
  }

  /** spawn on a libuv pool thread: the main thread stays free while the child waits at its gate. */
  function spawnAsync(req: SpawnRequest & { env: Buffer[] }, done: (r: Result<number>) => void): void {
    const p = prepareSpawn(req);
    if (!p.ok) return done(p);
    const { attr, fa, argv, file, release } = p.value;
    spawnpPool ??= c.func('int posix_spawnp(void *pid, const char *file, void *fa, void *attr, void **argv, void **envp)') as unknown as typeof spawnpPool;
    const pid = Buffer.alloc(4);
    const envp = cstrings(req.env);
    spawnpPool!.async(pid, file, fa, attr, argv, envp, (e: unknown, rc: number) => {
      release();
      void envp; // kept alive until the call returns
      if (e) done(fail('posix_spawnp', ERRNO.ENOMEM));
      else done(rc === 0 ? ok(pid.readInt32LE(0)) : fail('posix_spawnp', rc));
    });
  }

  const statusOut = [0];
  const siginfo = Buffer.alloc(SIZEOF.siginfo_t);
  return {
    getpid: () => getpid(),
    getpgrp: () => getpgrp(),
    spawn,
    spawnAsync,
    kill: (pid, sig) => check('kill', kill(pid, sig)),
    waitpid(pid, options): Result<[number, WaitStatus]> {
      statusOut[0] = 0;
      const rc = waitpid(pid, statusOut, options);
      return rc === -1 ? fail('waitpid', errno()) : ok([rc, statusOut[0]]);
    },
    setChildSubreaper: () =>
      check('prctl(PR_SET_CHILD_SUBREAPER)', prctl(PR.SET_CHILD_SUBREAPER, 'unsigned long', 1, 'unsigned long', 0, 'unsigned long', 0, 'unsigned long', 0)),
    isChildSubreaper(): Result<boolean> {
      const out = Buffer.alloc(4);
      const rc = prctl(PR.GET_CHILD_SUBREAPER, 'void *', out, 'unsigned long', 0, 'unsigned long', 0, 'unsigned long', 0);
      return rc === -1 ? fail('prctl(PR_GET_CHILD_SUBREAPER)', errno()) : ok(out.readInt32LE(0) !== 0);
    },
    setParentDeathSignal: (sig) =>
      check('prctl(PR_SET_PDEATHSIG)', prctl(PR.SET_PDEATHSIG, 'unsigned long', sig, 'unsigned long', 0, 'unsigned long', 0, 'unsigned long', 0)),
    setProcessName: (name) =>
      check('prctl(PR_SET_NAME)', prctl(PR.SET_NAME, 'const char *', name.slice(0, 15), 'unsigned long', 0, 'unsigned long', 0, 'unsigned long', 0)),
    tcgetpgrp(fd): Result<number> {
      const rc = tcgetpgrp(fd);
      return rc === -1 ? fail('tcgetpgrp', errno()) : ok(rc);
    },
    ignoreSignal(sig): Result<void> {
      const prev = signal(sig, SIG_IGN);
      // SIG_ERR is (void *)-1
      return prev === -1n || prev === 0xffffffffffffffffn ? fail('signal', errno()) : ok(undefined);
    },
    exitNow(code): never {
      _exit(code);
      throw new Error('_exit returned'); // unreachable
    },
    unblockSignals(sigs): Result<void> {
      const rc = pthreadSigmask(SIG_UNBLOCK, sigset(sigs), null);
      return rc === 0 ? ok(undefined) : fail('pthread_sigmask', rc);
    },
    sendNonBlocking(fd, data): Result<number> {
      const rc = Number(send(fd, data, data.length, MSG_DONTWAIT | MSG_NOSIGNAL));
      return rc === -1 ? fail('send', errno()) : ok(rc);
    },
    raise: (sig) => check('raise', raise(sig) === 0 ? 0 : -1),
    memfd(name): Result<number> {
      memfdCreate ??= c.func('int memfd_create(const char *name, unsigned int flags)');
      const fd = memfdCreate(name, 1 /* MFD_CLOEXEC */);
      return fd === -1 ? fail('memfd_create', errno()) : ok(fd);
    },
    pipeBytes(fd): Result<number> {
      const out = Buffer.alloc(4);
      return ioctl(fd, FIONREAD, 'void *', out) === -1 ? fail('ioctl(FIONREAD)', errno()) : ok(out.readInt32LE(0));
    },
    setPipeSize(fd, bytes): Result<number> {
      const rc = fcntl(fd, F_SETPIPE_SZ, 'int', bytes);
      return rc === -1 ? fail('fcntl(F_SETPIPE_SZ)', errno()) : ok(rc);
    },
    sigpendingLimit(): Result<number> {
      const rlim = Buffer.alloc(16);
      if (getrlimit(RLIMIT.RLIMIT_SIGPENDING, rlim) === -1) return fail('getrlimit(RLIMIT_SIGPENDING)', errno());
      const cur = rlim.readBigUInt64LE(0);
      return ok(cur === RLIM_INFINITY ? Infinity : Number(cur));
    },
    waitid(options): Result<WaitidInfo> {
      siginfo.fill(0); // with WNOHANG and nothing waitable, si_pid stays 0
      const rc = waitid(P_ALL, 0, siginfo, options);
      if (rc === -1) return fail('waitid', errno());
      return ok({ pid: siginfo.readInt32LE(OFFSETOF.siginfo_si_pid), code: siginfo.readInt32LE(OFFSETOF.siginfo_si_code), status: siginfo.readInt32LE(OFFSETOF.siginfo_si_status) });
    },
  };
}
