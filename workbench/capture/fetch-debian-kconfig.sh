#!/usr/bin/env bash
# Download Debian's linux-image-*-amd64 package for one suite with a private APT
# directory (the host's apt state is not touched), extract /boot/config-* and
# copy it to OUTDIR as debian-SUITE-RELEASE.config.
#
# Usage: workbench/capture/fetch-debian-kconfig.sh SUITE [OUTDIR]
#   SUITE   a Debian suite name, e.g. bookworm or trixie
#   OUTDIR  default: tests/unit/fixtures/kconfig (relative to the repo root)
set -euo pipefail

usage() {
    echo "usage: $0 SUITE [OUTDIR]   (e.g. $0 trixie)" >&2
    exit 2
}
if [ $# -lt 1 ] || [ $# -gt 2 ]; then usage; fi
SUITE=$1
case "$SUITE" in ''|*[!a-z0-9-]*) usage ;; esac

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(git -C "$HERE" rev-parse --show-toplevel)
OUTDIR=${2:-$ROOT/tests/unit/fixtures/kconfig}
# shellcheck source=lib-apt.sh disable=SC1091
. "$HERE/lib-apt.sh"

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
chmod 0755 "$WORK"   # lets apt drop privileges to _apt for downloads
mkdir -p "$WORK/deb"
private_apt "$WORK" "$SUITE"

# linux-image-amd64 is a metapackage: its Depends names the versioned image package.
IMAGE=$(apt-cache "${APT_OPTS[@]}" depends linux-image-amd64 \
        | awk '$1 ~ /Depends:/ && $2 ~ /^linux-image-[0-9].*-amd64$/ {print $2; exit}')
[ -n "$IMAGE" ] || { echo "cannot resolve linux-image-amd64 in $SUITE" >&2; exit 1; }
VERSION=$(apt-cache "${APT_OPTS[@]}" policy "$IMAGE" | awk '/Candidate:/ {print $2}')
echo "suite $SUITE: $IMAGE $VERSION" >&2

(cd "$WORK/deb" && apt-get "${APT_OPTS[@]}" -q download "$IMAGE" >&2)
DEB=$(ls "$WORK"/deb/*.deb)
dpkg-deb --fsys-tarfile "$DEB" | tar -x -C "$WORK/deb" --wildcards './boot/config-*'
CONFIG=$(ls "$WORK"/deb/boot/config-*)
RELEASE=${CONFIG##*/config-}

mkdir -p "$OUTDIR"
DEST="$OUTDIR/debian-$SUITE-$RELEASE.config"
cp "$CONFIG" "$DEST"
chmod 0644 "$DEST"
echo "$DEST ($IMAGE $VERSION)"
