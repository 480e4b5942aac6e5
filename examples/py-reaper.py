#!/usr/bin/env python3
# Well-behaved about children: it reaps its own (SIGCHLD handler), and the
# daemons it double-forks become orphans that exit after a moment and are
# reaped by the init. orphans: healthy. Stops cleanly on SIGTERM/SIGINT.
import os, signal, sys, time

def reap(*_):
    try:
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass
    except ChildProcessError:
        pass

signal.signal(signal.SIGCHLD, reap)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
for _ in range(3):
    if os.fork() == 0:          # a worker that exits: reaped by us
        os._exit(0)
    if os.fork() == 0:          # a daemon: double fork, the grandchild is an orphan
        if os.fork() == 0:
            time.sleep(0.3)
            os._exit(0)
        os._exit(0)
while True:
    time.sleep(1)
