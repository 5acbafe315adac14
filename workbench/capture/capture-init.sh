#!/usr/bin/env bash
# PID 1 of a capture VM (booted with init=/capture-init.sh by capture-in-vm.sh).
# Mounts the API filesystems, brings the NIC up with its default qdisc, runs
# /capture-state.sh, writes the result as a tar archive onto the second virtio disk
# (/dev/vdb) and powers the VM off. Arguments after "--" on the kernel command line
# arrive here as "$@" and are recorded in init-argv.txt.
set -u
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH

mountpoint -q /proc || mount -t proc proc /proc
mountpoint -q /sys || mount -t sysfs sysfs /sys
mountpoint -q /dev || mount -t devtmpfs devtmpfs /dev
mountpoint -q /run || mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp

OUT=/tmp/out
mkdir -p "$OUT/cmd"
printf '%s\n' "$0" "$@" > "$OUT/init-argv.txt"

ip link set lo up
for dev in $(ip -o link show | awk -F': ' '{print $2}'); do
    [ "$dev" = lo ] || ip link set "$dev" up
done
sleep 1

bash /capture-state.sh "$OUT" > /tmp/capture.log 2>&1
echo "capture-state.sh exited $?" >> /tmp/capture.log
cat /tmp/capture.log

tar -C "$OUT" -cf /dev/vdb .
sync
echo "capture-init: done"
echo o > /proc/sysrq-trigger
sleep 30
