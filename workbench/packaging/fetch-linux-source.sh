#!/usr/bin/env bash
# Fetch and unpack one of Debian's linux-source-X.Y packages for the test kernel build, without
# touching the host's apt state, and print "<package>_<version> <tree>" on stdout.
#
# The cache is the one workbench/capture/kconfig-from-fragment.sh fills (~/.cache/hyperion-kernel/kernel-source/,
# shared by every clone;
# <package>_<version>/{*.deb,tree,.unpacked}, one flock per version), so either script reuses what
# the other downloaded. The mirror comes from the host's apt configuration (workbench/capture/lib-apt.sh).
#
# Usage: workbench/packaging/fetch-linux-source.sh [SUITE [PACKAGE]]   (default: trixie linux-source-6.12)
# Environment: KERNEL_SOURCE_OFFLINE=1 uses the newest cached version without asking the archive.
set -euo pipefail

SUITE=${1:-trixie}
PKG=${2:-linux-source-6.12}
case "$SUITE$PKG" in *[!a-z0-9.-]*) echo "usage: $0 [SUITE [PACKAGE]]" >&2; exit 2 ;; esac

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(git -C "$HERE" rev-parse --show-toplevel)
CACHE=${HYPERION_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hyperion-kernel}/kernel-source
# shellcheck source=../capture/lib-apt.sh disable=SC1091
. "$ROOT/workbench/capture/lib-apt.sh"
log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
chmod 0755 "$WORK"   # lets apt drop privileges to _apt for downloads

if [ "${KERNEL_SOURCE_OFFLINE:-0}" = 1 ]; then
    KEY=$(find "$CACHE" -mindepth 2 -maxdepth 2 -name .unpacked -path "*/${PKG}_*" 2>/dev/null \
          | sed 's|/\.unpacked$||; s|.*/||' | sort -V | tail -n1)
    [ -n "$KEY" ] || { echo "KERNEL_SOURCE_OFFLINE=1 but no unpacked $PKG in $CACHE" >&2; exit 1; }
    echo "$KEY $CACHE/$KEY/tree"
    exit 0
fi

MIRROR=$(debian_mirror) || { echo "no Debian mirror found in the host's apt configuration" >&2; exit 1; }
SECURITY=$(debian_security_mirror || true)
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
A=$WORK/apt
mkdir -p "$A/etc/sources.list.d" "$A/etc/preferences.d" "$A/state/lists/partial" "$A/cache/archives/partial" "$WORK/deb"
: > "$A/state/status"
{
    printf 'Types: deb\nURIs: %s\nSuites: %s %s-updates\nComponents: main\nSigned-By: %s\n' "$MIRROR" "$SUITE" "$SUITE" "$KEYRING"
    [ -z "$SECURITY" ] || printf '\nTypes: deb\nURIs: %s\nSuites: %s-security\nComponents: main\nSigned-By: %s\n' "$SECURITY" "$SUITE" "$KEYRING"
} > "$A/etc/sources.list.d/source.sources"
APT_OPTS=(
    -o "Dir::Etc=$A/etc" -o "Dir::Etc::sourcelist=/dev/null" -o "Dir::Etc::sourceparts=$A/etc/sources.list.d"
    -o "Dir::Etc::preferencesparts=$A/etc/preferences.d" -o "Dir::State=$A/state"
    -o "Dir::State::status=$A/state/status" -o "Dir::Cache=$A/cache" -o "APT::Architecture=amd64"
    -o "APT::Architectures::=amd64" -o "Debug::NoLocking=1" -o "APT::Sandbox::User=root"
)
apt-get "${APT_OPTS[@]}" -qq update >&2
VERSION=$(apt-cache "${APT_OPTS[@]}" policy "$PKG" | awk '/Candidate:/ {print $2}')
case "$VERSION" in ''|'(none)') echo "$PKG not found in Debian $SUITE" >&2; exit 1 ;; esac

KEY=${PKG}_$VERSION
SRC=$CACHE/$KEY
mkdir -p "$SRC"
exec 9> "$SRC/.lock"
flock 9   # one unpack per version at a time, shared with kconfig-from-fragment.sh
if [ ! -e "$SRC/.unpacked" ]; then
    DEB=$(find "$SRC" -maxdepth 1 -name '*.deb' | head -n1)
    if [ -z "$DEB" ]; then
        log "downloading $PKG $VERSION from Debian $SUITE"
        (cd "$WORK/deb" && apt-get "${APT_OPTS[@]}" -qq download "$PKG=$VERSION" >&2)
        mv "$WORK"/deb/*.deb "$SRC/"
        DEB=$(find "$SRC" -maxdepth 1 -name '*.deb' | head -n1)
    fi
    log "unpacking $(basename "$DEB")"
    rm -rf "$SRC/tree" "$SRC/tree.partial"
    mkdir -p "$SRC/tree.partial"
    # The package ships the source as /usr/src/linux-source-X.Y.tar.xz.
    dpkg-deb --fsys-tarfile "$DEB" | tar -x -C "$WORK/deb" --wildcards './usr/src/linux-source-*.tar.*'
    TARBALL=$(find "$WORK/deb/usr/src" -maxdepth 1 -name 'linux-source-*.tar.*' | head -n1)
    [ -n "$TARBALL" ] || { echo "no source tarball in $(basename "$DEB")" >&2; exit 1; }
    tar -x -f "$TARBALL" -C "$SRC/tree.partial" --strip-components=1
    mv "$SRC/tree.partial" "$SRC/tree"
    touch "$SRC/.unpacked"
fi
echo "$KEY $SRC/tree"
