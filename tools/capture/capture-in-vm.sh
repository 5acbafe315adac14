#!/usr/bin/env bash
# Boot Debian's own kernel of SUITE under qemu (TCG), run capture-state.sh inside and unpack
# the captured files into OUTDIR/SUITE-RELEASE/ (RELEASE = the guest's uname -r).
#
# Usage: tools/capture/capture-in-vm.sh SUITE OUTDIR
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
[ "$(id -u)" -eq 0 ] || { echo "must run as root" >&2; exit 1; }
for tool in debootstrap qemu-system-x86_64 sfdisk mke2fs tar; do
    command -v "$tool" > /dev/null || { echo "missing tool: $tool" >&2; exit 1; }
done

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(git -C "$HERE" rev-parse --show-toplevel)
# shellcheck source=lib-apt.sh disable=SC1091
. "$HERE/lib-apt.sh"
CACHE=$ROOT/.cache/capture/$SUITE
ROOTFS=$CACHE/rootfs
RUN=$CACHE/run
TIMEOUT=${CAPTURE_TIMEOUT:-1200}

# Kernel command line of the capture boot: realistic and tricky on purpose. A quoted
# parameter with spaces, a dashed spelling of nmi_watchdog, module parameters for modules
# that are not loaded yet, a parameter the kernel may not know (kgdboc without KGDB), and
# init arguments after "--".
CMDLINE='console=ttyS0,115200 root=/dev/vda1 rw kgdboc=ttyS0,115200 sysrq_always_enabled zswap.enabled=0 zram.num_devices=2 nmi-watchdog=0 "dyndbg=module zram +p" transparent_hugepage=madvise panic=10 init=/capture-init.sh -- init_arg1 init_arg2'

CHROOT_MOUNTS=()
QEMU_PID=
cleanup() {
    local i
    set +e
    if [ -n "$QEMU_PID" ] && kill -0 "$QEMU_PID" 2>/dev/null; then
        kill "$QEMU_PID"
        wait "$QEMU_PID" 2>/dev/null
    fi
    for ((i = ${#CHROOT_MOUNTS[@]} - 1; i >= 0; i--)); do
        umount -l "${CHROOT_MOUNTS[$i]}"
    done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

chroot_mount() {  # chroot_mount TYPE SRC DIR
    mount -t "$1" "$2" "$3"
    CHROOT_MOUNTS+=("$3")
}

build_rootfs() {
    local mirror security
    mirror=$(debian_mirror) || { echo "no Debian mirror in the host's apt config" >&2; exit 1; }
    security=$(debian_security_mirror || true)
    rm -rf "$ROOTFS"
    mkdir -p "$ROOTFS"
    echo "debootstrap $SUITE (minbase) ..." >&2
    debootstrap --variant=minbase --include=iproute2,kmod,procps,util-linux,e2fsprogs,zstd \
        "$SUITE" "$ROOTFS" "$mirror" >&2
    {
        printf 'deb %s %s main\ndeb %s %s-updates main\n' "$mirror" "$SUITE" "$mirror" "$SUITE"
        [ -z "$security" ] || printf 'deb %s %s-security main\n' "$security" "$SUITE"
    } > "$ROOTFS/etc/apt/sources.list"
    chroot_mount proc proc "$ROOTFS/proc"
    chroot_mount sysfs sysfs "$ROOTFS/sys"
    mount --bind /dev "$ROOTFS/dev"
    CHROOT_MOUNTS+=("$ROOTFS/dev")
    chroot "$ROOTFS" apt-get -q update >&2
    DEBIAN_FRONTEND=noninteractive chroot "$ROOTFS" apt-get -q -y --no-install-recommends install \
        linux-image-amd64 initramfs-tools >&2
    # zramctl lives in util-linux-extra on newer suites
    if chroot "$ROOTFS" apt-cache show util-linux-extra > /dev/null 2>&1; then
        DEBIAN_FRONTEND=noninteractive chroot "$ROOTFS" apt-get -q -y --no-install-recommends install util-linux-extra >&2
    fi
    chroot "$ROOTFS" apt-get clean
    umount -l "$ROOTFS/dev" "$ROOTFS/sys" "$ROOTFS/proc"
    CHROOT_MOUNTS=()
    echo '/dev/vda1 / ext4 rw 0 1' > "$ROOTFS/etc/fstab"
    touch "$CACHE/rootfs.complete"
}

mkdir -p "$CACHE"
[ -e "$CACHE/rootfs.complete" ] || build_rootfs

KERNEL=$(find "$ROOTFS/boot" -maxdepth 1 -name 'vmlinuz-*' | sort -V | tail -n1)
[ -n "$KERNEL" ] || { echo "no kernel in $ROOTFS/boot" >&2; exit 1; }
RELEASE=${KERNEL##*/vmlinuz-}
INITRD=$ROOTFS/boot/initrd.img-$RELEASE
[ -r "$INITRD" ] || { echo "no initrd for $RELEASE" >&2; exit 1; }

install -m 0755 "$HERE/capture-state.sh" "$ROOTFS/capture-state.sh"
install -m 0755 "$HERE/capture-init.sh" "$ROOTFS/capture-init.sh"

rm -rf "$RUN"
mkdir -p "$RUN"
SIZE_MB=$(( $(du -sm "$ROOTFS" | cut -f1) + 512 ))
truncate -s "${SIZE_MB}M" "$RUN/root.img"
echo 'start=2048, type=83' | sfdisk -q "$RUN/root.img"
mke2fs -q -t ext4 -d "$ROOTFS" -E offset=1048576 "$RUN/root.img" "$((SIZE_MB - 1))M"
truncate -s 64M "$RUN/out.img"

echo "booting $SUITE kernel $RELEASE under qemu (TCG); console log: $RUN/console.log" >&2
qemu-system-x86_64 -accel tcg,thread=multi -cpu max -m 1024 -smp 2 \
    -display none -monitor none -serial "file:$RUN/console.log" -no-reboot \
    -kernel "$KERNEL" -initrd "$INITRD" -append "$CMDLINE" \
    -drive "file=$RUN/root.img,format=raw,if=virtio" \
    -drive "file=$RUN/out.img,format=raw,if=virtio" \
    -netdev user,id=n0,restrict=on -device virtio-net-pci,netdev=n0 &
QEMU_PID=$!
SECONDS=0
while kill -0 "$QEMU_PID" 2>/dev/null; do
    if [ "$SECONDS" -ge "$TIMEOUT" ]; then
        echo "VM did not finish within ${TIMEOUT}s; see $RUN/console.log" >&2
        exit 1
    fi
    sleep 2
done
wait "$QEMU_PID" || true
QEMU_PID=

mkdir -p "$RUN/out"
tar -C "$RUN/out" -xf "$RUN/out.img" || { echo "no capture archive on the output disk; see $RUN/console.log" >&2; exit 1; }
GUEST_RELEASE=$(cat "$RUN/out/uname-r")
DEST=$OUTDIR/$SUITE-$GUEST_RELEASE
rm -rf "$DEST"
mv "$RUN/out" "$DEST"
echo "$DEST"
