#!/bin/sh
# Facts the rollout needs before it touches a host, in one round trip, as one JSON object:
# architecture, free space on /boot, firmware and Secure Boot, bootloader, running release, and the
# user it runs as (without root, the bootloader's tools in /usr/sbin are not even on the PATH).
set -u

boot_free_kib=$(df -Pk /boot 2>/dev/null | awk 'NR == 2 {print $4}')
[ -n "$boot_free_kib" ] || boot_free_kib=-1

firmware=bios
secure_boot=false
if [ -d /sys/firmware/efi ]; then
    firmware=uefi
    # The EFI variable SecureBoot: 4 bytes of attributes, then 1 = on.
    var=/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c
    if [ -r "$var" ] && [ "$(od -An -t u1 -j 4 -N 1 "$var" | tr -d ' ')" = 1 ]; then
        secure_boot=true
    fi
fi

bootloader=unknown
boot_once=false
if command -v bootctl >/dev/null 2>&1 && bootctl is-installed >/dev/null 2>&1; then
    bootloader=systemd-boot
    boot_once=true
elif [ -f /boot/grub/grub.cfg ] || [ -f /boot/grub2/grub.cfg ]; then
    bootloader=grub
    if command -v grub-reboot >/dev/null 2>&1 || command -v grub2-reboot >/dev/null 2>&1; then
        boot_once=true
    fi
fi

printf '{"architecture": "%s", "boot_free_kib": %s, "firmware": "%s", "secure_boot": %s, ' \
    "$(uname -m)" "$boot_free_kib" "$firmware" "$secure_boot"
printf '"bootloader": "%s", "boot_once": %s, "release": "%s", "user": "%s", "uid": %s}\n' \
    "$bootloader" "$boot_once" "$(uname -r)" "$(id -un)" "$(id -u)"
