#!/usr/bin/env bash
# Download Debian packages a scenario installs in its guests before the roles run (zram-generator,
# zram-tools) on the controller, through a private APT directory for the guests' suite: the host's
# apt state is not touched, and each guest gets the same files without asking the archive itself.
# Usage: fetch-debs.sh SUITE OUTDIR PACKAGE...
set -euo pipefail
[ $# -ge 3 ] || { echo "usage: $0 SUITE OUTDIR PACKAGE..." >&2; exit 2; }
SUITE=$1 OUTDIR=$(realpath -m "$2")
shift 2
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(git -C "$HERE" rev-parse --show-toplevel)
# shellcheck source=../../workbench/capture/lib-apt.sh disable=SC1091
. "$ROOT/workbench/capture/lib-apt.sh"
mkdir -p "$OUTDIR"
chmod 0755 "$OUTDIR"
private_apt "$OUTDIR/.apt" "$SUITE" 2>/dev/null
cd "$OUTDIR"
apt-get "${APT_OPTS[@]}" -q download "$@" >&2
ls -1 "$OUTDIR"/*.deb
