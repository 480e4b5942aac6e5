#!/bin/sh
# Installs the Debian packages the test suite compares against or runs (idempotent).
# Reference inits: tini, dumb-init, catatonit. Launchers: bubblewrap, runc, crun.
# busybox-static builds test root filesystems (and the VM stage's initramfs); util-linux gives unshare/setpriv/script.
# qemu-system-x86 boots the cgroup-v2 guest of the VM stage (test/setup/vm-image.sh).
# Engines that drive tini-ts as their runtime: containerd (with ctr and its runc shim v2), docker.io
# (dockerd 20.10 and its client), podman with conmon; umoci builds images offline. The tests start
# daemons of their own (test/helpers/containerd.ts, docker.ts, podman.ts), so the packages' own
# services must never run.
# qemu-user-static and the arm64 cross libraries run the linux/arm64 binary (npm run test:arm64);
# binutils-aarch64-linux-gnu strips it (npm run release); gcc-aarch64-linux-gnu and libc6-dev-arm64-cross
# check the glibc struct layouts for arm64 (test/integration/libc-layout.test.ts).
# libatomic1: the pinned Node that builds and runs the tests is Node's own binary, which needs it
# (g++ pulls it in already; the binary the build makes does not need it).
set -eu
PKGS="libatomic1 tini dumb-init catatonit busybox-static bubblewrap runc util-linux procps python3 gcc libc6-dev iproute2 qemu-system-x86 containerd docker.io podman conmon crun umoci qemu-user-static libc6-arm64-cross libstdc++6-arm64-cross libgcc-s1-arm64-cross libatomic1-arm64-cross binutils-aarch64-linux-gnu gcc-aarch64-linux-gnu libc6-dev-arm64-cross"
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

# Postinsts enable their units and, under systemd, start them (deb-systemd-invoke, which obeys
# policy-rc.d): containerd, docker.service/docker.socket, podman's units. Deny every start during
# the install unless a policy is there already (then it is left as it is), and afterwards undo only
# what the install did: units it enabled are disabled again, units it started are stopped.
WANTS_DIRS="/etc/systemd/system/multi-user.target.wants /etc/systemd/system/default.target.wants /etc/systemd/system/sockets.target.wants /etc/systemd/system/timers.target.wants"
wants() { for d in $WANTS_DIRS; do [ -d "$d" ] && ls -1 "$d"; done 2>/dev/null | sort -u; }
active() { [ -d /run/systemd/system ] && systemctl list-units --state=active --plain --no-legend 2>/dev/null | awk '{print $1}' | sort -u; true; }
enabled_before=$(wants)
active_before=$(active)
own_policy=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\n# install-deps.sh: no service starts while the test packages install\nexit 101\n' >/usr/sbin/policy-rc.d
  chmod 755 /usr/sbin/policy-rc.d
  own_policy=1
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  trap 'exit 130' INT HUP TERM
fi

apt-get update -qq </dev/null >/dev/null
apt-get install -y -qq --no-install-recommends $missing </dev/null >/dev/null

# (A unit removed but not purged keeps an admin's choice: it was in the list before, and is kept.)
for unit in $(wants); do
  case "
$enabled_before
" in *"
$unit
"*) continue ;; esac
  pkg=$(dpkg -S "/lib/systemd/system/$unit" 2>/dev/null | cut -d: -f1 | head -n1)
  [ -n "$pkg" ] || continue
  case " $missing " in *" $pkg "*) ;; *) continue ;; esac
  # deb-systemd-helper acts for a package's maintainer script; it records the unit as disabled, so upgrades keep it so.
  DPKG_MAINTSCRIPT_PACKAGE=$pkg deb-systemd-helper disable "$unit" >/dev/null 2>&1 || true
done
for unit in $(active); do
  case "
$active_before
" in *"
$unit
"*) continue ;; esac
  case "$unit" in containerd.service|docker.service|docker.socket|podman*.service|podman*.socket|podman*.timer)
    echo "install-deps: stopping $unit, which the install started" >&2
    systemctl stop "$unit" || true ;;
  esac
done
if [ "$own_policy" = 1 ]; then rm -f /usr/sbin/policy-rc.d; trap - EXIT; fi
