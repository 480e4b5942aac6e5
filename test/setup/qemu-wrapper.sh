#!/bin/sh
# test/setup/qemu-wrapper.sh BINARY WRAPPER: writes WRAPPER, an executable that
# runs BINARY (the linux/arm64 tini-ts) under qemu-user with Debian's arm64
# libraries, for the tests and the acceptance suite (binfmt_misc may not be
# registered, here or in CI). A compiled program, not a script: a shell
# would add PWD to the environment the init must pass on unchanged. Needs
# gcc, qemu-user-static and libc6-arm64-cross, libstdc++6-arm64-cross,
# libatomic1-arm64-cross (test/setup/install-deps.sh).
set -eu
bin=$(readlink -f "$1")
out=$2
for f in /usr/bin/qemu-aarch64-static /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 /usr/aarch64-linux-gnu/lib/libstdc++.so.6 /usr/aarch64-linux-gnu/lib/libatomic.so.1; do
  [ -e "$f" ] || { echo "qemu-wrapper: $f is missing (test/setup/install-deps.sh installs it)" >&2; exit 1; }
done
src=$(mktemp --suffix=.c)
trap 'rm -f "$src"' EXIT
# The binary's path is absolute: tests copy the wrapper alone into other directories.
cat >"$src" <<C
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
int main(int argc, char **argv) {
  char **a = calloc(argc + 4, sizeof *a);
  if (!a) return 1;
  a[0] = "qemu-aarch64-static";
  a[1] = "-L";
  a[2] = "/usr/aarch64-linux-gnu";
  a[3] = "$bin";
  memcpy(a + 4, argv + 1, (argc - 1) * sizeof *a);
  execv("/usr/bin/qemu-aarch64-static", a);
  perror("qemu-wrapper: /usr/bin/qemu-aarch64-static");
  return 127;
}
C
gcc -O2 -Wall -o "$out.tmp" "$src"
mv "$out.tmp" "$out"
