/*
 * Signal-storm helpers for the integration tests.
 *
 *   sigburst hold DIR [-t SECONDS]
 *     Run under the init. Blocks every catchable signal (1..64 but KILL, STOP,
 *     CHLD and glibc's 32/33) and takes them one by one with sigtimedwait, so
 *     that none is lost or merged on its side, counting each. Writes
 *     DIR/ready ("pid") first; on every signal 64 (the marker) writes
 *     DIR/counts, one "SIG COUNT" line per signal received so far. Exits 0
 *     once DIR/release exists (99 after the lifetime, default 60 s).
 *
 *   sigburst send PID N SIG [SIG...]
 *     sigqueue()s N signals to PID, cycling through the SIGs, as fast as it can.
 *     A signal the kernel refuses with EAGAIN (the receiver's queue is at
 *     RLIMIT_SIGPENDING) is not retried. Prints "sent OK eagain E" on stdout.
 *     Exits 0, or 1 on any other error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* On this signal the holder writes its counts (the sender's last one). */
#define MARKER 64

static void put(const char *dir, const char *name, const char *text) {
  char p[4096], tmp[4200];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  snprintf(tmp, sizeof tmp, "%s.tmp", p);
  FILE *f = fopen(tmp, "w");
  if (!f) _exit(90);
  fputs(text, f);
  if (fclose(f) != 0) _exit(91);
  if (rename(tmp, p) != 0) _exit(92);
}

static int hold(const char *dir, int lifetime) {
  sigset_t set;
  sigemptyset(&set);
  for (int s = 1; s <= 64; s++) {
    if (s == SIGKILL || s == SIGSTOP || s == SIGCHLD || s == 32 || s == 33) continue;
    sigaddset(&set, s);
  }
  if (sigprocmask(SIG_BLOCK, &set, NULL) != 0) return 93;
  char buf[64];
  snprintf(buf, sizeof buf, "%d\n", (int)getpid());
  put(dir, "ready", buf);
  char rel[4096];
  snprintf(rel, sizeof rel, "%s/release", dir);
  static long counts[65];
  struct timespec start, now, tick = {0, 5 * 1000 * 1000};
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (;;) {
    int s = sigtimedwait(&set, NULL, &tick);
    if (s > 0 && s <= 64) {
      counts[s]++;
      if (s != MARKER) continue;
      char out[65 * 32] = "";
      size_t n = 0;
      for (int i = 1; i <= 64; i++)
        if (counts[i]) n += snprintf(out + n, sizeof out - n, "%d %ld\n", i, counts[i]);
      put(dir, "counts", out);
      continue;
    }
    struct stat st;
    if (stat(rel, &st) == 0) return 0;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec - start.tv_sec > lifetime) return 99;
  }
}

static int send(int pid, long n, int *sigs, int nsigs) {
  long ok = 0, eagain = 0;
  union sigval v = {.sival_int = 0};
  for (long i = 0; i < n; i++) {
    v.sival_int = (int)i;
    if (sigqueue(pid, sigs[i % nsigs], v) == 0) ok++;
    else if (errno == EAGAIN) eagain++;
    else {
      fprintf(stderr, "sigqueue(%d, %d): %s\n", pid, sigs[i % nsigs], strerror(errno));
      return 1;
    }
  }
  printf("sent %ld eagain %ld\n", ok, eagain);
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 3 && strcmp(argv[1], "hold") == 0) {
    int lifetime = 60;
    if (argc >= 5 && strcmp(argv[3], "-t") == 0) lifetime = atoi(argv[4]);
    return hold(argv[2], lifetime);
  }
  if (argc >= 5 && strcmp(argv[1], "send") == 0) {
    int sigs[64], nsigs = 0;
    for (int i = 4; i < argc && nsigs < 64; i++) sigs[nsigs++] = atoi(argv[i]);
    return send(atoi(argv[2]), atol(argv[3]), sigs, nsigs);
  }
  fprintf(stderr, "usage: sigburst hold DIR [-t SECONDS] | sigburst send PID N SIG...\n");
  return 2;
}
