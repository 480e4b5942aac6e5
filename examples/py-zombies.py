#!/usr/bin/env python3
# Starts three short-lived workers and never waits for them: they stay
# zombies of this living process, which no init can reap (orphans: unhealthy).
# Stops cleanly on SIGTERM/SIGINT, so docker-stop is healthy.
import os, signal, sys, time

signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
for _ in range(3):
    if os.fork() == 0:
        os._exit(0)
while True:
    time.sleep(1)
