#!/bin/sh
# Capture the scheduler's runtime files of the running kernel (as root, on a lab machine) into
# OUTDIR/$(uname -r)/, as a tree below / that facts.gather_facts(root=...) reads:
#   sys/kernel/debug/sched/preempt and features, sys/kernel/sched_ext/state (and root/ops when a BPF
#   scheduler runs), proc/sys/kernel/sched_schedstats, /sys/module/damon_reclaim/parameters/enabled;
# and, beside the tree, the preempt file as it reads in each mode the kernel offers (preempt-MODE.txt) and the
# features file with HRTICK on and off (features-HRTICK.txt, features-NO_HRTICK.txt). Every mode and feature is
# put back as it was.
#
# Usage: capture-sched.sh OUTDIR
set -eu

[ $# -eq 1 ] || { sed -n '2,10s/^# \{0,1\}//p' "$0" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "capture-sched.sh: run as root (debugfs is root's only)" >&2; exit 2; }
out=$1/$(uname -r)
rm -rf "$out"
mkdir -p "$out"

copy() {
    [ -e "/$1" ] || return 0
    mkdir -p "$out/$(dirname "$1")"
    cat "/$1" > "$out/$1"
}

debug=sys/kernel/debug/sched
copy "$debug/preempt"
copy "$debug/features"
copy sys/kernel/sched_ext/state
copy sys/kernel/sched_ext/root/ops
copy proc/sys/kernel/sched_schedstats
copy sys/module/damon_reclaim/parameters/enabled
copy sys/module/usbcore/parameters/autosuspend
uname -r > "$out/uname-r"

if [ -e "/$debug/preempt" ]; then
    was=$(tr ' ' '\n' < "/$debug/preempt" | sed -n 's/^(\(.*\))$/\1/p')
    for mode in $(tr -d '()' < "/$debug/preempt"); do
        echo "$mode" > "/$debug/preempt"
        cat "/$debug/preempt" > "$out/preempt-$mode.txt"
    done
    echo "$was" > "/$debug/preempt"
fi
if [ -e "/$debug/features" ]; then
    was=$(tr ' ' '\n' < "/$debug/features" | grep -x -E 'HRTICK|NO_HRTICK')
    for word in HRTICK NO_HRTICK; do
        echo "$word" > "/$debug/features"
        cat "/$debug/features" > "$out/features-$word.txt"
    done
    echo "$was" > "/$debug/features"
fi
echo "$out"
