#!/usr/bin/env bash
# Capture a machine's RUNNING kernel state as raw interface files, for unit-test fixtures.
#
# Runs ON the target machine, as root. Unless --no-setup is given it first sets up the
# interesting state (modules, qdiscs on dummy links, zram devices, sysctls); every setup step
# tolerates a kernel that lacks the feature and records the failure in OUTDIR/errors.txt.
# It then copies the raw files into OUTDIR, mirroring their paths (OUTDIR/proc/cmdline,
# OUTDIR/sys/block/zram0/mm_stat, ...), and command outputs into OUTDIR/cmd/.
#
# Usage: capture-state.sh [--no-setup] [--cleanup] [--private] OUTDIR
#   --no-setup  capture only: change nothing on the machine
#   --cleanup   undo the setup after the capture (delete the links it created, swapoff and
#               hot_remove the zram devices it added, restore sysctls, unmount what it mounted);
#               zram devices are then always added with hot_add, never taken from zram0/zram1
#   --private   for a shared machine: skip /proc/cmdline, dmesg and other interfaces' link
#               details (MAC addresses); the capture keeps only the links this script made
#   --host      shorthand for --cleanup --private

# The messages quote commands in backticks on purpose:
# shellcheck disable=SC2016
set -euo pipefail
export LC_ALL=C
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

usage() {
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" >&2
    exit 2
}

SETUP=1
CLEANUP=0
PRIVATE=0
OUT=
while [ $# -gt 0 ]; do
    case "$1" in
        --no-setup) SETUP=0 ;;
        --cleanup) CLEANUP=1 ;;
        --private) PRIVATE=1 ;;
        --host) CLEANUP=1; PRIVATE=1 ;;
        -h|--help) usage ;;
        -*) echo "unknown option: $1" >&2; usage ;;
        *) [ -z "$OUT" ] || usage; OUT=$1 ;;
    esac
    shift
done
[ -n "$OUT" ] || usage
[ "$(id -u)" -eq 0 ] || { echo "must run as root" >&2; exit 1; }
mkdir -p "$OUT/cmd"
OUT=$(cd "$OUT" && pwd)
ERRORS=$OUT/errors.txt
SETUPLOG=$OUT/setup.txt
ABSENT=$OUT/absent.txt
: > "$ERRORS"
: > "$SETUPLOG"
: > "$ABSENT"

# ---------------------------------------------------------------- helpers
# log_result STEP DESCRIPTION RC ERR: record one setup action in setup.txt (and errors.txt).
log_result() {
    if [ "$3" -eq 0 ]; then
        printf 'ok\t%s\t%s\n' "$1" "$2" >> "$SETUPLOG"
    else
        printf 'FAILED(%s)\t%s\t%s\n' "$3" "$1" "$2" >> "$SETUPLOG"
        printf '%s: `%s` exited %s: %s\n' "$1" "$2" "$3" "$(oneline "$4")" >> "$ERRORS"
    fi
}

# oneline TEXT: an error message on one line, without this script's "FILE: line N: " prefix.
oneline() {
    printf '%s' "$1" | sed -e 's/^.*: line [0-9]*: //' | tr '\n' ' ' | sed 's/ *$//'
}

# try STEP CMD...: run CMD; log it to setup.txt; on failure append the exact error to errors.txt.
try() {
    local step=$1 rc=0 err
    shift
    if ! command -v "$1" > /dev/null 2>&1; then
        log_result "$step" "$*" 127 "$1: command not found"
        return 127
    fi
    err=$("$@" 2>&1 >/dev/null) || rc=$?
    log_result "$step" "$*" "$rc" "$err"
    return "$rc"
}

# write STEP VALUE FILE: echo VALUE > FILE, logged like try.
write() {
    local rc=0 err
    err=$( { printf '%s\n' "$2" > "$3"; } 2>&1 ) || rc=$?
    log_result "$1" "echo '$2' > $3" "$rc" "$err"
    return "$rc"
}

# grab PATH...: copy readable files to OUT/PATH; record missing ones in absent.txt.
grab() {
    local f mode
    for f in "$@"; do
        if [ ! -e "$f" ]; then
            echo "$f" >> "$ABSENT"
            continue
        fi
        [ -f "$f" ] || continue
        mode=$(stat -L -c %a "$f")
        case "$mode" in
            [0-3]??|2??|0) continue ;;  # write-only sysfs attribute (e.g. reset, compact)
        esac
        mkdir -p "$OUT$(dirname "$f")"
        if ! cat "$f" > "$OUT$f" 2>/dev/null; then
            rm -f "$OUT$f"
            echo "$f (unreadable)" >> "$ABSENT"
        fi
    done
}

