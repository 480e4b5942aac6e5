#!/bin/sh
# Ignores SIGTERM and SIGINT (and so do its children, which inherit the
# ignored disposition): only SIGKILL stops it. docker-stop and ctrl-c: unhealthy.
trap '' TERM INT
while :; do sleep 1; done
