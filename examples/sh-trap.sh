#!/bin/sh
# The well-behaved version of sh-no-trap.sh: it stops its worker itself on
# TERM or INT (then exits 0) and survives HUP. Healthy in every scenario.
stop() { kill "$worker" 2>/dev/null; wait "$worker"; exit 0; }
trap stop TERM INT
trap 'echo reload' HUP
# The worker ignores HUP (the init forwards signals to the whole group).
(trap '' HUP; exec sleep 1000) &
worker=$!
# `wait` returns early when a trapped signal arrives: keep waiting.
while kill -0 "$worker" 2>/dev/null; do wait "$worker"; done
