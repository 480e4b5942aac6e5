/*
 * Runs build/patch-node.mjs's __atomic_compare_exchange alone: CODE is a
 * file with its machine code, mapped executable and called as libatomic's
 * generic bool __atomic_compare_exchange(size, ptr, expected, desired,
 * success_order, failure_order).
 *
 *   cas_harness CODE            semantics and atomicity; prints "ok"
 *   cas_harness CODE misaligned the same on a 4-byte-aligned operand; prints "ok"
 *   cas_harness CODE size4      a 4-byte call (must trap)
 *
 * Semantics: on a match, *ptr = *desired and true, *expected untouched; on
 * a mismatch, *expected = *ptr and false, *ptr untouched. Atomicity: 4
 * threads add 1 to one counter 200000 times each through a CAS loop; the
 * total must be exact. Exit 1 with a line on any difference.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

typedef bool (*cas_fn)(size_t, void *, void *, void *, int, int);
static cas_fn cas;
static uint64_t *counter;
#define THREADS 4
#define ADDS 200000

static void fail(const char *what) {
  printf("FAIL %s\n", what);
  exit(1);
}

static void *adder(void *arg) {
  (void)arg;
  for (int i = 0; i < ADDS; i++) {
    uint64_t seen = __atomic_load_n(counter, __ATOMIC_RELAXED), next;
    do next = seen + 1; while (!cas(8, counter, &seen, &next, 5, 5));
  }
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  FILE *f = fopen(argv[1], "rb");
  if (!f) return 2;
  unsigned char code[4096];
  size_t n = fread(code, 1, sizeof code, f);
  fclose(f);
  void *mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return 2;
  memcpy(mem, code, n);
  __builtin___clear_cache((char *)mem, (char *)mem + n);
  if (mprotect(mem, 4096, PROT_READ | PROT_EXEC) != 0) return 2;
  cas = (cas_fn)mem;

  static _Alignas(16) unsigned char storage[32];
  const char *mode = argc > 2 ? argv[2] : "";
  uint64_t *v = (uint64_t *)(storage + (strcmp(mode, "misaligned") == 0 ? 4 : 8));
  uint64_t expected = 5, desired = 9, start = 5;
  memcpy(v, &start, 8);
  if (strcmp(mode, "size4") == 0) {
    cas(4, v, &expected, &desired, 5, 5);
    fail("a 4-byte call returned");
  }
  if (!cas(8, v, &expected, &desired, 5, 5)) fail("a match returned false");
  if (*v != 9 || expected != 5) fail("a match did not store desired, or touched expected");
  expected = 7;
  desired = 11;
  if (cas(8, v, &expected, &desired, 5, 5)) fail("a mismatch returned true");
  if (*v != 9 || expected != 9) fail("a mismatch changed *ptr, or did not return the current value");

  counter = v;
  *counter = 0;
  pthread_t t[THREADS];
  for (int i = 0; i < THREADS; i++) pthread_create(&t[i], NULL, adder, NULL);
  for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
  if (*counter != (uint64_t)THREADS * ADDS) {
    printf("FAIL lost updates: %llu of %llu\n", (unsigned long long)*counter, (unsigned long long)THREADS * ADDS);
    return 1;
  }
  printf("ok\n");
  return 0;
}
