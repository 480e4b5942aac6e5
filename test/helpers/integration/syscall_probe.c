/*
 * Calls the system calls named on its command line and prints NAME=ok or
 * NAME=ERRNO for each: io_uring_setup (1 entry), or a number, which is
 * passed to personality(2) (and the persona restored). Built static, so
 * that it runs in any root filesystem.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    long r;
    if (strcmp(argv[i], "io_uring_setup") == 0) {
      char params[120]; /* struct io_uring_params */
      memset(params, 0, sizeof params);
      r = syscall(SYS_io_uring_setup, 1, params);
      if (r >= 0) close((int)r);
    } else {
      r = syscall(SYS_personality, strtoul(argv[i], NULL, 0));
      if (r >= 0) syscall(SYS_personality, (unsigned long)r);
    }
    printf("%s=%s\n", argv[i], r < 0 ? strerrorname_np(errno) : "ok");
  }
  return 0;
}
