#!/bin/bash
# fault-kernel.sh [GOOD_BUILD_DIR]: a kernel package that cannot boot, for the rollout's fault test.
#
# The test kernel (make kernel-package) without its root file system driver: the lab's root is
# ext4, built in (CONFIG_EXT4_FS=y), so this kernel's initramfs cannot mount it and gives up, and
# with panic=N on the command line the machine reboots. Built incrementally in a copy of the good
# build's object tree (minutes, not a full build), release <good>-noroot. Cached under
# $HYPERION_CACHE/fault-kernel/<key>, the key a hash of the good build's key and this script.
# Prints the path of the linux-image .deb on its last line.
set -euo pipefail

cache=${HYPERION_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hyperion-kernel}
good=$(readlink -f "${1:-$cache/kernel-package/latest}")
jobs=${FAULT_KERNEL_JOBS:-$(nproc)}

die() { echo "fault-kernel: $*" >&2; exit 1; }

if [ ! -f "$good/result.json" ] || [ ! -d "$good/obj" ]; then die "no finished test kernel build in $good: run make kernel-package first"; fi
good_release=$(cat "$good/obj/include/config/kernel.release")
localversion=$(sed -n 's/^CONFIG_LOCALVERSION="\(.*\)"$/\1/p' "$good/obj/.config")
fault_localversion="${localversion}-noroot"

key=$( { cat "$good/result.json"; cat "$0"; } | sha256sum | cut -c1-16)
out="$cache/fault-kernel/$key"
find_deb() { find "$out" -maxdepth 1 -name "linux-image-*-noroot_*.deb" | head -n 1; }

if [ -f "$out/done" ]; then
    echo "fault-kernel: cached build $out ($good_release without its root file system driver)" >&2
    find_deb
    exit 0
fi

src=$(sed -n 's/^include \(.*\)\/Makefile$/\1/p' "$good/obj/Makefile")
[ -d "$src" ] || die "the good build's source tree $src is gone: run make kernel-package again"

work="$out.work"
rm -rf "$work" "$out"
mkdir -p "$work"
start=$SECONDS
echo "fault-kernel: copying the object tree of $good_release" >&2
# Timestamps are kept, so make rebuilds only what the changed options touch.
cp -a --reflink=auto "$good/obj" "$work/obj"

make_obj=(make -C "$src" "O=$work/obj" ARCH=x86_64)
"$src/scripts/config" --file "$work/obj/.config" --disable EXT4_FS --set-str LOCALVERSION "$fault_localversion"
"${make_obj[@]}" -s olddefconfig
grep -qx '# CONFIG_EXT4_FS is not set' "$work/obj/.config" || die "olddefconfig brought CONFIG_EXT4_FS back"
if grep -Eq '^CONFIG_(EXT2_FS|EXT3_FS|BTRFS_FS|XFS_FS)=' "$work/obj/.config"; then
    echo "fault-kernel: note: another file system driver is on; the ext4 root still needs EXT4_FS" >&2
fi

echo "fault-kernel: make bindeb-pkg -j$jobs (log: $work/build.log)" >&2
if ! "${make_obj[@]}" "-j$jobs" bindeb-pkg > "$work/build.log" 2>&1; then
    tail -n 40 "$work/build.log" >&2
    die "the build failed; log in $work/build.log"
fi
release=$(cat "$work/obj/include/config/kernel.release")
[ "$release" = "${good_release}-noroot" ] || die "unexpected release $release"

# Keep the packages and the config, not the 900 MB object tree.
mkdir -p "$out"
mv "$work"/linux-image-*.deb "$out/"
cp "$work/obj/.config" "$out/config-$release"
mv "$work/build.log" "$out/"
rm -rf "$work"
printf '{"release": "%s", "from": "%s", "seconds": %d}\n' "$release" "$good_release" $((SECONDS - start)) > "$out/done"
echo "fault-kernel: built $release in $((SECONDS - start)) s" >&2
find_deb
