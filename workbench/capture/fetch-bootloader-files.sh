#!/usr/bin/env bash
# Real bootloader files of one Debian suite for the kernel_cmdline unit tests:
# - /etc/default/grub as Debian installs it (grub2-common's /usr/share/grub/default/grub,
#   which grub-pc's postinst copies to /etc/default/grub), with grub-common's
#   grub-mkconfig (whether it sources /etc/default/grub.d/*.cfg decides how the
#   module edits GRUB) and grub2-common's update-grub;
# - unless SKIP_CHROOT=1: in a debootstrap minbase chroot of SUITE with grub2-common,
#   grub-pc-bin and systemd-boot installed, the Type #1 loader entries that systemd's
#   kernel-install writes for two (empty, stand-in) kernels into a scratch ESP
#   directory, and the package versions. Needs a kernel-install with --esp-path
#   (systemd 254 or later: trixie, not bookworm).
# Nothing on the host is changed: apt runs with a private directory, the chroot's
# mounts live in a private mount namespace, and the chroot is deleted afterwards
# unless KEEP_ROOT=DIR asks to move it there (for end-to-end runs of the module).
#
# Usage: [SKIP_CHROOT=1] [KEEP_ROOT=DIR] workbench/capture/fetch-bootloader-files.sh SUITE [OUTDIR]
#   SUITE   a Debian suite name, e.g. bookworm or trixie
#   OUTDIR  default: tests/unit/fixtures/bootloader (relative to the repo root);
#           files go to OUTDIR/debian-SUITE/
set -euo pipefail

usage() {
    echo "usage: $0 SUITE [OUTDIR]   (e.g. $0 trixie)" >&2
    exit 2
}
if [ $# -lt 1 ] || [ $# -gt 2 ]; then usage; fi
SUITE=$1
case "$SUITE" in ''|*[!a-z0-9-]*) usage ;; esac

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(git -C "$HERE" rev-parse --show-toplevel)
OUTDIR=${2:-$REPO/tests/unit/fixtures/bootloader}/debian-$SUITE
# shellcheck source=lib-apt.sh disable=SC1091
. "$HERE/lib-apt.sh"

WORK=$(mktemp -d)
cleanup() {
    if [ -n "${KEEP_ROOT:-}" ] && [ -d "$WORK/root" ]; then
        rm -f "$WORK/root/capture-inside.sh"
        mv "$WORK/root" "$KEEP_ROOT" && echo "chroot kept in $KEEP_ROOT" >&2
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
chmod 0755 "$WORK"   # lets apt drop privileges to _apt for downloads
mkdir -p "$WORK/deb" "$WORK/x"
private_apt "$WORK/apt" "$SUITE"

# 1. Straight from the packages.
(cd "$WORK/deb" && apt-get "${APT_OPTS[@]}" -q download grub2-common grub-common >&2)
dpkg-deb -x "$WORK"/deb/grub2-common_*.deb "$WORK/x"
dpkg-deb -x "$WORK"/deb/grub-common_*.deb "$WORK/x"
mkdir -p "$OUTDIR/etc/default" "$OUTDIR/usr/sbin"
cp "$WORK/x/usr/share/grub/default/grub" "$OUTDIR/etc/default/grub"
# Read as text by the tests (never run): no executable bit in the repository. grub-mkconfig
# starts with "#! /bin/sh", which ansible-test's shebang check rejects: kept gzip-compressed,
# the tests unpack it.
install -m 0644 "$WORK/x/usr/sbin/update-grub" "$OUTDIR/usr/sbin/update-grub"
gzip -9 -n -c "$WORK/x/usr/sbin/grub-mkconfig" > "$OUTDIR/usr/sbin/grub-mkconfig.gz"
rm -f "$OUTDIR/usr/sbin/grub-mkconfig"
{
    echo "suite: $SUITE"
    for deb in "$WORK"/deb/*.deb; do dpkg-deb -f "$deb" Package Version | paste -sd' '; done
} > "$OUTDIR/versions.txt"
if [ "${SKIP_CHROOT:-0}" = 1 ]; then
    echo "$OUTDIR"
    exit 0
fi

# 2. A chroot of SUITE with the real tools.
ROOT=$WORK/root
MIRROR=$(debian_mirror)
debootstrap --variant=minbase "$SUITE" "$ROOT" "$MIRROR" >&2
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
# A fixed machine id keeps the entry file names stable between captures.
MACHINE_ID=0123456789abcdef0123456789abcdef
echo "$MACHINE_ID" > "$ROOT/etc/machine-id"
chroot "$ROOT" env DEBIAN_FRONTEND=noninteractive apt-get -q -y install --no-install-recommends \
    grub2-common grub-pc-bin systemd-boot >&2
# What grub-pc's postinst does: install the packaged default as /etc/default/grub.
cp "$ROOT/usr/share/grub/default/grub" "$ROOT/etc/default/grub"
# What bootctl install creates on a real ESP: loader/entries, and the entry token directory
# from which kernel-install infers the "bls" layout (without it the first kernel gets no entry).
mkdir -p "$ROOT/efi/loader/entries" "$ROOT/efi/$MACHINE_ID" "$ROOT/boot/grub"
# kernel-install reads the command line for new entries from /etc/kernel/cmdline.
echo 'root=/dev/vda1 ro quiet kgdboc=ttyS0,115200' > "$ROOT/etc/kernel/cmdline"
for version in 6.12.0-capture1-amd64 6.12.0-capture2-amd64; do
    : > "$ROOT/boot/vmlinuz-$version"
    : > "$ROOT/boot/initrd.img-$version"
done

# shellcheck disable=SC1003,SC2016  # the lines of a script, written verbatim
printf '%s\n' \
    '#!/bin/sh' \
    '# Runs inside the chroot, in a private mount namespace where / and /efi are mount points.' \
    'set -eu' \
    'mount -t proc proc /proc' \
    'for version in 6.12.0-capture1-amd64 6.12.0-capture2-amd64; do' \
    '    # The scratch ESP is a directory, not a FAT partition: relax that check only.' \
    '    SYSTEMD_RELAX_ESP_CHECKS=1 KERNEL_INSTALL_LAYOUT=bls kernel-install --esp-path=/efi \' \
    '        --make-entry-directory=yes add "$version" "/boot/vmlinuz-$version" "/boot/initrd.img-$version"' \
    'done' > "$ROOT/capture-inside.sh"
chmod 0755 "$ROOT/capture-inside.sh"
# shellcheck disable=SC2016  # $1 is expanded by the inner shell
unshare --mount --propagation private sh -c \
    'mount --bind "$1" "$1" && mount --bind "$1/efi" "$1/efi" && chroot "$1" /capture-inside.sh' sh "$ROOT" >&2

mkdir -p "$OUTDIR/efi/loader/entries" "$OUTDIR/etc/kernel"
cp "$ROOT"/efi/loader/entries/*.conf "$OUTDIR/efi/loader/entries/"
cp "$ROOT/etc/kernel/cmdline" "$OUTDIR/etc/kernel/cmdline"
# shellcheck disable=SC2016  # dpkg-query's own format fields
chroot "$ROOT" dpkg-query -W -f '${Package} ${Version} (in the chroot)\n' grub2-common grub-pc-bin systemd \
    systemd-boot >> "$OUTDIR/versions.txt"
echo "$OUTDIR"
