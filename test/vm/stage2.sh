#!/bin/sh
# The guest's second stage, PID 1 on the host's root (read-only, overlaid with
# tmpfs): a cgroup-v2-only system (cgroup2 at /sys/fs/cgroup), /proc, /sys,
# /dev, tmpfs /tmp and /run; runs the runner's command as root with stdin
# /dev/null, its output to the results share and the console, its status to
# out/status; then powers off.
OUT=/.tini-ts-vm/out
BB=/bin/busybox
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm /dev/mqueue
mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts /dev/pts
ln -sf pts/ptmx /dev/ptmx 2>/dev/null
mount -t tmpfs -o mode=1777 shm /dev/shm
mount -t mqueue mqueue /dev/mqueue
mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup
# A command directory under /tmp or /run (a checkout there) stays visible over the fresh tmpfs.
keep=$(cat "$OUT/keep" 2>/dev/null)
case "$keep" in /tmp/*|/run/*) mkdir -p /.tini-ts-vm/keep && mount --bind "$keep" /.tini-ts-vm/keep ;; *) keep= ;; esac
mount -t tmpfs -o mode=1777 tmp /tmp
mount -t tmpfs -o mode=755 run /run
if [ -n "$keep" ]; then mkdir -p "$keep" && mount --bind /.tini-ts-vm/keep "$keep"; fi
ln -sf /proc/self/fd /dev/fd 2>/dev/null
ln -sf /proc/self/fd/0 /dev/stdin 2>/dev/null
ln -sf /proc/self/fd/1 /dev/stdout 2>/dev/null
ln -sf /proc/self/fd/2 /dev/stderr 2>/dev/null
$BB hostname tini-ts-vm
ip link set lo up 2>/dev/null || $BB ip link set lo up
echo "tini-ts-vm: stage2 on $(uname -r), cgroup controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb
# where the command may leave a results.json for the runner (kept off the console)
export TINI_TS_VM_OUT=$OUT
# The command's output: to the results share, and to the console for the runner's progress.
mkfifo /run/vm-output
$BB tee "$OUT/output" </run/vm-output >/dev/console &
tee_pid=$!
sh "$OUT/cmd" </dev/null >/run/vm-output 2>&1
status=$?
wait $tee_pid
echo "$status" >"$OUT/status.tmp" && mv "$OUT/status.tmp" "$OUT/status"
echo "tini-ts-vm: done, status $status"
sync
$BB poweroff -f
