#!/bin/sh
# Everything `npm test` needs, installed idempotently: the npm packages of
# package-lock.json (when node_modules is missing or older than the lock) and
# the Debian packages the tests compare against (install-deps.sh), and the
# cgroup-v2 guest of the VM stage (vm-image.sh, cached in .cache/vm).
set -eu
cd "$(dirname "$0")/../.."
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "prepare: npm ci" >&2
  npm ci --no-audit --no-fund </dev/null
fi
sh test/setup/install-deps.sh
sh test/setup/vm-image.sh
