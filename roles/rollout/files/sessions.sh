#!/bin/sh
# Sessions of logind other than the one this script runs in, one per line:
#   <id> <user> <class> <type> <state> <remote> <seat> <tty>
# Without logind (no loginctl), nothing is printed.
set -u
command -v loginctl >/dev/null 2>&1 || exit 0
own="${XDG_SESSION_ID:-}"
audit=$(cat /proc/self/sessionid 2>/dev/null || true)
for id in $(loginctl list-sessions --no-legend 2>/dev/null | awk '{print $1}'); do
    [ "$id" = "$own" ] && continue
    [ "$id" = "$audit" ] && continue
    loginctl show-session "$id" -p Id -p Name -p Class -p Type -p State -p Remote -p Seat -p TTY 2>/dev/null \
        | awk -F= '{v[$1] = ($2 == "" ? "-" : $2)}
                   END {print v["Id"], v["Name"], v["Class"], v["Type"], v["State"], v["Remote"], v["Seat"], v["TTY"]}'
done
