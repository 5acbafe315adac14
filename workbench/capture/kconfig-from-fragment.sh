#!/usr/bin/env bash
# Produce a real kernel .config from the project's profile fragment, without building a kernel:
# Debian trixie's linux-source-6.12 package, `make x86_64_defconfig`, `make kvm_guest.config`,
# `scripts/kconfig/merge_config.sh -m .config FRAGMENT`, `make olddefconfig`.
#
# Writes OUTFILE (the final .config) and next to it, with the .config suffix replaced:
#   BASE.fragment  the exact fragment merged (tools/hyperion-check --fragment --override ...)
#   BASE.txt       the package version used and every fragment option that did not survive
#                  olddefconfig, with whether the source knows the symbol and its dependencies
#
# The .deb and the unpacked source tree are cached in ~/.cache/hyperion-kernel/kernel-source/ (HYPERION_CACHE moves it)
# keyed by the package version; configuration runs in a separate O= build directory, so the cached
# tree stays pristine. The package is fetched with `apt-get download` through a private APT
# directory (as fetch-debian-kconfig.sh does); the mirror comes from the host's apt configuration.
# Build tools missing on the host are installed with apt-get (needs root).
#
# Usage: workbench/capture/kconfig-from-fragment.sh [OUTFILE]
#   OUTFILE  default: tests/unit/fixtures/kconfig/hyperion-fragment-linux-source-6.12-olddefconfig.config
# Environment:
#   HYPERION_PROFILE   profile passed to hyperion-check --profile (default: hyperion-2.2.4)
#   HYPERION_OVERRIDE  override passed to hyperion-check --override (default: CONFIG_LOCALVERSION=-hyperion)
set -euo pipefail

usage() {
    echo "usage: $0 [OUTFILE]   (default OUTFILE: tests/unit/fixtures/kconfig/hyperion-fragment-linux-source-6.12-olddefconfig.config)" >&2
    exit 2
}
[ $# -le 1 ] || usage
case "${1:-}" in -h|--help|-*) usage ;; esac

SUITE=trixie
PKG=linux-source-6.12
PROFILE=${HYPERION_PROFILE:-hyperion-2.2.4}
OVERRIDE=${HYPERION_OVERRIDE:-CONFIG_LOCALVERSION=-hyperion}

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(git -C "$HERE" rev-parse --show-toplevel)
OUTFILE=${1:-$ROOT/tests/unit/fixtures/kconfig/hyperion-fragment-$PKG-olddefconfig.config}
BASE=${OUTFILE%.config}
CACHE=${HYPERION_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hyperion-kernel}/kernel-source
# shellcheck source=lib-apt.sh disable=SC1091
. "$HERE/lib-apt.sh"

log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }

WORK=$(mktemp -d)
cleanup() { rm -rf "$WORK"; }
trap cleanup EXIT
chmod 0755 "$WORK"   # lets apt drop privileges to _apt for downloads

