#!/usr/bin/env python3
"""Runs a command on a new pseudo-terminal of a given size, as its session
leader with the terminal as its controlling tty (a user at a terminal typing
`ctr run -t ...`), and types on it once the command has printed something.

    pty_drive.py ROWS COLS MARKER INPUT_HEX CMD [ARGS...]

Everything the command writes on the terminal is kept; once it contains
MARKER, INPUT_HEX (hex bytes, e.g. "03" for ^C) is written to the master.
Prints one JSON object at the end: the command's exit status (its code, or
128+N for signal N; null if it outlived the 60 s limit, then it is killed)
and the terminal's output.
"""
import json
import os
import select
import signal
import sys
import time

sys.dont_write_bytecode = True  # importing pty_spawn leaves no __pycache__ in the tree
from pty_spawn import exit_code, spawn_on_pty  # noqa: E402


def main():
    rows, cols, marker, data = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3].encode(), bytes.fromhex(sys.argv[4])
    pid, master = spawn_on_pty(sys.argv[5:], (rows, cols))
    end = time.monotonic() + 60
    out = b""
    written = False
    status = None
    while time.monotonic() < end:
        if not written and marker in out.replace(b"\r", b""):
            os.write(master, data)
            written = True
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                chunk = b""
            out += chunk
            if chunk:
                continue
        done, st = os.waitpid(pid, os.WNOHANG)
        if done:
            status = exit_code(st)
            break
    if status is None:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    print(json.dumps({"status": status, "output": out.decode("utf-8", "replace")}))


if __name__ == "__main__":
    main()
