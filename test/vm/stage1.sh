#!/bin/busybox sh
# The guest's first stage (PID 1 in the initramfs): load the modules, mount the
# host's root (9p, read-only) under a tmpfs overlay, mount the results share,
# and switch to stage 2 on that root. Any failure powers the guest off with a
# line on the console that the runner reports.
B=/bin/busybox
fail() { echo "tini-ts-vm: stage1 failed: $*"; $B sync; $B poweroff -f; }
$B mount -t proc proc /proc
$B mount -t sysfs sys /sys
$B mount -t devtmpfs dev /dev
echo "tini-ts-vm: stage1"
for m in $($B cat /mods/order); do
  $B insmod "/mods/$m" || [ -d "/sys/module/${m%.ko}" ] || fail "insmod $m"
done
$B mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=mmap,msize=262144 hostroot /host || fail "mount of the host's root (9p)"
$B mount -t tmpfs -o mode=755 rw /rw || fail "tmpfs"
$B mkdir -p /rw/upper /rw/work
$B mount -t overlay -o lowerdir=/host,upperdir=/rw/upper,workdir=/rw/work,xino=off,index=off,metacopy=off overlay /newroot || fail "overlay on the host's root"
$B mkdir -p /newroot/.tini-ts-vm/out
$B mount -t 9p -o trans=virtio,version=9p2000.L,cache=none,msize=262144 out /newroot/.tini-ts-vm/out || fail "mount of the results share"
$B cp /stage2.sh /newroot/.tini-ts-vm/stage2.sh
$B umount /proc /sys /dev 2>/dev/null
exec $B switch_root /newroot /bin/sh /.tini-ts-vm/stage2.sh
