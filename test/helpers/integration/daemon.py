#!/usr/bin/env python3
"""A daemon that double-forks out of its caller's process group and session.

    daemon.py DIR NAME slow:MS | stubborn

Returns once the daemon runs (it has written DIR/NAME.pid with its pid as it
sees itself). The daemon sets its command name to NAME, then:
  slow:MS   on SIGTERM, writes DIR/NAME.term, takes MS ms to stop, writes
            DIR/NAME.graceful and exits 0;
  stubborn  on SIGTERM, writes DIR/NAME.term and stays (only SIGKILL ends it).
It gives up by itself after 60 s (exit 99), so nothing outlives a broken test.
"""
import ctypes
import os
import signal
import sys
import time

directory, name, mode = sys.argv[1], sys.argv[2], sys.argv[3]


def touch(suffix):
    with open(os.path.join(directory, f"{name}.{suffix}"), "w") as f:
        f.write(str(time.clock_gettime_ns(time.CLOCK_MONOTONIC)))


r, w = os.pipe()
if os.fork() > 0:
    os.close(w)
    os.read(r, 1)  # the daemon runs
    os._exit(0)
os.close(r)
os.setsid()
if os.fork() > 0:
    os._exit(0)

ctypes.CDLL(None).prctl(15, name.encode()[:15], 0, 0, 0)  # PR_SET_NAME


def on_term(signo, frame):
    touch("term")
    if mode.startswith("slow:"):
        time.sleep(int(mode[5:]) / 1000)
        touch("graceful")
        os._exit(0)


signal.signal(signal.SIGTERM, on_term)
with open(os.path.join(directory, f"{name}.pid.tmp"), "w") as f:
    f.write(str(os.getpid()))
os.rename(os.path.join(directory, f"{name}.pid.tmp"), os.path.join(directory, f"{name}.pid"))
os.write(w, b"x")
os.close(w)
for fd in (0, 1, 2):
    os.close(fd)
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    time.sleep(0.05)
os._exit(99)
