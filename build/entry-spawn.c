/*
 * The binary's entry point when it is tini-ts (x64; build/entry-spawn.mjs puts
 * it into Node's executable and points e_entry at `entry`).
 *
 * `tini-ts run` and OCI `create` start Node twice: the launcher, then the
 * container's init in its namespaces. Node's start (about 18 ms) is most of
 * each, and from JavaScript the init can be spawned only once the launcher's
 * own Node has started: the two starts were sequential. This code runs
 * before Node's (and the C library's) start-up, as runc's nsexec runs before
 * Go's: for those as root it makes the channel and spawns the init in new
 * mount, UTS, IPC, pid and network namespaces (`lo` up), so that the two Node
 * starts run side by side. It tells the launcher what it made through a slot in memory (read
 * through /proc/self/mem, see src/container/entry-spawn.ts); the launcher
 * claims the init if its plan wants exactly that, else kills and reaps it and
 * spawns as before. For every other command line it compares a word or two.
 *
 * Raw system calls only: nothing of the C library is initialised yet.
 */
typedef unsigned long u64;

/* Written by the build: where the slot is, and Node's own entry point. */
struct header {
  char magic[8];
  u64 slot;
  u64 entry;
};
extern const struct header hdr __attribute__((visibility("hidden")));

/* What the launcher reads (src/container/entry-spawn.ts). */
struct slot {
  unsigned magic;
  int pid;
  int channel;
  unsigned flags;
  int failed; /* the read end of the child's failure pipe */
};
#define SLOT_MAGIC 0x5453494eu /* "NIST": an init was spawned */
#define SLOT_ROOTFS 1u

#define SYS_close 3
#define SYS_rt_sigaction 13
#define SYS_rt_sigprocmask 14
#define SYS_socketpair 53
#define SYS_clone 56
#define SYS_execve 59
#define SYS_exit 60
#define SYS_fcntl 72
#define SYS_geteuid 107
#define SYS_setpgid 109
#define SYS_read 0
#define SYS_write 1
#define SYS_pipe2 293
#define SYS_close_range 436
#define SYS_socket 41
#define SYS_ioctl 16
#define SYS_unshare 272

#define CLONE_NEWNET 0x40000000
#define CLONE_NEWNS 0x20000
#define CLONE_NEWUTS 0x4000000
#define CLONE_NEWIPC 0x8000000
#define CLONE_NEWPID 0x20000000
#define SIGCHLD 17
#define AF_UNIX 1
#define SOCK_STREAM 1
#define SOCK_CLOEXEC 0x80000
#define F_SETFD 2
#define AF_INET 2
#define SOCK_DGRAM 2
#define SIOCGIFFLAGS 0x8913
#define SIOCSIFFLAGS 0x8914
#define IFF_UP 1
#define O_CLOEXEC 0x80000
#define CLOSE_RANGE_CLOEXEC 4

static long sys(long n, long a, long b, long c, long d) {
  register long r10 __asm__("r10") = d;
  long ret;
  __asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10) : "rcx", "r11", "memory");
  return ret;
}

__attribute__((noinline)) static int same(const char *a, const char *b) {
  while (*a && *a == *b) a++, b++;
  return *a == *b;
}

/* "--NAME" or "--NAME=..." */
__attribute__((noinline)) static int named(const char *a, const char *name) {
  while (*name && *a == *name) a++, name++;
  return !*name && (!*a || *a == '=');
}

/*
 * Whether the init builds a root filesystem, which chooses only its code
 * cache: --rootfs, --layer or --bundle before a `--` (a value that looks like
 * one costs only speed).
 */
static int builds_root(char **argv) {
  for (char **a = argv + 2; *a && !same(*a, "--"); a++)
    if (named(*a, "--rootfs") || named(*a, "--layer") || named(*a, "--bundle")) return 1;
  return 0;
}

/*
 * OCI `create` as engines call it (src/cli/oci-args.ts isRuntimeCall):
 * `oci create`, runc's global flags first (not --debug), or a binary whose
 * name has `runc` in it; then the word `create` (a guess: the launcher parses),
 * and no --preserve-fds.
 */
static int oci_create(char **argv) {
  const char *a = argv[1];
  const char *name = argv[0];
  for (const char *p = argv[0]; *p; p++)
    if (*p == '/') name = p + 1;
  int oci = same(a, "oci");
  for (const char *p = name; !oci && *p; p++) oci = p[0] == 'r' && p[1] == 'u' && p[2] == 'n' && p[3] == 'c';
  if (!oci && a[0] == '-') {
    const char *f = a + (a[1] == '-' ? 2 : 1);
    oci = named(f, "root") || named(f, "log") || named(f, "log-format") || named(f, "systemd-cgroup") || named(f, "criu") || named(f, "rootless");
  }
  int create = 0;
  for (char **w = argv + 1; oci && *w; w++) {
    /* Descriptors to hand on (fds 3 .. 3+N-1, which create checks are the
     * caller's): the channel must not take one of those numbers. */
    if (named(*w, "--preserve-fds")) return 0;
    create |= same(*w, "create");
  }
  return create;
}

