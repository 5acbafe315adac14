#!/usr/bin/env bash
# Copy the running kernel's own configuration (/proc/config.gz, CONFIG_IKCONFIG_PROC)
# to OUTDIR/host-RELEASE.config, as plain text.
#
# Usage: workbench/capture/capture-host-kconfig.sh [OUTDIR]
#   OUTDIR  default: tests/unit/fixtures/kconfig (relative to the repo root)
set -euo pipefail

if [ $# -gt 1 ] || [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then
    echo "usage: $0 [OUTDIR]" >&2
    exit 2
fi
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(git -C "$HERE" rev-parse --show-toplevel)
OUTDIR=${1:-$ROOT/tests/unit/fixtures/kconfig}

if [ ! -r /proc/config.gz ]; then
    modprobe configs 2>/dev/null || true
fi
[ -r /proc/config.gz ] || { echo "/proc/config.gz not available (no CONFIG_IKCONFIG_PROC)" >&2; exit 1; }
mkdir -p "$OUTDIR"
DEST="$OUTDIR/host-$(uname -r).config"
zcat /proc/config.gz > "$DEST"
chmod 0644 "$DEST"
echo "$DEST"
