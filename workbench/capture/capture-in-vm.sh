#!/usr/bin/env bash
# Boot Debian's own kernel of SUITE under qemu (TCG), run capture-state.sh inside and unpack
# the captured files into OUTDIR/SUITE-RELEASE/ (RELEASE = the guest's uname -r).
#
# Usage: workbench/capture/capture-in-vm.sh SUITE OUTDIR
#   SUITE   a Debian suite with an amd64 kernel, e.g. bookworm or trixie
#   OUTDIR  e.g. tests/unit/fixtures/vm
# Environment: CAPTURE_TIMEOUT (seconds, default 1200) bounds the VM run.
#
# The root filesystem (debootstrap minbase + linux-image-amd64) is cached under
# .cache/capture/SUITE/ in the repository (delete it to rebuild). The Debian mirror is read from
# the host's apt configuration. Needs root, debootstrap, qemu-system-x86, fdisk (sfdisk), e2fsprogs.
set -euo pipefail

usage() {
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" >&2
    exit 2
}
[ $# -eq 2 ] || usage
SUITE=$1
case "$SUITE" in ''|-*|*[!a-z0-9-]*) usage ;; esac
mkdir -p "$2"
OUTDIR=$(cd "$2" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(git -C "$HERE" rev-parse --show-toplevel)
# shellcheck source=lib-apt.sh disable=SC1091
. "$HERE/lib-apt.sh"
# shellcheck source=lib-vm.sh disable=SC1091
. "$HERE/lib-vm.sh"
vm_require_tools debootstrap qemu-system-x86_64 sfdisk mke2fs tar
CACHE=$ROOT/.cache/capture/$SUITE
ROOTFS=$CACHE/rootfs
RUN=$CACHE/run
TIMEOUT=${CAPTURE_TIMEOUT:-1200}

# Kernel command line of the capture boot: realistic and tricky on purpose. A quoted
# parameter with spaces, a dashed spelling of nmi_watchdog, module parameters for modules
# that are not loaded yet, a parameter the kernel may not know (kgdboc without KGDB), and
# init arguments after "--".
CMDLINE='console=ttyS0,115200 root=/dev/vda1 rw kgdboc=ttyS0,115200 sysrq_always_enabled zswap.enabled=0 zram.num_devices=2 nmi-watchdog=0 "dyndbg=module zram +p" transparent_hugepage=madvise panic=10 init=/capture-init.sh -- init_arg1 init_arg2'

vm_install_traps
mkdir -p "$CACHE"
[ -e "$ROOTFS.complete" ] || vm_build_rootfs
vm_find_kernel

install -m 0755 "$HERE/capture-state.sh" "$ROOTFS/capture-state.sh"
install -m 0755 "$HERE/capture-init.sh" "$ROOTFS/capture-init.sh"
vm_boot_and_collect "$CMDLINE" "$TIMEOUT"

GUEST_RELEASE=$(cat "$RUN/out/uname-r")
DEST=$OUTDIR/$SUITE-$GUEST_RELEASE
rm -rf "$DEST"
mv "$RUN/out" "$DEST"
echo "$DEST"
