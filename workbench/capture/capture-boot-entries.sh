#!/usr/bin/env bash
# capture-boot-entries.sh LAB MACHINE OUTDIR: copy what boot_entry and kernel_preflight read from a
# running VM-lab machine (hyperion-lab ssh) into OUTDIR, mirrored under OUTDIR/root/.
# Large files (kernels, initramfs) are not copied: their sizes go to OUTDIR/boot-sizes.txt
# ("SIZE NAME" lines), which the tests turn back into sparse files of the same size.
set -euo pipefail
lab=$1 machine=$2 outdir=$3
top=$(git rev-parse --show-toplevel)
# The lab's login is unprivileged; each remote command reads as root, as the modules do (become).
remote() { "$top/lab/bin/hyperion-lab" ssh --lab "$lab" "$machine" "sudo -n sh -c '$*'"; }
mkdir -p "$outdir/root/proc/sys/kernel"
for path in /boot/grub/grub.cfg /boot/grub/grubenv /etc/default/grub /proc/cmdline /etc/os-release; do
  mkdir -p "$outdir/root$(dirname "$path")"
  remote "cat $path" > "$outdir/root$path"
done
mkdir -p "$outdir/root/etc/default/grub.d"
for name in $(remote 'ls /etc/default/grub.d/ 2>/dev/null || true'); do
  remote "cat /etc/default/grub.d/$name" > "$outdir/root/etc/default/grub.d/$name"
done
remote 'cat /proc/sys/kernel/osrelease' > "$outdir/root/proc/sys/kernel/osrelease"
remote 'cd /boot && find . -maxdepth 1 -type f -printf "%s %P\n" | sort -k2' > "$outdir/boot-sizes.txt"
remote 'df -B1 --output=size,used,avail,target /boot' > "$outdir/df-boot.txt"
remote 'uname -r; uname -m; dpkg --print-architecture; test -d /sys/firmware/efi && echo efi || echo bios' > "$outdir/uname-arch-firmware.txt"
remote 'grub-editenv list' > "$outdir/grub-editenv-list.txt"
# shellcheck disable=SC2016 # $(uname -r) is expanded on the machine
remote 'head -c 4096 /boot/vmlinuz-$(uname -r) | base64 -w0' | base64 -d > "$outdir/../debian-$(head -1 "$outdir/uname-arch-firmware.txt")-vmlinuz-head-4096.bin"
remote 'dpkg-query -W grub-common grub-pc linux-image-amd64 2>/dev/null || true' > "$outdir/versions.txt"
echo "captured $machine of lab $lab into $outdir"
