#!/bin/sh
# Facts the rollout needs before it touches a host, in one round trip, as one JSON object:
# architecture, free space on /boot, firmware and Secure Boot, bootloader, running release, and the
# user it runs as (without root, the bootloader's tools in /usr/sbin are not even on the PATH).
#
# The Secure Boot and bootloader detection below is a shell twin of host.py's secure_boot_state() and
# detect_bootloader() (what kernel_preflight, kernel_cmdline and boot_entry use). It stays shell for now:
# the rollout's whole preflight (space, user, release too) is one script round trip whose VM-tested
# answers, the not-root one first, were kept as they are; kernel_preflight's host result already gives
# the same bootloader and Secure Boot state, so the role can move to it. Same rules, same order:
# tests/unit/test_preflight_shell.py runs both on the same fake roots so they cannot drift.
# HYPERION_PREFLIGHT_ROOT is that fake root in the test; unset on a host, where it reads /.
set -u

root=${HYPERION_PREFLIGHT_ROOT:-}
efi_guid=8be4df61-93ca-11d2-aa0d-00e098032b8c

# The value byte of a boolean EFI variable (4 attribute bytes, then the value); empty when unreadable.
efi_bool() {
    [ -r "$1" ] && od -An -t u1 -j 4 -N 1 "$1" | tr -d ' \n'
}

# bios, on, off, setup (setup mode: keys not enforced) or unknown (EFI without the variable).
secure_boot_state() {
    [ -d "$root/sys/firmware/efi" ] || { echo bios; return; }
    value=$(efi_bool "$root/sys/firmware/efi/efivars/SecureBoot-$efi_guid")
    [ -n "$value" ] || { echo unknown; return; }
    if [ "$(efi_bool "$root/sys/firmware/efi/efivars/SetupMode-$efi_guid")" = 1 ]; then
        echo setup
    elif [ "$value" = 1 ]; then
        echo on
    else
        echo off
    fi
}

# A tool of the managed system, looked up by file (the PATH of a non-root user lacks sbin).
has_tool() {
    for dir in usr/sbin usr/bin sbin bin; do
        [ -f "$root/$dir/$1" ] && return 0
    done
    return 1
}

has_systemd_boot() {
    for esp in efi boot boot/efi; do
        for binary in "$root/$esp"/EFI/systemd/systemd-boot*.efi; do
            [ -e "$binary" ] && return 0
        done
    done
    return 1
}

has_entry_dir() {
    for esp in efi boot boot/efi; do
        [ -d "$root/$esp/loader/entries" ] && return 0
    done
    return 1
}

# grubby first: Fedora/EL also have GRUB's files, but grubby owns their BLS entries.
detect_bootloader() {
    if has_tool grubby && { [ -d "$root/boot/loader/entries" ] || has_tool grub2-mkconfig; }; then
        echo grubby
    elif has_systemd_boot && has_entry_dir; then
        echo systemd-boot
    elif [ -f "$root/etc/default/grub" ] && { has_tool update-grub || has_tool grub-mkconfig || has_tool grub2-mkconfig; }; then
        echo grub
    else
        echo unknown
    fi
}

boot_free_kib=$(df -Pk "$root/boot" 2>/dev/null | awk 'NR == 2 {print $4}')
[ -n "$boot_free_kib" ] || boot_free_kib=-1

secure_boot_state=$(secure_boot_state)
firmware=uefi
[ "$secure_boot_state" != bios ] || firmware=bios
secure_boot=false
[ "$secure_boot_state" != on ] || secure_boot=true

# The rollout boots a kernel once: systemd-boot does it itself, GRUB (grubby's too) through grub-reboot.
detected_bootloader=$(detect_bootloader)
bootloader=$detected_bootloader
boot_once=false
case $detected_bootloader in
    systemd-boot)
        boot_once=true ;;
    grub|grubby)
        bootloader=grub
        if has_tool grub-reboot || has_tool grub2-reboot; then
            boot_once=true
        fi ;;
esac

printf '{"architecture": "%s", "boot_free_kib": %s, "firmware": "%s", "secure_boot": %s, "secure_boot_state": "%s", ' \
    "$(uname -m)" "$boot_free_kib" "$firmware" "$secure_boot" "$secure_boot_state"
printf '"bootloader": "%s", "detected_bootloader": "%s", "boot_once": %s, "release": "%s", "user": "%s", "uid": %s}\n' \
    "$bootloader" "$detected_bootloader" "$boot_once" "$(uname -r)" "$(id -un)" "$(id -u)"
