#!/usr/bin/env bash
# fault-kernel.sh [--fault FAULT] [GOOD_BUILD_DIR]: a test kernel with a fault, for the trial boot's fault tests.
#
# FAULT is what the test kernel (make kernel-package) goes without:
#   noroot (the default)  its root file system driver: the lab's root is ext4, built in (CONFIG_EXT4_FS=y),
#                         so this kernel's initramfs cannot mount it and gives up, and with panic=N on the
#                         command line the machine reboots;
#   nonet                 its network drivers (virtio-net for the lab's uplink, vmxnet3 for its peer link): it
#                         boots, but the controller never reaches it again.
# Built incrementally in a copy of the good
# build's object tree (minutes, not a full build), release <good>-<FAULT>. Kbuild records absolute
# object paths in every command line, so a copy elsewhere would rebuild everything: the copy is
# mounted over the good build's directory in a private mount namespace (root; nobody else sees
# it) and built there. Cached under
# $HYPERION_CACHE/fault-kernel/<key>, the key a hash of the good build's key, the fault and this script, with
# a result.json in the build role's format, so lookup('hyperion.kernel.test_kernel', package_dir=DIR)
# reads it as it reads the good build. Prints that directory on its last line.
set -euo pipefail

die() { echo "fault-kernel: $*" >&2; exit 1; }

fault=noroot
if [ "${1:-}" = --fault ]; then
    [ $# -ge 2 ] || die "--fault needs a value: noroot or nonet"
    fault=$2
    shift 2
fi
# The options each fault turns off, and what the package says it lacks.
case "$fault" in
    noroot) disable="EXT4_FS"; lacks="its root file system driver" ;;
    nonet) disable="VIRTIO_NET VMXNET3"; lacks="its network drivers" ;;
    *) die "unknown fault '$fault': noroot or nonet" ;;
esac

cache=${HYPERION_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hyperion-kernel}
good=$(readlink -f "${1:-$cache/kernel-package/latest}")
jobs=${FAULT_KERNEL_JOBS:-$(nproc)}

if [ ! -f "$good/result.json" ] || [ ! -d "$good/obj" ]; then die "no finished test kernel build in $good: run make kernel-package first"; fi
good_release=$(cat "$good/obj/include/config/kernel.release")
localversion=$(sed -n 's/^CONFIG_LOCALVERSION="\(.*\)"$/\1/p' "$good/obj/.config")
fault_localversion="${localversion}-$fault"

key=$( { cat "$good/result.json"; echo "fault=$fault"; cat "$0"; } | sha256sum | cut -c1-16)
out="$cache/fault-kernel/$key"

if [ -f "$out/result.json" ]; then
    echo "fault-kernel: cached build $out ($good_release without $lacks)" >&2
    echo "$out"
    exit 0
fi

src=$(sed -n 's/^include \(.*\)\/Makefile$/\1/p' "$good/obj/Makefile")
[ -d "$src" ] || die "the good build's source tree $src is gone: run make kernel-package again"
[ "$(id -u)" = 0 ] || die "needs root (a private mount namespace keeps the object paths of the good build)"

work="$out.work"
rm -rf "$work" "$out"
mkdir -p "$work"
start=$SECONDS
echo "fault-kernel: copying the object tree of $good_release" >&2
# Timestamps are kept, so make rebuilds only what the changed options touch.
cp -a --reflink=auto "$good/obj" "$work/obj"

# Kbuild keeps the source tree's real path (realpath) in every recorded command line. When the
# path the good build used now passes through a symlink (the source moved), that path is rebuilt
# in the namespace too: a tmpfs over the directory holding the symlink, the real tree bound at
# the old path. Otherwise the whole kernel would be compiled again.
src_real=$(readlink -f "$src")
shadow=""
if [ "$src_real" != "$src" ]; then
    shadow=$src
    while [ ! -L "$shadow" ]; do shadow=$(dirname "$shadow"); done
    shadow=$(dirname "$shadow")
    [ "$(readlink -f "$shadow")" = "$shadow" ] || die "cannot rebuild the source path $src (nested symlinks)"
fi

# A patched build keeps its source inside the good build's directory ($good/src, a patched copy):
# the copy gets a mount point there, bound to the real tree before $work covers $good.
inner_src=""
case "$src" in "$good"/*) inner_src=${src#"$good"/}; mkdir -p "$work/$inner_src" ;; esac

# Inside the namespace $good shows $work: the same paths, the copy's files; bindeb-pkg writes the
# packages next to obj/, so into $work as well.
echo "fault-kernel: make bindeb-pkg -j$jobs (log: $work/build.log)" >&2
"$(dirname "$0")/build-progress" fault-kernel "$work" >&2 &
progress=$!
trap 'kill "$progress" 2>/dev/null' EXIT
# shellcheck disable=SC2016  # the inner script expands its own arguments
if ! unshare --mount --propagation private -- /bin/bash -euo pipefail -c '
        good=$1 work=$2 src=$3 src_real=$4 shadow=$5 localversion=$6 jobs=$7 inner_src=$8 disable=$9
        if [ -n "$inner_src" ]; then
            mount --bind "$good/$inner_src" "$work/$inner_src"
        fi
        mount --rbind "$work" "$good"
        if [ -n "$shadow" ]; then
            mount -t tmpfs fault-kernel-src "$shadow"
            mkdir -p "$src"
            mount --bind "$src_real" "$src"
        fi
        for option in $disable; do
            "$src/scripts/config" --file "$good/obj/.config" --disable "$option"
        done
        "$src/scripts/config" --file "$good/obj/.config" --set-str LOCALVERSION "$localversion"
        make -C "$src" "O=$good/obj" ARCH=x86_64 -s olddefconfig
        for option in $disable; do
            grep -qx "# CONFIG_$option is not set" "$good/obj/.config" || { echo "olddefconfig brought CONFIG_$option back"; exit 1; }
        done
        make -C "$src" "O=$good/obj" ARCH=x86_64 "-j$jobs" bindeb-pkg
    ' fault-kernel "$good" "$work" "$src" "$src_real" "$shadow" "$fault_localversion" "$jobs" "$inner_src" "$disable" > "$work/build.log" 2>&1; then
    tail -n 40 "$work/build.log" >&2
    die "the build failed; log in $work/build.log"
fi
release=$(cat "$work/obj/include/config/kernel.release")
[ "$release" = "${good_release}-$fault" ] || die "unexpected release $release"

# Keep the packages and the config, not the 900 MB object tree.
mkdir -p "$out"
mv "$work"/linux-image-*.deb "$out/"
cp "$work/obj/.config" "$out/config-$release"
mv "$work/build.log" "$out/"
rm -rf "$work"
image=$(cd "$out" && ls linux-image-*-"$fault"_*.deb)
[ "$(wc -l <<< "$image")" = 1 ] || die "expected one linux-image package, found: $image"
# Written last: its presence marks the cache entry complete.
printf '{"kernel_release": "%s", "key": "%s", "source": "%s without %s", "packages": ["%s"], "seconds": %d}\n' \
    "$release" "$key" "$good_release" "$(echo "$disable" | sed 's/\([A-Z0-9_]*\)/CONFIG_\1/g; s/ /, /g')" "$image" $((SECONDS - start)) > "$out/result.json"
echo "fault-kernel: built $release in $((SECONDS - start)) s" >&2
echo "$out"
