#!/bin/sh
# Installs the Debian packages the test suite compares against or runs (idempotent).
# Reference inits: tini, dumb-init, catatonit. Launchers: bubblewrap, runc.
# busybox-static builds test root filesystems (and the VM stage's initramfs); util-linux gives unshare/setpriv/script.
# qemu-system-x86 boots the cgroup-v2 guest of the VM stage (test/setup/vm-image.sh).
set -eu
PKGS="tini dumb-init catatonit busybox-static bubblewrap runc util-linux procps python3 gcc libc6-dev iproute2 qemu-system-x86"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "install-deps: missing Debian packages:$missing (run as root to install them)" >&2
  exit 1
fi
echo "install-deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq </dev/null >/dev/null
apt-get install -y -qq --no-install-recommends $missing </dev/null >/dev/null
