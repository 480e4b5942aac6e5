#!/bin/sh
# Installs the Debian packages the test suite compares against or runs (idempotent).
# Reference inits: tini, dumb-init, catatonit. Launchers: bubblewrap, runc.
# busybox-static builds test root filesystems (and the VM stage's initramfs); util-linux gives unshare/setpriv/script.
# qemu-system-x86 boots the cgroup-v2 guest of the VM stage (test/setup/vm-image.sh).
# containerd (with ctr and its runc shim v2) drives tini-ts as an engine does; the tests start
# their own daemon (test/helpers/containerd.ts), so the package's own service must never run.
# qemu-user-static and the arm64 cross libraries run the linux/arm64 binary (npm run test:arm64);
# binutils-aarch64-linux-gnu strips it (npm run release); gcc-aarch64-linux-gnu and libc6-dev-arm64-cross
# check the glibc struct layouts for arm64 (test/integration/libc-layout.test.ts).
set -eu
PKGS="tini dumb-init catatonit busybox-static bubblewrap runc util-linux procps python3 gcc libc6-dev iproute2 qemu-system-x86 containerd qemu-user-static libc6-arm64-cross libstdc++6-arm64-cross libgcc-s1-arm64-cross libatomic1-arm64-cross binutils-aarch64-linux-gnu gcc-aarch64-linux-gnu libc6-dev-arm64-cross"
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

# containerd's postinst enables containerd.service and, under systemd, starts it
# (deb-systemd-invoke, which obeys policy-rc.d). Deny every start during the
# install unless a policy is there already (then it is left as it is), and undo
# whatever the install did to the unit afterwards: only what it did.
case " $missing " in *" containerd "*) ctrd=1 ;; *) ctrd=0 ;; esac
own_policy=0
was_active=0
was_enabled=0
WANTS=/etc/systemd/system/multi-user.target.wants/containerd.service
if [ "$ctrd" = 1 ]; then
  # (removed but not purged, an admin's choice may still be there: it is kept)
  if [ -e "$WANTS" ] || [ -L "$WANTS" ]; then was_enabled=1; fi
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\n# install-deps.sh: no service starts while the test packages install\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    own_policy=1
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    trap 'exit 130' INT HUP TERM
  fi
  if [ -d /run/systemd/system ] && systemctl is-active --quiet containerd.service 2>/dev/null; then was_active=1; fi
fi

apt-get update -qq </dev/null >/dev/null
apt-get install -y -qq --no-install-recommends $missing </dev/null >/dev/null

if [ "$ctrd" = 1 ]; then
  # The unit was not enabled before the install: disable it again. (deb-systemd-helper acts only
  # for a package's maintainer script; it then records the unit as disabled, so upgrades keep it so.)
  if [ "$was_enabled" = 0 ] && command -v deb-systemd-helper >/dev/null 2>&1; then
    DPKG_MAINTSCRIPT_PACKAGE=containerd deb-systemd-helper disable containerd.service >/dev/null 2>&1 || true
  fi
  if [ -d /run/systemd/system ] && [ "$was_active" = 0 ] && systemctl is-active --quiet containerd.service 2>/dev/null; then
    echo "install-deps: stopping the containerd.service the package started" >&2
    systemctl stop containerd.service
  fi
  if [ "$own_policy" = 1 ]; then rm -f /usr/sbin/policy-rc.d; trap - EXIT; fi
fi
