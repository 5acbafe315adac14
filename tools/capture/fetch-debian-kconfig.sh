#!/usr/bin/env bash
# Download Debian's linux-image-*-amd64 package for one suite with a private APT
# directory (the host's apt state is not touched), extract /boot/config-* and
# copy it to OUTDIR as debian-SUITE-RELEASE.config.
#
# Usage: tools/capture/fetch-debian-kconfig.sh SUITE [OUTDIR]
#   SUITE   a Debian suite name, e.g. bookworm or trixie
#   OUTDIR  default: tests/unit/fixtures/kconfig (relative to the repo root)
set -euo pipefail

usage() {
    echo "usage: $0 SUITE [OUTDIR]   (e.g. $0 trixie)" >&2
    exit 2
}
[ $# -ge 1 ] && [ $# -le 2 ] || usage
SUITE=$1
case "$SUITE" in ''|*[!a-z0-9-]*) usage ;; esac

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(git -C "$HERE" rev-parse --show-toplevel)
OUTDIR=${2:-$ROOT/tests/unit/fixtures/kconfig}
# shellcheck source=lib-apt.sh disable=SC1091
. "$HERE/lib-apt.sh"

MIRROR=$(debian_mirror) || { echo "no Debian mirror found in the host's apt config" >&2; exit 1; }
SECURITY=$(debian_security_mirror || true)
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
chmod 0755 "$WORK"   # lets apt drop privileges to _apt for downloads
mkdir -p "$WORK/etc/sources.list.d" "$WORK/etc/preferences.d" "$WORK/state/lists/partial" \
         "$WORK/cache/archives/partial" "$WORK/deb"
: > "$WORK/state/status"
{
    printf 'Types: deb\nURIs: %s\nSuites: %s %s-updates\nComponents: main\nSigned-By: %s\n' \
        "$MIRROR" "$SUITE" "$SUITE" "$KEYRING"
    if [ -n "$SECURITY" ]; then
        printf '\nTypes: deb\nURIs: %s\nSuites: %s-security\nComponents: main\nSigned-By: %s\n' \
            "$SECURITY" "$SUITE" "$KEYRING"
    fi
} > "$WORK/etc/sources.list.d/capture.sources"

APT_OPTS=(
    -o "Dir::Etc=$WORK/etc" -o "Dir::Etc::sourcelist=/dev/null"
    -o "Dir::Etc::sourceparts=$WORK/etc/sources.list.d"
    -o "Dir::Etc::preferencesparts=$WORK/etc/preferences.d"
    -o "Dir::State=$WORK/state" -o "Dir::State::status=$WORK/state/status"
    -o "Dir::Cache=$WORK/cache" -o "APT::Architecture=amd64"
    -o "APT::Architectures::=amd64" -o "Debug::NoLocking=1" -o "APT::Sandbox::User=root"
)
apt-get "${APT_OPTS[@]}" -q update >&2

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
