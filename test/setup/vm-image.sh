#!/bin/sh
# Builds the cgroup-v2 guest of the VM test stage into .cache/vm/ (ignored by
# git): Debian's kernel (the package linux-image-amd64 points to, fetched with
# apt-get download and unpacked there, nothing installed), the few modules the
# guest needs to reach the host's root (virtio, 9p, overlay), and a busybox
# initramfs. Idempotent: rebuilt only when an input changed (the kernel
# package's version, busybox, this script, the guest's init scripts).
# Every network or package step runs under a timeout.
set -eu
cd "$(dirname "$0")/../.."
CACHE=.cache/vm
VM=test/vm
mkdir -p "$CACHE"

command -v qemu-system-x86_64 >/dev/null || { echo "vm-image: qemu-system-x86_64 is missing (test/setup/install-deps.sh installs it)" >&2; exit 1; }
[ -x /bin/busybox ] || { echo "vm-image: /bin/busybox is missing (busybox-static)" >&2; exit 1; }

pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-/{print $2; exit}')
if [ -z "$pkg" ]; then
  timeout 300 apt-get update -qq </dev/null >/dev/null
  pkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-/{print $2; exit}')
fi
[ -n "$pkg" ] || { echo "vm-image: apt knows no linux-image-amd64 kernel" >&2; exit 1; }
version=$(apt-cache policy "$pkg" | awk '/Candidate:/{print $2}')
kver=${pkg#linux-image-}

stamp="$pkg $version $(busybox | head -1) $(cat "$0" "$VM/stage1.sh" "$VM/stage2.sh" | sha256sum | cut -c1-16)"
if [ -f "$CACHE/stamp" ] && [ "$(cat "$CACHE/stamp")" = "$stamp" ] && [ -f "$CACHE/vmlinuz" ] && [ -f "$CACHE/initramfs.cpio.gz" ]; then
  exit 0
fi
echo "vm-image: building the guest ($pkg $version)" >&2
rm -rf "$CACHE/deb" "$CACHE/kernel" "$CACHE/initramfs" "$CACHE/stamp"
mkdir -p "$CACHE/deb"
# apt-get download writes into the current directory; _apt cannot write into a root-owned cache, hence -o.
download() { (cd "$CACHE/deb" && timeout 600 apt-get download -o APT::Sandbox::User=root "$pkg=$version" </dev/null >/dev/null); }
# stale package lists name a version the mirror no longer has: update them once
download || { timeout 300 apt-get update -qq </dev/null >/dev/null && version=$(apt-cache policy "$pkg" | awk '/Candidate:/{print $2}') && download; }
deb=$(ls "$CACHE"/deb/*.deb)

# the modules the guest loads, dependencies first (Debian builds them all as modules)
MODS="drivers/virtio/virtio_ring.ko drivers/virtio/virtio.ko drivers/virtio/virtio_pci_legacy_dev.ko
drivers/virtio/virtio_pci_modern_dev.ko drivers/virtio/virtio_pci.ko drivers/char/hw_random/virtio-rng.ko
fs/netfs/netfs.ko fs/fscache/fscache.ko net/9p/9pnet.ko net/9p/9pnet_virtio.ko fs/9p/9p.ko fs/overlayfs/overlay.ko
drivers/block/loop.ko"
mkdir -p "$CACHE/kernel"
set -- "./boot/vmlinuz-$kver"
for m in $MODS; do set -- "$@" "./lib/modules/$kver/kernel/$m"; done
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$CACHE/kernel" "$@"

ir="$CACHE/initramfs"
mkdir -p "$ir/bin" "$ir/dev" "$ir/proc" "$ir/sys" "$ir/mods" "$ir/host" "$ir/rw" "$ir/newroot"
cp /bin/busybox "$ir/bin/busybox"
for m in $MODS; do cp "$CACHE/kernel/lib/modules/$kver/kernel/$m" "$ir/mods/"; echo "$(basename "$m")" >>"$ir/mods/order"; done
cp "$VM/stage1.sh" "$ir/init"
cp "$VM/stage2.sh" "$ir/stage2.sh"
chmod 755 "$ir/init" "$ir/stage2.sh"
mknod -m 600 "$ir/dev/console" c 5 1
(cd "$ir" && find . | busybox cpio -o -H newc 2>/dev/null) | gzip -1 >"$CACHE/initramfs.cpio.gz.tmp"
mv "$CACHE/initramfs.cpio.gz.tmp" "$CACHE/initramfs.cpio.gz"
cp "$CACHE/kernel/boot/vmlinuz-$kver" "$CACHE/vmlinuz"
rm -rf "$CACHE/deb" "$ir" "$CACHE/kernel"
echo "$stamp" >"$CACHE/stamp"
