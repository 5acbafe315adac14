# shellcheck shell=bash
# Helpers shared by the scripts that boot Debian's own kernels under qemu (sourced, not executed).
#
# The caller sets SUITE, ROOTFS (the cached root filesystem) and RUN (a scratch directory), sources lib-apt.sh and this file, and calls vm_install_traps first.
# vm_build_rootfs makes ROOTFS once; vm_find_kernel sets KERNEL, RELEASE, INITRD;
# vm_boot_and_collect CMDLINE TIMEOUT boots with -kernel/-initrd and unpacks the tar archive the guest
# wrote onto its second disk into RUN/out.

CHROOT_MOUNTS=()
QEMU_PID=

vm_cleanup() {
    local i
    set +e
    if [ -n "$QEMU_PID" ] && kill -0 "$QEMU_PID" 2>/dev/null; then
        kill "$QEMU_PID"
        wait "$QEMU_PID" 2>/dev/null
    fi
    for ((i = ${#CHROOT_MOUNTS[@]} - 1; i >= 0; i--)); do
        umount -l "${CHROOT_MOUNTS[$i]}"
    done
    CHROOT_MOUNTS=()
}

vm_install_traps() {
    trap vm_cleanup EXIT
    trap 'exit 130' INT TERM
}

vm_require_tools() {  # vm_require_tools TOOL...
    local tool
    [ "$(id -u)" -eq 0 ] || { echo "must run as root" >&2; exit 1; }
    for tool in "$@"; do
        command -v "$tool" > /dev/null || { echo "missing tool: $tool" >&2; exit 1; }
    done
}

chroot_mount() {  # chroot_mount TYPE SRC DIR
    mount -t "$1" "$2" "$3"
    CHROOT_MOUNTS+=("$3")
}

vm_chroot_apt_install() {  # vm_chroot_apt_install PACKAGE...: install into ROOTFS, no recommends
    chroot_mount proc proc "$ROOTFS/proc"
    chroot_mount sysfs sysfs "$ROOTFS/sys"
    mount --bind /dev "$ROOTFS/dev"
    CHROOT_MOUNTS+=("$ROOTFS/dev")
    chroot "$ROOTFS" apt-get -q update >&2
    DEBIAN_FRONTEND=noninteractive chroot "$ROOTFS" apt-get -q -y --no-install-recommends install "$@" >&2
    # zramctl lives in util-linux-extra on newer suites
    if chroot "$ROOTFS" apt-cache show util-linux-extra > /dev/null 2>&1; then
        DEBIAN_FRONTEND=noninteractive chroot "$ROOTFS" apt-get -q -y --no-install-recommends install util-linux-extra >&2
    fi
    chroot "$ROOTFS" apt-get clean
    umount -l "$ROOTFS/dev" "$ROOTFS/sys" "$ROOTFS/proc"
    CHROOT_MOUNTS=()
}

# vm_build_rootfs [PACKAGE...]: debootstrap minbase of SUITE with Debian's kernel (and PACKAGEs)
# into ROOTFS; marks it complete with ROOTFS.complete beside it.
vm_build_rootfs() {
    local mirror security
    mirror=$(debian_mirror) || { echo "no Debian mirror in the host's apt config" >&2; exit 1; }
    security=$(debian_security_mirror || true)
    rm -rf "$ROOTFS" "$ROOTFS.complete"
    mkdir -p "$ROOTFS"
    echo "debootstrap $SUITE (minbase) ..." >&2
    debootstrap --variant=minbase --include=iproute2,kmod,procps,util-linux,e2fsprogs,zstd \
        "$SUITE" "$ROOTFS" "$mirror" >&2
    {
        printf 'deb %s %s main\ndeb %s %s-updates main\n' "$mirror" "$SUITE" "$mirror" "$SUITE"
        [ -z "$security" ] || printf 'deb %s %s-security main\n' "$security" "$SUITE"
    } > "$ROOTFS/etc/apt/sources.list"
    vm_chroot_apt_install linux-image-amd64 initramfs-tools "$@"
    echo '/dev/vda1 / ext4 rw 0 1' > "$ROOTFS/etc/fstab"
    touch "$ROOTFS.complete"
}

vm_find_kernel() {
    KERNEL=$(find "$ROOTFS/boot" -maxdepth 1 -name 'vmlinuz-*' | sort -V | tail -n1)
    [ -n "$KERNEL" ] || { echo "no kernel in $ROOTFS/boot" >&2; exit 1; }
    RELEASE=${KERNEL##*/vmlinuz-}
    INITRD=$ROOTFS/boot/initrd.img-$RELEASE
    [ -r "$INITRD" ] || { echo "no initrd for $RELEASE" >&2; exit 1; }
}

# vm_boot_and_collect CMDLINE TIMEOUT: a raw disk made from ROOTFS (/dev/vda1) and an empty output disk
# (/dev/vdb) that the guest fills with a tar archive before it powers off; the archive is
# unpacked into RUN/out.
vm_boot_and_collect() {
    local cmdline=$1 timeout=$2 size_mb
    rm -rf "$RUN"
    mkdir -p "$RUN"
    size_mb=$(( $(du -sm "$ROOTFS" | cut -f1) + 512 ))
    truncate -s "${size_mb}M" "$RUN/root.img"
    echo 'start=2048, type=83' | sfdisk -q "$RUN/root.img"
    mke2fs -q -t ext4 -d "$ROOTFS" -E offset=1048576 "$RUN/root.img" "$((size_mb - 1))M"
    truncate -s 64M "$RUN/out.img"

    echo "booting $SUITE kernel $RELEASE under qemu (TCG); console log: $RUN/console.log" >&2
    qemu-system-x86_64 -accel tcg,thread=multi -cpu max -m 1024 -smp 2 \
        -display none -monitor none -serial "file:$RUN/console.log" -no-reboot \
        -kernel "$KERNEL" -initrd "$INITRD" -append "$cmdline" \
        -drive "file=$RUN/root.img,format=raw,if=virtio" \
        -drive "file=$RUN/out.img,format=raw,if=virtio" \
        -netdev user,id=n0,restrict=on -device virtio-net-pci,netdev=n0 &
    QEMU_PID=$!
    SECONDS=0
    while kill -0 "$QEMU_PID" 2>/dev/null; do
        if [ "$SECONDS" -ge "$timeout" ]; then
            echo "VM did not finish within ${timeout}s; see $RUN/console.log" >&2
            exit 1
        fi
        sleep 2
    done
    wait "$QEMU_PID" || true
    QEMU_PID=

    mkdir -p "$RUN/out"
    tar -C "$RUN/out" -xf "$RUN/out.img" || { echo "no archive on the output disk; see $RUN/console.log" >&2; exit 1; }
}
