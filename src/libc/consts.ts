/**
 * The kernel's and glibc's numbers, once: flags, request codes and the sizes
 * of the C structures handed to libc. Every other module imports them from
 * here, and test/unit/consts.test.ts checks each value against this
 * machine's C headers (compiled with gcc), so a typo cannot hide. System call
 * numbers are per architecture and live in syscall-tables.ts (arch.ts).
 *
 * Values are those of Linux on x86_64 and aarch64 with glibc; where the two
 * differ (a few O_* flags), `O` takes the running one's.
 */

/** <sched.h> clone(2) / unshare(2) / setns(2) flags. */
export const CLONE = {
  FS: 0x00000200,
  NEWTIME: 0x00000080,
  NEWNS: 0x00020000,
  NEWCGROUP: 0x02000000,
  NEWUTS: 0x04000000,
  NEWIPC: 0x08000000,
  NEWUSER: 0x10000000,
  NEWPID: 0x20000000,
  NEWNET: 0x40000000,
} as const;

/** <sys/mount.h> mount(2) flags. */
export const MS = {
  RDONLY: 0x1, NOSUID: 0x2, NODEV: 0x4, NOEXEC: 0x8, SYNCHRONOUS: 0x10, REMOUNT: 0x20, MANDLOCK: 0x40,
  DIRSYNC: 0x80, NOATIME: 0x400, NODIRATIME: 0x800, BIND: 0x1000, REC: 0x4000, PRIVATE: 0x40000,
  SLAVE: 0x80000, SHARED: 0x100000, RELATIME: 0x200000, STRICTATIME: 0x1000000,
} as const;

/** <sys/mount.h> umount2(2) flags. */
export const MNT_DETACH = 2;

/** <fcntl.h> open(2) flags common to every Linux architecture. */
const O_COMMON = {
  RDONLY: 0,
  WRONLY: 1,
  RDWR: 2,
  CREAT: 0o100,
  NOCTTY: 0o400,
  TRUNC: 0o1000,
  NONBLOCK: 0o4000,
  CLOEXEC: 0o2000000,
  PATH: 0o10000000,
} as const;
/** __O_TMPFILE; O_TMPFILE is it with O_DIRECTORY. */
const O_TMPFILE_BIT = 0o20000000;
/** The flags whose values differ: x86_64 uses the generic ones, aarch64 its own. */
const O_BY_ARCH = {
  x64: { DIRECTORY: 0o200000, NOFOLLOW: 0o400000 },
  arm64: { DIRECTORY: 0o40000, NOFOLLOW: 0o100000 },
} as const;
const oArch = process.arch === 'arm64' ? O_BY_ARCH.arm64 : O_BY_ARCH.x64;
export const O = { ...O_COMMON, ...oArch, TMPFILE: O_TMPFILE_BIT | oArch.DIRECTORY } as const;

/** <sys/stat.h> file types (mknod's mode). */
export const S_IFCHR = 0o020000;
export const S_IFIFO = 0o010000;
export const S_IFBLK = 0o060000;

/** <fcntl.h> fcntl(2) commands. */
export const F_SETFD = 2;
export const FD_CLOEXEC = 1;
export const F_SETPIPE_SZ = 1031;

/** <sys/socket.h> */
export const AF_UNIX = 1;
export const AF_INET = 2;
export const SOCK_STREAM = 1;
export const SOCK_DGRAM = 2;
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = 0o2000000;
export const SOL_SOCKET = 1;
export const SCM_RIGHTS = 1;
export const MSG_DONTWAIT = 0x40;
export const MSG_NOSIGNAL = 0x4000;
/** recvmsg: the control data did not fit (a descriptor was dropped). */
export const MSG_CTRUNC = 0x8;
/** recvmsg: descriptors received with close-on-exec set. */
export const MSG_CMSG_CLOEXEC = 0x40000000;

/** ioctl(2) requests: <asm-generic/ioctls.h>, <linux/sockios.h>, <linux/nsfs.h> (_IO(0xb7, 0x3)). */
export const FIONREAD = 0x541b;
export const TIOCSWINSZ = 0x5414;
export const TIOCGPTN = 0x80045430;
export const TIOCSPTLCK = 0x40045431;
export const SIOCGIFFLAGS = 0x8913;
export const SIOCSIFFLAGS = 0x8914;
export const NS_GET_NSTYPE = 0xb703;
/** <net/if.h> */
export const IFF_UP = 0x1;

/** <sys/prctl.h> prctl(2) options (and PR_CAP_AMBIENT's sub-command). */
export const PR = {
  SET_PDEATHSIG: 1,
  SET_DUMPABLE: 4,
  SET_KEEPCAPS: 8,
  SET_NAME: 15,
  SET_SECCOMP: 22,
  CAPBSET_DROP: 24,
  SET_CHILD_SUBREAPER: 36,
  GET_CHILD_SUBREAPER: 37,
  SET_NO_NEW_PRIVS: 38,
  CAP_AMBIENT: 47,
  CAP_AMBIENT_RAISE: 2,
} as const;

