#!/usr/bin/env bash
# List the kernel command line parameter names documented in a kernel source tree
# (Documentation/admin-guide/kernel-parameters.txt), one per line, for the
# boot_params role's check of extra parameters from inventory.
#
# Usage: workbench/capture/kernel-parameter-names.sh SOURCE_TREE [OUTFILE]
#   SOURCE_TREE  an unpacked kernel source (linux-source-6.12's tree, as `make kernel-package` unpacks it)
#   OUTFILE      default: roles/boot_params/files/kernel-parameter-names.txt
set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    echo "usage: $0 SOURCE_TREE [OUTFILE]" >&2
    exit 2
fi
TREE=$1
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(git -C "$HERE" rev-parse --show-toplevel)
OUTFILE=${2:-$ROOT/roles/boot_params/files/kernel-parameter-names.txt}
DOC=$TREE/Documentation/admin-guide/kernel-parameters.txt
VERSION=$(make -s -C "$TREE" kernelversion 2>/dev/null || echo unknown)

[ -r "$DOC" ] || { echo "$DOC not found: SOURCE_TREE must be an unpacked kernel source" >&2; exit 2; }
{
    echo "# Kernel parameter names documented in Linux $VERSION (Documentation/admin-guide/kernel-parameters.txt)."
    echo "# Made by workbench/capture/kernel-parameter-names.sh; one name per line, '-' spelled '_'."
    # An entry starts with a tab and the name, then '=', white space or '[' (mem=nn[KMG]).
    grep -oP '^\t\K[A-Za-z0-9][A-Za-z0-9_.-]*(?=[=\s\[]|$)' "$DOC" | tr '-' '_' | LC_ALL=C sort -u
} > "$OUTFILE"
echo "$(grep -vc '^#' "$OUTFILE") names from $DOC -> $OUTFILE" >&2
