/*
 * Child programs for the integration tests, run *under* the init.
 *
 *   fixture rec DIR [-g] [-n] [-e SIG:CODE] [-G SIG:MS] [-c CODE] [-t SECONDS] [-- IGNORED...]
 *     A signal recorder. Catches every catchable signal (1..64 but KILL, STOP
 *     and glibc's 32/33) and appends its number, one per line, to DIR/main.log
 *     (DIR/grand.log for the grandchild). Writes DIR/ready ("pid pgid sid gpid")
 *     once every handler is in place, then runs until DIR/release exists
 *     (exit CODE, default 0) or the lifetime (-t, default 60 s) is over (exit 99).
 *       -g          fork a grandchild first; it stays in the same process group
 *                   and records too. It also leaves on DIR/release.
 *       -n          catch nothing (a plain "hold" child: default dispositions)
 *       -e SIG:CODE on SIG the main process exits CODE; CODE "d" re-raises SIG
 *                   with the default action (death by SIG)
 *       -G SIG:MS   on SIG the grandchild lingers MS ms, writes DIR/grand.exit,
 *                   and exits 0
 *
 *   fixture orphans DIR N
 *     Double-forks N grandchildren (their parents exit at once, so they are
 *     re-parented to the init) that all block on one pipe. Writes DIR/ready
 *     ("made N"), waits for DIR/go, closes the pipe so that all of them exit
 *     at the same moment, then waits for DIR/release and exits 0.
 *
 * Handlers only use write(2) and _exit(2). Every wait is bounded.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *dir;
static volatile int logfd = -1;
static volatile sig_atomic_t is_main = 1;
static int exit_sig = 0, exit_code = 0, exit_die = 0;
static int linger_sig = 0, linger_ms = 0;
static volatile sig_atomic_t linger_flag = 0;

static void path_of(char *buf, size_t n, const char *name) { snprintf(buf, n, "%s/%s", dir, name); }

static int exists(const char *name) {
  char p[4096];
  path_of(p, sizeof p, name);
  struct stat st;
  return stat(p, &st) == 0;
}

/* Atomic: tmp + rename, so a reader never sees half a file. */
static void put(const char *name, const char *text) {
  char p[4096], tmp[4200];
  path_of(p, sizeof p, name);
  snprintf(tmp, sizeof tmp, "%s.tmp.%d", p, (int)getpid());
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) _exit(90);
  size_t len = strlen(text);
  if (write(fd, text, len) != (ssize_t)len) _exit(91);
  close(fd);
  if (rename(tmp, p) != 0) _exit(92);
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void on_signal(int sig) {
  int saved = errno;
  char buf[8];
  int n = 0;
  if (sig >= 10) buf[n++] = '0' + sig / 10;
  buf[n++] = '0' + sig % 10;
  buf[n++] = '\n';
  if (logfd >= 0) (void)!write(logfd, buf, n);
  if (is_main && sig == exit_sig) {
    if (exit_die) {
      signal(sig, SIG_DFL);
      kill(getpid(), sig); /* pending until the handler returns, then fatal */
    } else {
      _exit(exit_code);
    }
  }
  if (!is_main && sig == linger_sig) linger_flag = 1;
  errno = saved;
}

static int parse_pair(const char *s, int *a, int *b, int *die) {
  char *end;
  *a = (int)strtol(s, &end, 10);
  if (*end != ':') return -1;
  if (die && strcmp(end + 1, "d") == 0) {
    *die = 1;
    return 0;
  }
  *b = (int)strtol(end + 1, &end, 10);
  return *end ? -1 : 0;
}

static int open_log(const char *name) {
  char p[4096];
  path_of(p, sizeof p, name);
  int fd = open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) _exit(93);
  return fd;
}

static int rec(int argc, char **argv) {
  int grandchild = 0, catch_none = 0, release_code = 0;
  double lifetime = 60;
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--")) break; /* the rest is only there to be looked at in /proc */
    if (!strcmp(a, "-g")) grandchild = 1;
    else if (!strcmp(a, "-n")) catch_none = 1;
    else if (!strcmp(a, "-e") && i + 1 < argc) {
      if (parse_pair(argv[++i], &exit_sig, &exit_code, &exit_die)) return 2;
    } else if (!strcmp(a, "-G") && i + 1 < argc) {
      if (parse_pair(argv[++i], &linger_sig, &linger_ms, NULL)) return 2;
    } else if (!strcmp(a, "-c") && i + 1 < argc) release_code = atoi(argv[++i]);
    else if (!strcmp(a, "-t") && i + 1 < argc) lifetime = atof(argv[++i]);
    else return 2;
  }
  if (!catch_none) {
    logfd = open_log("main.log"); /* -n opens nothing: its fds are the ones it inherited */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigfillset(&sa.sa_mask); /* no nesting: the log keeps the order of delivery */
    for (int s = 1; s <= 64; s++) {
      if (s == SIGKILL || s == SIGSTOP || s == 32 || s == 33) continue;
      if (sigaction(s, &sa, NULL) != 0) return 94;
    }
  }
  double end = now() + lifetime;
  pid_t g = 0;
  if (grandchild) {
    int p[2];
    if (pipe(p) != 0) return 95;
    g = fork();
    if (g < 0) return 96;
    if (g == 0) {
      is_main = 0;
      close(p[0]);
      if (!catch_none) logfd = open_log("grand.log");
      (void)!write(p[1], "x", 1);
      close(p[1]);
      for (;;) {
        if (linger_flag) {
          usleep(linger_ms * 1000);
          put("grand.exit", "exiting\n");
          _exit(0);
        }
        if (exists("release")) _exit(0);
        if (now() > end) _exit(99);
        usleep(5000);
      }
    }
    close(p[1]);
    char c;
    while (read(p[0], &c, 1) < 0 && errno == EINTR) {}
    close(p[0]);
  }
  char info[128];
  snprintf(info, sizeof info, "%d %d %d %d\n", (int)getpid(), (int)getpgrp(), (int)getsid(0), (int)g);
  put("ready", info);
  for (;;) {
    if (exists("release")) return release_code;
    if (now() > end) return 99;
    usleep(5000);
  }
}

static int orphans(int n) {
  int p[2];
  if (pipe(p) != 0) return 95;
  int made = 0;
  for (int i = 0; i < n; i++) {
    pid_t mid = fork();
    if (mid < 0) break;
    if (mid == 0) {
      pid_t o = fork();
      if (o == 0) {
        close(p[1]);
        char c;
        while (read(p[0], &c, 1) < 0 && errno == EINTR) {}
        _exit(0);
      }
      _exit(o < 0 ? 1 : 0);
    }
    int st;
    while (waitpid(mid, &st, 0) < 0 && errno == EINTR) {}
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0) made++;
  }
  close(p[0]);
  char info[64];
  snprintf(info, sizeof info, "made %d\n", made);
  put("ready", info);
  double end = now() + 60;
  while (!exists("go")) {
    if (now() > end) return 99;
    usleep(5000);
  }
  close(p[1]); /* every orphan sees EOF now and exits */
  while (!exists("release")) {
    if (now() > end) return 99;
    usleep(5000);
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 3) return 2;
  dir = argv[2];
  if (!strcmp(argv[1], "rec")) return rec(argc - 3, argv + 3);
  if (!strcmp(argv[1], "orphans") && argc == 4) return orphans(atoi(argv[3]));
  return 2;
}
