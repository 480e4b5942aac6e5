/*
 * Calls the system calls named on its command line and prints NAME=ok or
 * NAME=ERRNO for each: io_uring_setup (1 entry); unshare:FLAGS;
 * clone:FLAGS (the raw system call; a child exits at once and is reaped);
 * clone3 (with no arguments: EINVAL from the kernel itself); socket:FAMILY
 * (SOCK_STREAM, closed); getpid; or a number, which is passed to
 * personality(2) (and the persona restored). Built static, so that it runs
 * in any root filesystem.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    long r;
    if (strcmp(argv[i], "io_uring_setup") == 0) {
      char params[120]; /* struct io_uring_params */
      memset(params, 0, sizeof params);
      r = syscall(SYS_io_uring_setup, 1, params);
      if (r >= 0) close((int)r);
    } else if (strncmp(argv[i], "unshare:", 8) == 0) {
      r = syscall(SYS_unshare, strtoul(argv[i] + 8, NULL, 0));
    } else if (strncmp(argv[i], "clone:", 6) == 0) {
      r = syscall(SYS_clone, strtoul(argv[i] + 6, NULL, 0), NULL, NULL, NULL, 0);
      if (r == 0) syscall(SYS_exit_group, 0);
      if (r > 0) waitpid((pid_t)r, NULL, __WALL);
    } else if (strcmp(argv[i], "clone3") == 0) {
      r = syscall(SYS_clone3, NULL, 0);
    } else if (strncmp(argv[i], "socket:", 7) == 0) {
      r = syscall(SYS_socket, strtoul(argv[i] + 7, NULL, 0), SOCK_STREAM, 0);
      if (r >= 0) close((int)r);
    } else if (strcmp(argv[i], "getpid") == 0) {
      r = syscall(SYS_getpid);
    } else {
      r = syscall(SYS_personality, strtoul(argv[i], NULL, 0));
      if (r >= 0) syscall(SYS_personality, (unsigned long)r);
    }
    printf("%s=%s\n", argv[i], r < 0 ? strerrorname_np(errno) : "ok");
  }
  return 0;
}
