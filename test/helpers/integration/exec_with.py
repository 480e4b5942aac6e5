#!/usr/bin/env python3
"""Starts a program (the init, for the tests) in a start-up state that Node's
child_process cannot produce, then execs it. The spec is one JSON argument:

  {"argv": [B64, ...],          # argv[0] is the file to exec (no PATH lookup)
   "file": B64,                 # optional: exec this file instead, argv[0] as given
   "env": [B64, ...] | null,    # exact environment entries (bytes); null: inherit
   "block": [SIG, ...],         # signals to block before exec
   "ignore": [SIG, ...],        # signals to set to SIG_IGN before exec
   "fds": {"N": "PATH", ...},   # open PATH (read-only, no CLOEXEC) at fd N
   "close_fds": true}           # close every other fd >= 3 first (default true)

The bytes are base64 so that non-UTF-8 arguments, newlines and entries
without '=' go through unchanged: execve is called through ctypes.
"""
import base64
import ctypes
import json
import os
import signal
import sys


def main():
    spec = json.loads(sys.argv[1])
    argv = [base64.b64decode(a) for a in spec["argv"]]
    env = spec.get("env")
    envp = [base64.b64decode(e) for e in env] if env is not None else [
        k + b"=" + v for k, v in os.environb.items()]

    keep = {}
    for fd, path in (spec.get("fds") or {}).items():
        keep[int(fd)] = path
    if spec.get("close_fds", True):
        start = 3
        for fd in sorted(keep) + [65536]:
            os.closerange(start, fd)
            start = fd + 1
    for fd, path in keep.items():
        src = os.open(path, os.O_RDONLY)
        if src != fd:
            os.dup2(src, fd, inheritable=True)
            os.close(src)
        else:
            os.set_inheritable(fd, True)

    # Python itself ignores SIGPIPE and SIGXFSZ: only the spec decides.
    for s in (signal.SIGPIPE, signal.SIGXFSZ):
        signal.signal(s, signal.SIG_DFL)
    for s in spec.get("ignore") or []:
        signal.signal(s, signal.SIG_IGN)
    if spec.get("block"):
        signal.pthread_sigmask(signal.SIG_BLOCK, spec["block"])

    libc = ctypes.CDLL(None, use_errno=True)

    def arr(items):
        a = (ctypes.c_char_p * (len(items) + 1))()
        for i, x in enumerate(items):
            a[i] = x
        a[len(items)] = None
        return a

    file = base64.b64decode(spec["file"]) if spec.get("file") else argv[0]
    libc.execve(file, arr(argv), arr(envp))
    err = ctypes.get_errno()
    sys.stderr.write("exec_with: execve %r failed: %s\n" % (file, os.strerror(err)))
    sys.exit(120)


if __name__ == "__main__":
    main()