/* In the child, which the launcher does not wait for: any failure before the
 * exec is a byte on FAILED (close-on-exec: EOF once exec'd), read by the
 * launcher when it takes the init. */
__attribute__((noinline, noreturn)) static void child(int fd, int rootfs, int failed) {
  /* As the launcher's posix_spawn: every signal to its default, none blocked,
   * a process group of its own, no descriptor but 0-2 and the channel. */
  u64 dfl[4] = {0, 0, 0, 0};
  for (long s = 1; s <= 64; s++) sys(SYS_rt_sigaction, s, (long)dfl, 0, 8);
  u64 empty = 0;
  sys(SYS_rt_sigprocmask, 2 /* SIG_SETMASK */, (long)&empty, 0, 8);
  sys(SYS_setpgid, 0, 0, 0, 0);
  /* Its network namespace, with `lo` up, made here (0.5 ms) while the
   * launcher's Node starts, not by the launcher after. */
  struct { char name[16]; short flags; char rest[22]; } ifr = {"lo", 0, {0}};
  long sock = -1;
  int ok = sys(SYS_unshare, CLONE_NEWNET, 0, 0, 0) == 0 && (sock = sys(SYS_socket, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0, 0)) >= 0 &&
           sys(SYS_ioctl, sock, SIOCGIFFLAGS, (long)&ifr, 0) == 0 && (ifr.flags |= IFF_UP, sys(SYS_ioctl, sock, SIOCSIFFLAGS, (long)&ifr, 0) == 0);
  if (ok && sys(SYS_close_range, 3, ~0u, CLOSE_RANGE_CLOEXEC, 0) == 0 && sys(SYS_fcntl, fd, F_SETFD, 0, 0) == 0) {
    char num[12];
    int n = 11;
    num[n] = 0;
    do num[--n] = (char)('0' + fd % 10); while ((fd /= 10) > 0);
    /* The addon's descriptor is "-": the init loads it itself, while the launcher plans. */
    const char *argv[] = {"tini-ts", "__run-init", num + n, "-", rootfs ? "rootfs" : 0, 0};
    /* No environment: the init sets its own (UV_THREADPOOL_SIZE), as the launcher's spawn gives it. */
    const char *envp[] = {0};
    sys(SYS_execve, (long)"/proc/self/exe", (long)argv, (long)envp, 0);
  }
  sys(SYS_write, failed, (long)"x", 1, 0);
  sys(SYS_exit, 127, 0, 0, 0);
  __builtin_unreachable();
}

__attribute__((used)) void early(long *sp) {
  int argc = (int)sp[0];
  char **argv = (char **)(sp + 1);
  if (argc < 2) return;
  int create = !same(argv[1], "run") && oci_create(argv);
  if ((!create && !same(argv[1], "run")) || sys(SYS_geteuid, 0, 0, 0, 0) != 0) return;
  int sv[2], p[2];
  if (sys(SYS_socketpair, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, (long)sv) < 0) return;
  /* One of 0-2 closed (the lowest free descriptor was taken): Node opens
   * /dev/null there at its start, and the channel must not be stdio. */
  if (sv[0] < 3) goto out;
  if (sys(SYS_pipe2, (long)p, O_CLOEXEC, 0, 0) < 0) goto out;
  int rootfs = create || builds_root(argv);
  /* A fork with its own copy of this small address space; not waited for. */
  long pid = sys(SYS_clone, CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID | SIGCHLD, 0, 0, 0);
  if (pid == 0) child(sv[1], rootfs, p[1]);
  sys(SYS_close, p[1], 0, 0, 0);
  if (pid < 0) {
    sys(SYS_close, p[0], 0, 0, 0);
    goto out;
  }
  sys(SYS_close, sv[1], 0, 0, 0);
  struct slot *s = (struct slot *)hdr.slot;
  s->pid = (int)pid;
  s->channel = sv[0];
  s->failed = p[0];
  s->flags = rootfs ? SLOT_ROOTFS : 0;
  s->magic = SLOT_MAGIC;
  return;
out:
  sys(SYS_close, sv[0], 0, 0, 0);
  sys(SYS_close, sv[1], 0, 0, 0);
}

/*
 * The header, then the entry: the loader has run (libraries mapped and
 * relocated), the C library's start-up has not. %rsp points at argc, %rdx
 * holds the loader's finaliser for _start: both are kept.
 */
__asm__(".section .text.head,\"ax\"\n"
        ".globl hdr\n"
        ".hidden hdr\n"
        "hdr: .ascii \"TINITSE1\"\n"
        ".quad 0, 0\n"
        ".globl entry\n"
        "entry:\n"
        "  endbr64\n"
        "  mov %rsp, %rdi\n"
        "  push %rdx\n"
        "  push %rdi\n"
        "  call early\n"
        "  pop %rdi\n"
        "  pop %rdx\n"
        "  mov %rdi, %rsp\n"
        "  jmp *hdr+16(%rip)\n");
