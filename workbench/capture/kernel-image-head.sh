#!/usr/bin/env bash
# kernel-image-head.sh PACKAGE.deb OUTFILE: the first 4096 bytes of the kernel image in a kernel .deb (its
# PE/COFF headers, which say whether the image carries a Secure Boot signature) for the preflight tests.
set -euo pipefail
deb=$1 out=$2
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$work" --wildcards './boot/vmlinuz-*'
head -c 4096 "$work"/boot/vmlinuz-* > "$out"
echo "$(basename "$deb"): $(wc -c < "$out") bytes of the kernel image to $out"
