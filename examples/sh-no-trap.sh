#!/bin/sh
# A shell script that traps nothing and runs a worker in the background.
#
# Under tini-ts SIGTERM goes to the whole process group, so `docker stop`
# works: sh and sleep both die of SIGTERM. What really fails is ^C: a
# non-interactive shell starts background jobs with SIGINT and SIGQUIT
# ignored, so the terminal's SIGINT kills sh but the worker lives on, an
# orphan nobody stops (ctrl-c: unhealthy). SIGHUP kills it too (sighup: unhealthy).
sleep 1000 &
wait
