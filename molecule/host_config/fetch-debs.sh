#!/usr/bin/env bash
# Download Debian packages the scenario's guests need (zram-generator, zram-tools) on the
# controller, with a private APT directory for the guests' suite: the guests reach no mirror of
# their own, and the host's apt state is not touched.
# Usage: fetch-debs.sh SUITE OUTDIR PACKAGE...
set -euo pipefail
[ $# -ge 3 ] || { echo "usage: $0 SUITE OUTDIR PACKAGE..." >&2; exit 2; }
SUITE=$1 OUTDIR=$2
shift 2
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(git -C "$HERE" rev-parse --show-toplevel)
# shellcheck source=../../tools/capture/lib-apt.sh disable=SC1091
. "$ROOT/tools/capture/lib-apt.sh"
mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)   # private_apt works in it after the cd below
WORK=$OUTDIR/.apt
chmod 0755 "$OUTDIR"
private_apt "$WORK" "$SUITE" 2>/dev/null
cd "$OUTDIR"
apt-get "${APT_OPTS[@]}" -q download "$@" >&2
ls -1 "$OUTDIR"/*.deb
