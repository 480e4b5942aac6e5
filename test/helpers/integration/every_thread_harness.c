/*
 * The every-thread handler (src/libc/every-thread.ts) alone, as the init
 * installs it: CODE is its machine code, RESTORER and DATA the offsets of
 * its restorer and of its data-page word. Six threads (the main one and five
 * blocked in read(2), as Node's idle threads block in the kernel) are sent
 * SIGSETXID with tgkill(2), by the ids they recorded (under qemu-user,
 * /proc/self/task also lists a host thread of qemu's own, which never runs
 * a guest handler):
 *   1. prctl(PR_SET_NAME, "tt-every") on each: every thread's comm changes,
 *      the done counter is 6, no failure;
 *   2. getpid, then an unknown system call: failure at call 2, ENOSYS;
 *   3. the unknown call with ENOSYS in its mask: no failure.
 * Prints "ok", or what differed (exit 1).
 *
 *   every_thread_harness CODE RESTORER DATA
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define THREADS 5
#define SIGSETXID 33
#define SA_RESTORER_FLAG 0x04000000UL
#define SA_RESTART_FLAG 0x10000000UL

struct kernel_sigaction {
  uint64_t handler, flags, restorer, mask;
};

static int hold[2];
/* The threads' ids, as each records its own: qemu-user has a host thread of its own in /proc/self/task. */
static pid_t tids[THREADS + 1];
static uint64_t *data;
static char name[16] = "tt-every";

static void *blocked(void *arg) {
  char c;
  __atomic_store_n((pid_t *)arg, (pid_t)syscall(SYS_gettid), __ATOMIC_RELEASE);
  while (read(hold[0], &c, 1) < 0) {
  }
  return NULL;
}

static void set_call(int i, long nr, uint64_t a0, uint64_t tolerate) {
  uint64_t *call = data + 8 + 8 * i;
  memset(call, 0, 64);
  call[0] = (uint64_t)nr;
  call[1] = a0;
  call[7] = tolerate;
}

/* Every thread, by tgkill; waits for the counter. Returns the number signalled. */
static int broadcast(int ncalls) {
  data[0] = ncalls;
  data[1] = data[2] = data[3] = 0;
  int n = 0;
  for (int i = 0; i <= THREADS; i++)
    if (syscall(SYS_tgkill, getpid(), tids[i], SIGSETXID) == 0) n++;
  for (int spins = 0; __atomic_load_n(&data[1], __ATOMIC_ACQUIRE) < (uint64_t)n; spins++) {
    if (spins > 20000000) return -1;
    sched_yield();
  }
  return n;
}

int main(int argc, char **argv) {
  if (argc != 4) return 2;
  FILE *f = fopen(argv[1], "rb");
  if (!f) return 2;
  unsigned char *code = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  size_t len = fread(code, 1, 4096, f);
  fclose(f);
  long restorer = strtol(argv[2], NULL, 0), slot = strtol(argv[3], NULL, 0);
  data = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (len == 0 || slot + 8 > (long)len) return 2;
  memcpy(code + slot, &data, 8);
  mprotect(code, 4096, PROT_READ | PROT_EXEC);
  if (pipe(hold) != 0) return 2;
  pthread_t t[THREADS];
  tids[0] = (pid_t)syscall(SYS_gettid);
  for (int i = 0; i < THREADS; i++) pthread_create(&t[i], NULL, blocked, &tids[i + 1]);
  for (int i = 1; i <= THREADS; i++)
    while (__atomic_load_n(&tids[i], __ATOMIC_ACQUIRE) == 0) usleep(1000);
  usleep(100000); /* all blocked in read(2) */
  /* After the first pthread_create, which installs glibc's own handler (as in Node, whose threads exist from its start). */
  struct kernel_sigaction act = {(uint64_t)code, SA_RESTORER_FLAG | SA_RESTART_FLAG, (uint64_t)(code + restorer), ~0ULL};
  if (syscall(SYS_rt_sigaction, SIGSETXID, &act, NULL, 8) != 0) { perror("rt_sigaction"); return 1; }

  set_call(0, SYS_prctl, PR_SET_NAME, 0);
  data[8 + 2] = (uint64_t)name; /* a1 */
  int n = broadcast(1);
  if (n != THREADS + 1 || data[2] != 0) { printf("1: %d threads, failure %lu\n", n, (unsigned long)data[2]); return 1; }
  for (int i = 0; i <= THREADS; i++) {
    char path[64], comm[32] = "";
    snprintf(path, sizeof path, "/proc/self/task/%d/comm", (int)tids[i]);
    FILE *c = fopen(path, "r");
    if (c && fgets(comm, sizeof comm, c)) comm[strcspn(comm, "\n")] = 0;
    if (c) fclose(c);
    if (strcmp(comm, name) != 0) { printf("1: thread %d is named '%s'\n", (int)tids[i], comm); return 1; }
  }

  set_call(0, SYS_getpid, 0, 0);
  set_call(1, 4000, 0, 0);
  n = broadcast(2);
  if (n != THREADS + 1 || data[2] != 2 || data[3] != 38) { printf("2: %d threads, failure %lu errno %lu\n", n, (unsigned long)data[2], (unsigned long)data[3]); return 1; }

  set_call(0, 4000, 0, 1ULL << 38);
  n = broadcast(1);
  if (n != THREADS + 1 || data[2] != 0) { printf("3: %d threads, failure %lu errno %lu\n", n, (unsigned long)data[2], (unsigned long)data[3]); return 1; }

  if (write(hold[1], "xxxxx", THREADS) != THREADS) return 2;
  for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
  printf("ok\n");
  return 0;
}
