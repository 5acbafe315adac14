#!/usr/bin/env bash
# PID 1 of the tc_qdisc test VM (booted with init=/tc-qdisc-init.sh by tc-qdisc-in-vm.sh).
# Mounts the API filesystems, makes dummy links, runs /tc-qdisc-scenario.py (the real module,
# step by step), writes the result as a tar archive onto the second virtio disk (/dev/vdb)
# and powers the VM off.
set -u
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
HOME=/tmp
export PATH HOME

mountpoint -q /proc || mount -t proc proc /proc
mountpoint -q /sys || mount -t sysfs sysfs /sys
mountpoint -q /dev || mount -t devtmpfs devtmpfs /dev
mountpoint -q /run || mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp

OUT=/tmp/out
mkdir -p "$OUT"
: > "$OUT/setup.txt"
step() {  # step CMD...: run and log like capture-state.sh's setup.txt
    local err rc=0
    err=$("$@" 2>&1) || rc=$?
    if [ "$rc" -eq 0 ]; then
        printf 'ok\t%s\n' "$*" >> "$OUT/setup.txt"
    else
        printf 'FAILED(%s)\t%s\t%s\n' "$rc" "$*" "$(printf '%s' "$err" | tr '\n' ' ')" >> "$OUT/setup.txt"
    fi
}

ip link set lo up
for module in sch_cake sch_taprio sch_etf sch_fq sch_fq_codel dummy; do
    step modprobe "$module"
done
# Multi-queue dummy links as in capture-state.sh; hyp-two0 has too few tx queues for taprio's plan.
for link in hyp-cake0 hyp-tap0 hyp-mq0; do
    step ip link add "$link" numtxqueues 8 numrxqueues 8 type dummy
    step ip link set "$link" up
done
step ip link add hyp-two0 numtxqueues 2 numrxqueues 2 type dummy
step ip link set hyp-two0 up
sleep 1

PYTHONPATH=/hyperion-py python3 /tc-qdisc-scenario.py "$OUT" > /tmp/scenario.log 2>&1
echo "tc-qdisc-scenario.py exited $?" >> /tmp/scenario.log
cat /tmp/scenario.log
cp /tmp/scenario.log "$OUT/scenario.log"

tar -C "$OUT" -cf /dev/vdb .
sync
echo "tc-qdisc-init: done"
echo o > /proc/sysrq-trigger
sleep 30
