#!/usr/bin/env bash
# Run the real hyperion.kernel.tc_qdisc module on Debian's own kernel of SUITE under qemu (TCG)
# and record every step into OUTDIR/SUITE-RELEASE/tc-qdisc-module-run.json (RELEASE = the
# guest's uname -r), with setup.txt (links and modules) and scenario.log.
#
# Usage: workbench/capture/tc-qdisc-in-vm.sh SUITE OUTDIR
#   SUITE   a Debian suite with an amd64 kernel that has sch_cake/taprio/etf, e.g. trixie
#   OUTDIR  e.g. tests/unit/fixtures/tc-qdisc-vm
# Environment: CAPTURE_TIMEOUT (seconds, default 1200) bounds the VM run; ANSIBLE_PYTHON (default
# the repository's .venv/bin/python, else python3) is the Python whose ansible.module_utils the
# guest gets.
#
# The guest is capture-in-vm.sh's cached rootfs of SUITE (built when missing) copied to
# .cache/capture/SUITE-tc-qdisc/ with python3 added; each run copies the collection's plugins and
# ansible.module_utils into it, boots with init=/tc-qdisc-init.sh, and the guest runs
# tc-qdisc-scenario.py: the module step by step on multi-queue dummy links, as Ansible runs it.
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
TIMEOUT=${CAPTURE_TIMEOUT:-1200}
ANSIBLE_PYTHON=${ANSIBLE_PYTHON:-$ROOT/.venv/bin/python}
[ -x "$ANSIBLE_PYTHON" ] || ANSIBLE_PYTHON=python3
MODULE_UTILS=$("$ANSIBLE_PYTHON" -c 'import os, ansible.module_utils as m; print(os.path.dirname(m.__file__))') \
    || { echo "no ansible.module_utils for $ANSIBLE_PYTHON; run make setup or set ANSIBLE_PYTHON" >&2; exit 1; }

vm_install_traps
BASE=$ROOT/.cache/capture/$SUITE/rootfs
if [ ! -e "$BASE.complete" ]; then
    ROOTFS=$BASE
    vm_build_rootfs
fi
CACHE=$ROOT/.cache/capture/$SUITE-tc-qdisc
ROOTFS=$CACHE/rootfs
RUN=$CACHE/run
if [ ! -e "$ROOTFS.complete" ]; then
    rm -rf "$ROOTFS"
    mkdir -p "$CACHE"
    cp -a "$BASE" "$ROOTFS"
    vm_chroot_apt_install python3
    touch "$ROOTFS.complete"
fi
vm_find_kernel

# The module as Ansible ships it: the collection's plugins and ansible.module_utils, no controller.
GUEST_PY=$ROOTFS/hyperion-py
rm -rf "$GUEST_PY"
mkdir -p "$GUEST_PY/ansible" "$GUEST_PY/ansible_collections/hyperion/kernel/plugins"
: > "$GUEST_PY/ansible/__init__.py"
cp -r "$MODULE_UTILS" "$GUEST_PY/ansible/module_utils"
cp -r "$ROOT/plugins/module_utils" "$ROOT/plugins/modules" "$GUEST_PY/ansible_collections/hyperion/kernel/plugins/"
find "$GUEST_PY" -name __pycache__ -prune -exec rm -rf {} +
install -m 0755 "$HERE/tc-qdisc-init.sh" "$ROOTFS/tc-qdisc-init.sh"
install -m 0644 "$HERE/tc-qdisc-scenario.py" "$ROOTFS/tc-qdisc-scenario.py"

vm_boot_and_collect 'console=ttyS0,115200 root=/dev/vda1 rw panic=10 init=/tc-qdisc-init.sh' "$TIMEOUT"

[ -s "$RUN/out/tc-qdisc-module-run.json" ] || { echo "the scenario wrote no result; see $RUN/out/scenario.log" >&2; exit 1; }
GUEST_RELEASE=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["uname_r"])' "$RUN/out/tc-qdisc-module-run.json")
DEST=$OUTDIR/$SUITE-$GUEST_RELEASE
rm -rf "$DEST"
mkdir -p "$DEST"
cp "$RUN/out/tc-qdisc-module-run.json" "$RUN/out/setup.txt" "$RUN/out/scenario.log" "$DEST/"
echo "$DEST"
