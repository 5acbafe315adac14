#!/usr/bin/env bash
# capture-guest-crash.sh [OUTFILE]: crash a lab machine's kernel on purpose (SysRq c) and keep its
# serial console from the trigger to the end of the panic, for the crash-line tests of the lab's
# failure summary (workbench/tests/lab/test_failures.py). Starts a one-machine lab of its own and stops it.
# Default OUTFILE: workbench/tests/lab/fixtures/serial-sysrq-crash.log
set -euo pipefail
top=$(git rev-parse --show-toplevel)
outfile=${1:-$top/tests/lab/fixtures/serial-sysrq-crash.log}
lab=capture-crash machine=crash1
cli="$top/lab/bin/hyperion-lab"
trap '"$cli" down --lab "$lab" >/dev/null 2>&1 || true' EXIT

serial=$("$cli" up --lab "$lab" --names "$machine" --json \
         | python3 -c 'import json, sys; print(json.load(sys.stdin)["machines"][sys.argv[1]]["serial_log"])' "$machine")
[ -f "$serial" ] || { echo "no serial log for $machine of lab $lab" >&2; exit 1; }
start=$(wc -l < "$serial")
# The shell never answers: the kernel dies under it. /proc/sysrq-trigger works for root whatever kernel.sysrq says.
timeout 30 "$cli" ssh --lab "$lab" "$machine" "sudo -n sh -c 'sleep 1; echo c > /proc/sysrq-trigger' &" >/dev/null 2>&1 || true
for _ in $(seq 120); do
  grep -q -a "end Kernel panic" "$serial" && break
  sleep 1
done
grep -q -a "end Kernel panic" "$serial" || { echo "no panic in $serial within 120 s:" >&2; tail -20 "$serial" >&2; exit 1; }
# From the line after the SSH session's start to the end of the panic, as the console wrote it.
tail -n "+$((start + 1))" "$serial" | sed -n '1,/end Kernel panic/p' > "$outfile"
echo "kept $(wc -l < "$outfile") lines of $machine's crash in $outfile"
