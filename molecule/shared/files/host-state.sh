#!/bin/sh
# What the collection's roles may change on a machine, one line per thing, sorted, for the comparisons of
# molecule/rollout (before the first deploy.yml, after rollback.yml) and molecule/trial_faults (before the
# first fault, after the fallback of the second): every file and link where the roles write (its sha256 and
# mode, or its target), the directories there that hold something, the kernel command line (without
# BOOT_IMAGE), the sysctls and module parameters (modparam:MODULE.PARAM) given as arguments, the preemption
# mode and the scheduler features, the swap devices, the root qdiscs, transparent huge pages, the I/O schedulers
# and the enabled units. Run as root.
set -u
LC_ALL=C
export LC_ALL
{
    for path in /etc/default/grub /etc/default/grub.d/* /etc/sysctl.d/* /etc/udev/rules.d/* /etc/tmpfiles.d/* \
                /etc/modprobe.d/* /etc/modules-load.d/* /etc/systemd/zram-generator.conf /etc/systemd/zram-generator.conf.d/* \
                /etc/systemd/system/* /etc/systemd/system/*/* /etc/apt/sources.list.d/* /etc/apt/keyrings/* \
                /usr/local/libexec/* /etc/hyperion-kernel/*; do
        if [ -L "$path" ]; then
            echo "link $path -> $(readlink "$path")"
        elif [ -f "$path" ]; then
            echo "file $path $(sha256sum < "$path" | cut -c1-64) $(stat -c %a "$path")"
        elif [ -d "$path" ] && [ -n "$(ls -A "$path")" ]; then
            # An empty directory (a .wants directory whose last link went) has no effect on systemd or anything else.
            echo "dir $path"
        fi
    done
    echo "cmdline $(tr ' ' '\n' < /proc/cmdline | grep -v '^BOOT_IMAGE=' | grep -v '^$' | sort | tr '\n' ' ')"
    for key in "$@"; do
        case $key in
            modparam:*.*)
                name=${key#modparam:}
                file=/sys/module/${name%%.*}/parameters/${name#*.}
                echo "modparam $name $(cat "$file" 2>/dev/null || echo '(none)')" ;;
            *) echo "sysctl $key $(sysctl -n "$key" 2>/dev/null || echo '(none)')" ;;
        esac
    done
    echo "preempt $(cat /sys/kernel/debug/sched/preempt 2>/dev/null || echo '(none)')"
    echo "sched_features $(cat /sys/kernel/debug/sched/features 2>/dev/null || echo '(none)')"
    tail -n +2 /proc/swaps | awk '{print "swap " $1 " " $2 " " $5}'
    for dev in /sys/class/net/*; do
        name=${dev##*/}
        [ "$name" = lo ] && continue
        echo "qdisc $name $(tc qdisc show dev "$name" root | awk '{print $2}')"
    done
    for knob in enabled defrag; do
        echo "thp $knob $(cat /sys/kernel/mm/transparent_hugepage/$knob 2>/dev/null)"
    done
    for queue in /sys/block/*/queue/scheduler; do
        echo "scheduler $queue $(cat "$queue")"
    done
    systemctl list-unit-files --state=enabled --no-legend 2>/dev/null | awk '{print "enabled " $1}'
} | sort
