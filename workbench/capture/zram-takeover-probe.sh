#!/usr/bin/env bash
# Run the zram role's probe (roles/zram/files/hyperion-zram-probe, with the role's default units and packages)
# in a trixie lab machine in the three states the role meets, and keep its output:
#   OUTDIR/no-replaced-setup.txt        the lab image as built (zram-generator installed, nothing to replace)
#   OUTDIR/zram-tools-running.txt       Debian's zram-tools installed and its zramswap.service started
#   OUTDIR/zram-tools-config-files.txt  zram-tools removed without purging (only its configuration left)
# Usage: workbench/capture/zram-takeover-probe.sh OUTDIR
# Needs the project venv (make venv) or PYTHON with PyYAML. Starts and stops its own lab (capture-zram);
# zram-tools comes from Debian's archive (molecule/shared/fetch-debs.sh).
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
mkdir -p "$1"
OUTDIR=$(cd "$1" && pwd)
ROOT=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
cd "$ROOT"
LAB=capture-zram
PROBE=roles/zram/files/hyperion-zram-probe
# The probe's arguments as the role passes them, from the role's defaults: zram_takeover_services, then "--",
# zram_package and zram_takeover_packages (read with the project venv's PyYAML, or PYTHON's).
read -r -a ARGS <<< "$("${PYTHON:-.venv/bin/python}" -c '
import yaml
defaults = yaml.safe_load(open("roles/zram/defaults/main.yml"))
print(" ".join(defaults["zram_takeover_services"] + ["--", defaults["zram_package"]] + defaults["zram_takeover_packages"]))')"
lab() { workbench/lab/bin/hyperion-lab "$@"; }
# One string: ssh hands the guest's shell one command line.
on_guest() { lab ssh --lab "$LAB" probe1 "$1"; }
work=$(mktemp -d)
trap 'lab down --lab "$LAB" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
molecule/shared/fetch-debs.sh trixie "$work/debs" zram-tools >/dev/null
lab up --lab "$LAB" --names probe1 --suite trixie >/dev/null
on_guest 'cat > /tmp/hyperion-zram-probe && chmod 0755 /tmp/hyperion-zram-probe' < "$PROBE"
on_guest 'cat > /tmp/zram-tools.deb' < "$(ls "$work"/debs/zram-tools_*.deb)"
probe() { on_guest "sudo /tmp/hyperion-zram-probe ${ARGS[*]}" > "$OUTDIR/$1.txt"; }
probe no-replaced-setup
on_guest 'sudo apt-get install -q -y /tmp/zram-tools.deb >/dev/null && sudo systemctl start zramswap.service'
probe zram-tools-running
on_guest 'sudo systemctl stop zramswap.service && sudo dpkg --remove zram-tools >/dev/null'
probe zram-tools-config-files
echo "captured in $OUTDIR:"
ls -l "$OUTDIR"