# --- 1. host build tools -------------------------------------------------------------------------
NEEDED=(flex bison bc make gcc libelf-dev libssl-dev xz-utils)
MISSING=()
for p in "${NEEDED[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || MISSING+=("$p")
done
if [ ${#MISSING[@]} -gt 0 ]; then
    log "installing ${MISSING[*]}"
    # Another process may hold the apt/dpkg lock: wait for it (Lock::Timeout) and retry.
    for attempt in $(seq 1 20); do
        if DEBIAN_FRONTEND=noninteractive apt-get -q -y -o DPkg::Lock::Timeout=120 \
               install --no-install-recommends "${MISSING[@]}" >&2; then
            break
        fi
        [ "$attempt" -lt 20 ] || { echo "apt-get install ${MISSING[*]} failed" >&2; exit 1; }
        log "apt-get install failed (attempt $attempt), retrying in 15 s"
        [ "$attempt" -ne 1 ] || apt-get -q -o DPkg::Lock::Timeout=120 update >&2 || true
        sleep 15
    done
fi

# --- 2. the fragment -----------------------------------------------------------------------------
PY=$ROOT/.venv/bin/python
[ -x "$PY" ] || PY=python3
FRAGMENT=$WORK/fragment.config
"$PY" "$ROOT/tools/hyperion-check" --profile "$PROFILE" --fragment --override "$OVERRIDE" > "$FRAGMENT"
grep -qE '^(CONFIG_|# CONFIG_)' "$FRAGMENT" || { echo "hyperion-check printed no fragment" >&2; exit 1; }

# --- 3. linux-source package with a private APT directory -----------------------------------------
mkdir -p "$WORK/deb"
t0=$SECONDS
private_apt "$WORK/apt" "$SUITE"
VERSION=$(apt-cache "${APT_OPTS[@]}" policy "$PKG" | awk '/Candidate:/ {print $2}')
case "$VERSION" in ''|'(none)') echo "$PKG not found in $SUITE" >&2; exit 1 ;; esac
log "suite $SUITE: $PKG $VERSION (apt lists: $((SECONDS - t0)) s)"

KEY=${PKG}_$VERSION
SRC=$CACHE/$KEY
mkdir -p "$SRC"
exec 9> "$SRC/.lock"
flock 9   # one run at a time per cached version
DEB=$(find "$SRC" -maxdepth 1 -name '*.deb' | head -n1)
if [ -z "$DEB" ]; then
    t0=$SECONDS
    (cd "$WORK/deb" && apt-get "${APT_OPTS[@]}" -q download "$PKG=$VERSION" >&2)
    mv "$WORK"/deb/*.deb "$SRC/"
    DEB=$(find "$SRC" -maxdepth 1 -name '*.deb' | head -n1)
    log "downloaded $(basename "$DEB") ($(du -h "$DEB" | cut -f1), $((SECONDS - t0)) s)"
else
    log "cached $(basename "$DEB")"
fi

TREE=$SRC/tree
if [ ! -e "$SRC/.unpacked" ]; then
    t0=$SECONDS
    rm -rf "$TREE" "$SRC/tree.partial"
    mkdir -p "$SRC/tree.partial"
    # The package ships the source as /usr/src/linux-source-X.Y.tar.xz.
    dpkg-deb --fsys-tarfile "$DEB" | tar -x -C "$WORK/deb" --wildcards './usr/src/linux-source-*.tar.*'
    TARBALL=$(find "$WORK/deb/usr/src" -maxdepth 1 -name 'linux-source-*.tar.*' | head -n1)
    [ -n "$TARBALL" ] || { echo "no source tarball in $(basename "$DEB")" >&2; exit 1; }
    tar -x -f "$TARBALL" -C "$SRC/tree.partial" --strip-components=1
    rm -f "$TARBALL"
    mv "$SRC/tree.partial" "$TREE"
    touch "$SRC/.unpacked"
    log "unpacked source tree ($((SECONDS - t0)) s)"
else
    log "cached source tree"
fi

# --- 4. configure in a separate build directory -----------------------------------------------------
BUILD=$WORK/build
mkdir -p "$BUILD"
MAKE=(make -s -C "$TREE" O="$BUILD" ARCH=x86_64)
t0=$SECONDS
"${MAKE[@]}" x86_64_defconfig >&2
"${MAKE[@]}" kvm_guest.config >&2
cp "$FRAGMENT" "$BUILD/hyperion.fragment"
# merge_config.sh creates its temporary files in the current directory: run it in the build dir.
(cd "$BUILD" && "$TREE/scripts/kconfig/merge_config.sh" -m .config hyperion.fragment) > "$WORK/merge.log" 2>&1 \
    || { cat "$WORK/merge.log" >&2; exit 1; }
"${MAKE[@]}" olddefconfig >&2
log "defconfig + kvm_guest.config + fragment + olddefconfig: $((SECONDS - t0)) s"
FINAL=$BUILD/.config

# --- 5. what did not survive ---------------------------------------------------------------------
# value SYMBOL FILE: the value a config file gives SYMBOL ("n" for "is not set", "" when absent)
value() {
    awk -v s="$2" '$0 == "# " s " is not set" {print "n"; exit}
                   index($0, s "=") == 1 {print substr($0, length(s) + 2); exit}' "$1"
}

# kconfig_info NAME: where NAME is defined, its type/prompt, enclosing if/choice, depends on, select lines
kconfig_info() {
    local name=$1 files f n
    files=$(cd "$TREE" || exit 1
            { grep -lE "^[[:space:]]*(menu)?config[[:space:]]+${name}[[:space:]]*\$" "${KCONFIGS[@]}" || true; } | sort)
    if [ -z "$files" ]; then
        echo "    defined: no (no 'config $name' in any Kconfig file of $PKG $VERSION)"
        # A hint for renamed or misspelt options: symbols sharing the first and the last two words.
        local first=${name%%_*} tail=${name#*_} like
        case "$tail" in *_*_*) tail=${tail#"${tail%_*_*}"_} ;; esac
        like=$(cd "$TREE" || exit 1
               { grep -hoE "^[[:space:]]*(menu)?config[[:space:]]+${first}[A-Z0-9_]*${tail}[[:space:]]*\$" \
                     "${KCONFIGS[@]}" || true; } | awk '{print $2}' | sort -u | paste -sd ' ' -)
        [ -z "$like" ] || echo "    similar names defined (a hint, not a match): $like"
        return
    fi
    for f in $files; do
        echo "    defined: $f"
        # The entry: from its config line to the next entry keyword. Also report the "if" blocks
        # of the same file that enclose it and whether it is a choice member.
        awk -v n="$name" '
            # Skip help texts: they end at the first non-blank line indented less than their first line.
            inhelp && /^[[:space:]]*$/ {next}
            inhelp {match($0, /^[[:space:]]*/); w = RLENGTH; if (hw < 0) hw = w; if (w >= hw) next; inhelp = 0}
            /^[[:space:]]*(help|---help---)[[:space:]]*$/ {inhelp = 1; hw = -1; next}
            /^[[:space:]]*if[[:space:]]/ {c = $0; sub(/^[[:space:]]*if[[:space:]]+/, "", c); stack[++depth] = c}
            /^[[:space:]]*endif([[:space:]]|$)/ {if (depth > 0) depth--}
            /^[[:space:]]*choice([[:space:]]|$)/ {inchoice = 1}
            /^[[:space:]]*endchoice([[:space:]]|$)/ {inchoice = 0}
            $0 ~ "^[[:space:]]*(menu)?config[[:space:]]+" n "[[:space:]]*$" {
                on = 1
                for (i = 1; i <= depth; i++) print "      (inside: if " stack[i] ")"
                if (inchoice) print "      (member of a choice)"
                next}
            on && /^[[:space:]]*(config|menuconfig|choice|endchoice|menu|endmenu|if|endif|source|comment)([[:space:]]|$)/ {on = 0}
            on && /^[[:space:]]*(bool|tristate|int|hex|string|def_bool|def_tristate|prompt)([[:space:]]|$)/ {
                sub(/^[[:space:]]+/, ""); print "      " $0}
            on && /^[[:space:]]*(depends on|select|imply|default)[[:space:]]/ {sub(/^[[:space:]]+/, ""); print "      " $0}
        ' "$TREE/$f"
    done
    n=$(cd "$TREE" || exit 1
        { grep -hE "^[[:space:]]*select[[:space:]]+${name}([[:space:]]|\$)" "${KCONFIGS[@]}" || true; } | awk 'END {print NR}')
    echo "    selected by: $n select statement(s) in the tree"
}