/** <linux/seccomp.h> */
export const SECCOMP_MODE_FILTER = 2;
export const SECCOMP_SET_MODE_FILTER = 1;
/** <linux/seccomp.h> what a filter returns (SECCOMP_RET_ERRNO's low 16 bits carry the errno). */
export const SECCOMP_RET = {
  KILL_PROCESS: 0x80000000,
  KILL_THREAD: 0x00000000,
  TRAP: 0x00030000,
  ERRNO: 0x00050000,
  TRACE: 0x7ff00000,
  LOG: 0x7ffc0000,
  ALLOW: 0x7fff0000,
} as const;

/** <linux/filter.h> classic BPF: an instruction's code is the OR of a class, a size or operation, and a source. */
export const BPF = {
  LD: 0x00, ALU: 0x04, JMP: 0x05, RET: 0x06,
  W: 0x00, ABS: 0x20,
  AND: 0x50, JA: 0x00, JEQ: 0x10, JGT: 0x20, JGE: 0x30, JSET: 0x40,
  K: 0x00,
  MAXINSNS: 4096,
} as const;

/** <linux/capability.h> capset(2)'s header version (two 32-bit words per set). */
export const LINUX_CAPABILITY_VERSION_3 = 0x20080522;

/** <sys/resource.h> RLIMIT_* numbers, by the names config.json and --ulimit use. */
export const RLIMIT: Readonly<Record<string, number>> = {
  RLIMIT_CPU: 0, RLIMIT_FSIZE: 1, RLIMIT_DATA: 2, RLIMIT_STACK: 3, RLIMIT_CORE: 4, RLIMIT_RSS: 5,
  RLIMIT_NPROC: 6, RLIMIT_NOFILE: 7, RLIMIT_MEMLOCK: 8, RLIMIT_AS: 9, RLIMIT_LOCKS: 10,
  RLIMIT_SIGPENDING: 11, RLIMIT_MSGQUEUE: 12, RLIMIT_NICE: 13, RLIMIT_RTPRIO: 14, RLIMIT_RTTIME: 15,
};
/** RLIM_INFINITY (an unsigned 64-bit all-ones). */
export const RLIM_INFINITY = 0xffffffffffffffffn;

/** <spawn.h> posix_spawnattr_setflags(3) flags (glibc). */
export const POSIX_SPAWN = {
  RESETIDS: 0x01,
  SETPGROUP: 0x02,
  SETSIGDEF: 0x04,
  SETSIGMASK: 0x08,
  SETSID: 0x80,
} as const;

/** <sys/wait.h> waitpid(2)/waitid(2) options, idtypes and SIGCHLD's si_code values. */
export const WNOHANG = 1;
export const WEXITED = 4;
export const WNOWAIT = 0x01000000;
export const P_ALL = 0;
export const CLD_EXITED = 1;
export const CLD_KILLED = 2;
export const CLD_DUMPED = 3;

/** <signal.h> */
export const SIG_UNBLOCK = 1;
export const SIG_IGN = 1n;

/** <linux/magic.h> statfs(2)'s f_type of the cgroup file systems. */
export const CGROUP_SUPER_MAGIC = 0x27e0eb;
export const CGROUP2_SUPER_MAGIC = 0x63677270;

/** <linux/limits.h> */
export const PATH_MAX = 4096;

/**
 * Sizes (and the offsets read) of the C structures passed to libc as raw
 * buffers, on 64-bit glibc.
 */
export const SIZEOF = {
  posix_spawnattr_t: 336,
  posix_spawn_file_actions_t: 80,
  sigset_t: 128,
  siginfo_t: 128,
  struct_rlimit: 16,
  struct_ifreq: 40,
  struct_statfs: 120,
  struct_winsize: 8,
  struct_sockaddr_un: 110,
} as const;
export const OFFSETOF = {
  /** siginfo_t's si_code, si_pid and si_status (SIGCHLD's fields). */
  siginfo_si_code: 8,
  siginfo_si_pid: 16,
  siginfo_si_status: 24,
  /** struct ifreq's ifr_flags. */
  ifreq_ifr_flags: 16,
  /** struct statfs's f_flags (ST_RDONLY, ST_NOSUID...: the MS_* values). */
  statfs_f_flags: 80,
  /** struct seccomp_data, what a seccomp filter reads: nr, arch, args[6] (64 bits each, low word first here). */
  seccomp_data_nr: 0,
  seccomp_data_arch: 4,
  seccomp_data_args: 16,
} as const;