# run NAME CMD...: save CMD's stdout to OUT/cmd/NAME; a failure goes to errors.txt.
run() {
    local name=$1 rc=0 err
    shift
    if ! command -v "$1" > /dev/null 2>&1; then
        printf 'capture: `%s`: %s: command not found\n' "$*" "$1" >> "$ERRORS"
        return 0
    fi
    err=$("$@" 2>&1 > "$OUT/cmd/$name") || rc=$?
    if [ "$rc" -ne 0 ]; then
        printf 'capture: `%s` exited %s: %s\n' "$*" "$rc" "$(oneline "$err")" >> "$ERRORS"
        [ -s "$OUT/cmd/$name" ] || rm -f "$OUT/cmd/$name"
    fi
}

# ---------------------------------------------------------------- cleanup bookkeeping
CREATED_LINKS=()
ADDED_ZRAM=()
SWAPON_DEVS=()
SYSCTL_RESTORE=()
MOUNTED=()

cleanup() {
    local i d
    set +e
    for ((i = ${#MOUNTED[@]} - 1; i >= 0; i--)); do
        umount "${MOUNTED[$i]}" 2>/dev/null
    done
    [ "$CLEANUP" -eq 1 ] || return 0
    for d in "${CREATED_LINKS[@]}"; do
        ip link del "$d" 2>/dev/null
    done
    for d in "${SWAPON_DEVS[@]}"; do
        swapoff "$d" 2>/dev/null
    done
    for d in "${ADDED_ZRAM[@]}"; do
        echo 1 > "/sys/block/zram$d/reset" 2>/dev/null
        echo "$d" > /sys/class/zram-control/hot_remove 2>/dev/null
    done
    for ((i = ${#SYSCTL_RESTORE[@]} - 1; i >= 0; i--)); do
        sysctl -q -w "${SYSCTL_RESTORE[$i]}" > /dev/null 2>&1
    done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

set_sysctl() {  # set_sysctl KEY VALUE
    local old
    if ! old=$(sysctl -n "$1" 2>/dev/null); then
        printf 'FAILED(-)\tsysctl\tsysctl -w %s=%s\n' "$1" "$2" >> "$SETUPLOG"
        printf 'sysctl: %s does not exist on this kernel\n' "$1" >> "$ERRORS"
        return 1
    fi
    try sysctl sysctl -w "$1=$2" || return 1
    SYSCTL_RESTORE+=("$1=$old")
}

# make_link NAME: a multi-queue dummy link; falls back to a veth pair (peer NAMEp) when the
# kernel has no dummy driver.
make_link() {
    local name=$1
    if ip link show dev "$name" > /dev/null 2>&1; then
        if [ "$CLEANUP" -eq 1 ]; then
            printf 'link: %s already exists and is not ours: left alone\n' "$name" >> "$ERRORS"
            return 1
        fi
        ip link del "$name" 2>/dev/null || true
    fi
    if try link ip link add "$name" numtxqueues 8 numrxqueues 8 type dummy; then
        :
    elif try link ip link add "$name" numtxqueues 8 numrxqueues 8 type veth peer name "${name}p" numtxqueues 8 numrxqueues 8; then
        ip link set "${name}p" up 2>/dev/null || true
    else
        return 1
    fi
    CREATED_LINKS+=("$name")
    try link ip link set "$name" up || true
}

# zram_dev INDEX_HINT: set ZDEV to the zram index to use (hot_add when cleaning up or when
# the hinted device is missing or busy).
ZDEV=
zram_dev() {
    local n=$1
    if [ "$CLEANUP" -eq 0 ] && [ -e "/sys/block/zram$n" ] \
        && [ "$(cat "/sys/block/zram$n/disksize")" = "0" ]; then
        ZDEV=$n
        return 0
    fi
    if [ -r /sys/class/zram-control/hot_add ]; then
        # reading hot_add creates a device and prints its index
        n=$(cat /sys/class/zram-control/hot_add) || return 1
        printf 'ok\tzram\tcat /sys/class/zram-control/hot_add -> %s\n' "$n" >> "$SETUPLOG"
        ADDED_ZRAM+=("$n")
        ZDEV=$n
        return 0
    fi
    printf 'zram: no free zram device and no /sys/class/zram-control/hot_add\n' >> "$ERRORS"
    return 1
}

# ---------------------------------------------------------------- setup
setup_modules() {
    local m
    for m in sch_cake sch_taprio sch_etf sch_fq sch_fq_codel sch_mqprio tcp_bbr dummy; do
        try modprobe modprobe "$m" || true
    done
    try modprobe modprobe zram num_devices=2 || true
}

setup_qdiscs() {
    local i q
    # CAKE: shaped, diffserv4, NAT lookup
    if make_link hyp-cake0; then
        try tc tc qdisc replace dev hyp-cake0 root handle 1: cake bandwidth 100Mbit diffserv4 nat || true
    fi
    # CAKE: unlimited, best effort
    if make_link hyp-cake1; then
        try tc tc qdisc replace dev hyp-cake1 root handle 1: cake unlimited besteffort || true
    fi
    # taprio (software mode) with etf children: plain, and deadline_mode + skip_sock_check
    if make_link hyp-taprio0; then
        if try tc tc qdisc replace dev hyp-taprio0 parent root handle 100 taprio num_tc 3 \
            map 2 2 1 0 2 2 2 2 2 2 2 2 2 2 2 2 queues 1@0 1@1 2@2 base-time 1000000000 \
            sched-entry S 01 300000 sched-entry S 02 300000 sched-entry S 04 400000 \
            clockid CLOCK_TAI; then
            try tc tc qdisc replace dev hyp-taprio0 parent 100:1 etf clockid CLOCK_TAI delta 300000 || true
            try tc tc qdisc replace dev hyp-taprio0 parent 100:2 etf clockid CLOCK_TAI delta 200000 deadline_mode skip_sock_check || true
        fi
    fi
    # taprio txtime-assist (flags 0x1, tc-taprio(8)'s example): the traffic classes share tx queue 0, whose etf
    # sends each packet at the txtime taprio gives it
    if make_link hyp-taprio1; then
        if try tc tc qdisc replace dev hyp-taprio1 parent root handle 100 taprio num_tc 3 \
            map 2 2 1 0 2 2 2 2 2 2 2 2 2 2 2 2 queues 1@0 1@0 1@0 base-time 1000000000 \
            sched-entry S 01 300000 sched-entry S 02 300000 sched-entry S 04 400000 \
            flags 0x1 txtime-delay 200000 clockid CLOCK_TAI; then
            try tc tc qdisc replace dev hyp-taprio1 parent 100:1 etf clockid CLOCK_TAI delta 100000 skip_sock_check || true
        fi
    fi
    # taprio full offload (flags 0x2) on a link without a driver that runs it: errors.txt keeps the kernel's refusal
    if make_link hyp-taprio2; then
        try tc tc qdisc replace dev hyp-taprio2 parent root handle 100 taprio num_tc 3 \
            map 2 2 1 0 2 2 2 2 2 2 2 2 2 2 2 2 queues 1@0 1@1 2@2 base-time 1000000000 \
            sched-entry S 01 300000 sched-entry S 02 300000 sched-entry S 04 400000 flags 0x2 || true
    fi
    # mq root with fq / fq_codel children, alternating over the 8 tx queues
    if make_link hyp-mq0; then
        if try tc tc qdisc replace dev hyp-mq0 root handle 1: mq; then
            for i in 1 2 3 4 5 6 7 8; do
                if [ $((i % 2)) -eq 1 ]; then q=fq; else q=fq_codel; fi
                try tc tc qdisc replace dev hyp-mq0 parent "1:$(printf '%x' "$i")" "$q" || true
            done
        fi
    fi
    # fq root with a pacing cap
    if make_link hyp-fq0; then
        try tc tc qdisc replace dev hyp-fq0 root fq maxrate 50mbit || true
    fi
    # fq_codel root with tuned target/interval
    if make_link hyp-fqcodel0; then
        try tc tc qdisc replace dev hyp-fqcodel0 root fq_codel target 3ms interval 60ms ecn || true
    fi
    # tbf: a shaper most kernels have built in
    if make_link hyp-tbf0; then
        try tc tc qdisc replace dev hyp-tbf0 root tbf rate 100mbit burst 32kbit latency 400ms || true
    fi
}

setup_zram() {
    local n z blk
    [ -e /sys/class/zram-control ] || [ -e /sys/block/zram0 ] || {
        printf 'zram: no zram support (no /sys/class/zram-control)\n' >> "$ERRORS"
        return 0
    }
    # zram0-like: zstd swap with an lz4hc recompression algorithm
    if zram_dev 0; then
        n=$ZDEV
        z=/sys/block/zram$n
        blk=/dev/zram$n
        write zram 1 "$z/reset" || true
        write zram zstd "$z/comp_algorithm" || true
        if [ -e "$z/recomp_algorithm" ]; then
            write zram "algo=lz4hc priority=1" "$z/recomp_algorithm" || true
        else
            printf 'zram: %s/recomp_algorithm does not exist (no CONFIG_ZRAM_MULTI_COMP)\n' "$z" >> "$ERRORS"
        fi
        if write zram 256M "$z/disksize"; then
            try zram mkswap "$blk" || true
            if try zram swapon -p 100 "$blk"; then
                SWAPON_DEVS+=("$blk")
                [ "$CLEANUP" -eq 1 ] || push_to_swap "$blk"
            fi
        fi
    fi
    # zram1-like: plain block device, lz4hc, filled with compressible data
    if zram_dev 1; then
        n=$ZDEV
        z=/sys/block/zram$n
        blk=/dev/zram$n
        write zram 1 "$z/reset" || true
        write zram lz4hc "$z/comp_algorithm" || write zram lz4 "$z/comp_algorithm" || true
        if write zram 64M "$z/disksize"; then
            try zram sh -c "{ yes 'hyperion zram fixture: compressible text'; } | head -c 8388608 | dd of=$blk bs=1M oflag=direct iflag=fullblock status=none" || true
            try zram dd if=/dev/zero of="$blk" bs=1M seek=8 count=4 oflag=direct status=none || true
            try zram dd if=/dev/urandom of="$blk" bs=1M seek=12 count=1 oflag=direct status=none || true
        fi
    fi
}

# Swap only fills under memory pressure: charge a tmpfs file to a cgroup v2 group and ask the
# kernel to reclaim it (memory.reclaim, Linux 5.19+), which pushes the pages to zram swap.
push_to_swap() {
    local cg=/sys/fs/cgroup tmp=/run/hyp-capture-swap
    if [ ! -e "$cg/cgroup.controllers" ]; then
        mkdir -p /run/hyp-capture-cg
        try swapfill mount -t cgroup2 none /run/hyp-capture-cg || return 0
        MOUNTED+=(/run/hyp-capture-cg)
        cg=/run/hyp-capture-cg
    fi
    grep -qw memory "$cg/cgroup.controllers" || {
        printf 'swapfill: cgroup2 memory controller not available\n' >> "$ERRORS"
        return 0
    }
    write swapfill +memory "$cg/cgroup.subtree_control" || true
    mkdir -p "$cg/hyp-capture" "$tmp"
    try swapfill mount -t tmpfs -o size=96M none "$tmp" || return 0
    MOUNTED+=("$tmp")
    # the subshell joins the group, so the tmpfs pages it writes are charged there
    try swapfill sh -c "echo \$\$ > $cg/hyp-capture/cgroup.procs && { yes 'hyperion swap page'; } | head -c 33554432 > $tmp/fill && head -c 8388608 /dev/urandom > $tmp/rand" || true
    write swapfill 32M "$cg/hyp-capture/memory.reclaim" || true
    sync
}

setup_sysctls() {
    set_sysctl net.ipv4.tcp_congestion_control bbr || true
    set_sysctl net.core.default_qdisc fq || true
    set_sysctl kernel.sysrq 176 || true
}

setup_tracefs() {
    if [ -d /sys/kernel/tracing ] && [ ! -e /sys/kernel/tracing/available_tracers ]; then
        if try tracefs mount -t tracefs nodev /sys/kernel/tracing; then
            MOUNTED+=(/sys/kernel/tracing)
        fi
    fi
}

# ---------------------------------------------------------------- capture
capture() {
    local d f dev

    uname -r > "$OUT/uname-r"
    if [ "$PRIVATE" -eq 0 ]; then
        grab /proc/cmdline /proc/version
        run uname-a.txt uname -a
    else
        echo "/proc/cmdline (omitted: --private)" >> "$ABSENT"
        echo "/proc/version (omitted: --private)" >> "$ABSENT"
    fi
    grab /proc/swaps /proc/meminfo /proc/modules /proc/filesystems
    grab /proc/sys/kernel/sysrq /proc/sys/kernel/panic /proc/sys/kernel/osrelease
    grab /proc/sys/net/ipv4/tcp_congestion_control /proc/sys/net/ipv4/tcp_available_congestion_control \
         /proc/sys/net/ipv4/tcp_allowed_congestion_control /proc/sys/net/core/default_qdisc
    grab /proc/sys/vm/swappiness /proc/sys/vm/page-cluster /proc/sys/vm/overcommit_memory

    # zram
    grab /sys/class/zram-control/hot_remove
    for d in /sys/block/zram*; do
        [ -e "$d" ] || continue
        for f in "$d"/*; do
            case "${f##*/}" in uevent|dev|events*|range|ext_range|hidden|removable|capability|alignment_offset|discard_alignment|diskseq|partscan|inflight) continue ;; esac
            [ -f "$f" ] && grab "$f"
        done
        [ -e "$d/recomp_algorithm" ] || echo "$d/recomp_algorithm" >> "$ABSENT"
    done
    for f in /sys/module/zram/parameters/*; do [ -e "$f" ] && grab "$f"; done

    # block queues
    for d in /sys/block/*; do
        [ -e "$d/queue" ] || continue
        grab "$d/queue/scheduler" "$d/queue/rotational" "$d/queue/read_ahead_kb" "$d/queue/nr_requests"
    done

    # transparent hugepages (including per-size mTHP controls where the kernel has them)
    for f in /sys/kernel/mm/transparent_hugepage/*; do
        [ -f "$f" ] && grab "$f"
    done
    for f in /sys/kernel/mm/transparent_hugepage/hugepages-*/enabled \
             /sys/kernel/mm/transparent_hugepage/khugepaged/defrag \
             /sys/kernel/mm/transparent_hugepage/khugepaged/pages_to_scan; do
        [ -e "$f" ] && grab "$f"
    done

    # zswap
    if [ -d /sys/module/zswap/parameters ]; then
        for f in /sys/module/zswap/parameters/*; do grab "$f"; done
    else
        echo /sys/module/zswap/parameters >> "$ABSENT"
    fi
    # kgdb over serial
    grab /sys/module/kgdboc/parameters/kgdboc

    # ftrace
    grab /sys/kernel/tracing/available_tracers /sys/kernel/tracing/current_tracer /sys/kernel/tracing/tracing_on

    # commands
    run tc-V.txt tc -V
    run ip-V.txt ip -V
    run tc-j-qdisc-show.json tc -j qdisc show
    run tc-j-s-qdisc-show.json tc -j -s qdisc show
    run tc-qdisc-show.txt tc qdisc show
    run tc-s-qdisc-show.txt tc -s qdisc show
    if [ "$PRIVATE" -eq 0 ]; then
        run ip-j-link-show.json ip -j link show
        run ip-j-d-link-show.json ip -j -d link show
        run dmesg-cmdline.txt sh -c "dmesg | grep -iE 'command line|unknown kernel|passed to user space|kgdb|sysrq|zram|zswap|dyndbg|watchdog|tcp_bbr|sch_' || true"
    fi
    for dev in $(ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//'); do
        if [ "$PRIVATE" -eq 1 ]; then
            case " lo ${CREATED_LINKS[*]} " in *" $dev "*) ;; *) continue ;; esac
            run "ip-j-d-link-show-dev-$dev.json" ip -j -d link show dev "$dev"
        fi
        run "tc-j-qdisc-show-dev-$dev.json" tc -j qdisc show dev "$dev"
        run "tc-j-s-qdisc-show-dev-$dev.json" tc -j -s qdisc show dev "$dev"
        run "tc-j-class-show-dev-$dev.json" tc -j class show dev "$dev"
    done
    run swapon-show.txt swapon --show
    run swapon-show-bytes-raw.txt swapon --show --bytes --raw
    if command -v zramctl > /dev/null 2>&1; then
        run zramctl.txt zramctl
        run zramctl-output-all-bytes.txt zramctl --output-all --bytes
    fi
    run lsmod.txt lsmod
    run sysctl-selected.txt sysctl net.ipv4.tcp_congestion_control net.ipv4.tcp_available_congestion_control \
        net.core.default_qdisc kernel.sysrq vm.swappiness
}

if [ "$SETUP" -eq 1 ]; then
    setup_modules
    setup_qdiscs
    setup_zram
    setup_sysctls
fi
setup_tracefs
capture
echo "captured into $OUT ($(wc -l < "$ERRORS") setup/capture errors, see errors.txt)"