# deps_values NAME: final values of the symbols named in NAME's "depends on" lines
deps_values() {
    local name=$1 sym v out=""
    for sym in $(kconfig_info "$name" | sed -n -e 's/^ *depends on //p' -e 's/^ *(inside: if \(.*\))$/\1/p' | grep -oE '\b[A-Z][A-Z0-9_]+\b' | sort -u); do
        v=$(value "$FINAL" "CONFIG_$sym")
        out="$out CONFIG_$sym=${v:-<absent>}"
    done
    [ -z "$out" ] || echo "    dependency values in the final .config:$out"
}

mapfile -t KCONFIGS < <(cd "$TREE" && find . -name 'Kconfig*' -type f | sed 's|^\./||' | sort)
LOSTFILE=$WORK/lost.txt
: > "$LOSTFILE"
LOST=0
TOTAL=0
while IFS= read -r line; do
    case "$line" in
        'CONFIG_'*=*) sym=${line%%=*}; want=${line#*=} ;;
        '# CONFIG_'*' is not set') sym=${line#\# }; sym=${sym%% *}; want=n ;;
        *) continue ;;
    esac
    TOTAL=$((TOTAL + 1))
    got=$(value "$FINAL" "$sym")
    if [ "$want" = n ] && [ -z "$got" ]; then got=n; fi   # absent == not set
    [ "$got" != "$want" ] || continue
    LOST=$((LOST + 1))
    {
        echo "$sym: wanted $want, final ${got:-<absent>}"
        kconfig_info "${sym#CONFIG_}"
        deps_values "${sym#CONFIG_}"
    } >> "$LOSTFILE"
done < "$FRAGMENT"
SUMMARY=$WORK/summary.txt
{
    echo "# Fragment options that did not survive olddefconfig"
    echo "package: $PKG $VERSION (Debian $SUITE, $SUITE-updates, $SUITE-security; apt-get download)"
    echo "kernel: $(sed -n 's/^# Linux\/\(.*\) Kernel Configuration$/\1/p' "$FINAL")"
    echo "fragment: tools/hyperion-check --profile $PROFILE --fragment --override $OVERRIDE"
    echo "steps: make x86_64_defconfig; make kvm_guest.config; scripts/kconfig/merge_config.sh -m .config FRAGMENT; make olddefconfig"
    echo "compiler: $(gcc --version | head -n1)"
    echo "rust: rustc $(rustc --version 2>/dev/null | awk '{print $2}' || true), bindgen $(bindgen --version 2>/dev/null | awk '{print $2}' || true) (empty = not on PATH)"
    echo "generated: $(date -u +%Y-%m-%d)"
    echo "options in the fragment: $TOTAL; did not survive: $LOST"
    echo "(per option: final value, the Kconfig entry's type/prompt, depends on/select/default lines, the"
    echo " \"if\" blocks enclosing it in the same file only, and the final values of the symbols it depends on)"
    echo
    cat "$LOSTFILE"
} > "$SUMMARY"

# --- 6. outputs --------------------------------------------------------------------------------------
mkdir -p "$(dirname "$OUTFILE")"
cp "$FINAL" "$OUTFILE"
cp "$FRAGMENT" "$BASE.fragment"
cp "$SUMMARY" "$BASE.txt"
chmod 0644 "$OUTFILE" "$BASE.fragment" "$BASE.txt"
log "$TOTAL fragment options, $LOST did not survive"
echo "$OUTFILE"
echo "$BASE.fragment"
echo "$BASE.txt"
