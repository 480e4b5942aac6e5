#!/usr/bin/env python3
"""Runs a command on a new pseudo-terminal, as its session leader with the
terminal as its controlling tty (as `docker run -t` does for the init).

    pty_run.py CMD [ARGS...]

Protocol, on this script's stdout (one line each):
    pid N          the command's pid (right after the fork)
    exit CODE      when the command ended: its exit code, or 128+N for signal N
Each line read on stdin is hex bytes to write to the terminal's master side
(e.g. "03" for ^C). Everything the command writes on the terminal is read and
dropped (so it never blocks). A 60 s limit bounds the whole run.
"""
import os
import select
import sys
import time

sys.dont_write_bytecode = True  # importing pty_spawn leaves no __pycache__ in the tree
from pty_spawn import exit_code, spawn_on_pty  # noqa: E402


def main():
    pid, master = spawn_on_pty(sys.argv[1:])
    out = sys.stdout
    out.write("pid %d\n" % pid)
    out.flush()
    stdin = sys.stdin.fileno()
    end = time.monotonic() + 60
    inbuf = b""
    stdin_open = True
    master_open = True
    while time.monotonic() < end:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            out.write("exit %d\n" % exit_code(status))
            out.flush()
            return
        fds = ([master] if master_open else []) + ([stdin] if stdin_open else [])
        r, _, _ = select.select(fds, [], [], 0.02)
        if master in r:
            try:
                os.read(master, 65536)
            except OSError:
                master_open = False  # EIO once the slave side is closed by everyone
        if stdin_open and stdin in r:
            data = os.read(stdin, 4096)
            if not data:
                stdin_open = False
            inbuf += data
            while b"\n" in inbuf:
                line, inbuf = inbuf.split(b"\n", 1)
                if line.strip():
                    os.write(master, bytes.fromhex(line.decode().strip()))
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    out.write("exit timeout\n")
    out.flush()


if __name__ == "__main__":
    main()
