"""A tree of N processes for the staged-stop measurement.

    stoptree.py N DELAY DIR

The main process starts N-1 daemons: each double-forks into a session of
its own (out of the main process's group, re-parented to the init) and on
SIGTERM takes DELAY seconds to stop, then writes DIR/g<i> (it stopped
gracefully) and exits. The main process prints R once all run, and exits 0
on SIGTERM.
"""
import os
import signal
import sys
import time

n, delay, outdir = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
for i in range(n - 1):
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        os.setsid()
        if os.fork() > 0:
            os._exit(0)

        def term(signo, frame, i=i):
            time.sleep(delay)
            open(os.path.join(outdir, f"g{i}"), "w").close()
            os._exit(0)

        signal.signal(signal.SIGTERM, term)
        os.write(w, b"x")
        os.close(w)
        while True:
            signal.pause()
    os.close(w)
    os.read(r, 1)
    os.close(r)
    os.waitpid(pid, 0)
signal.signal(signal.SIGTERM, lambda s, f: os._exit(0))
print("R", flush=True)
while True:
    signal.pause()
