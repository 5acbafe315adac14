# shellcheck shell=bash
# Helpers shared by the capture scripts (sourced, not executed).

# Print the first Debian archive URI configured on this host (deb822 .sources files
# or one-line sources.list entries), skipping the security archive. Nothing is
# hard-coded: the mirror is whatever the host's own apt configuration uses.
debian_mirror() {
    local f uri
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -r "$f" ] || continue
        while read -r uri; do
            case "$uri" in
                *debian-security*|*security.debian*) continue ;;
                */debian|*/debian/) echo "${uri%/}"; return 0 ;;
            esac
        done < <(awk 'tolower($1)=="uris:" {for (i=2;i<=NF;i++) print $i}' "$f")
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -r "$f" ] || continue
        while read -r uri; do
            case "$uri" in
                *debian-security*|*security.debian*) continue ;;
                */debian|*/debian/) echo "${uri%/}"; return 0 ;;
            esac
        done < <(awk '$1=="deb" {for (i=2;i<=NF;i++) if ($i ~ /^[a-z]+:\/\//) {print $i; break}}' "$f")
    done
    return 1
}

# Print the security archive URI matching the host's configuration, if any.
debian_security_mirror() {
    local f uri
    for f in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -r "$f" ] || continue
        uri=$(grep -vE '^[[:space:]]*#' "$f" | grep -oE '[a-z]+://[^ ]*debian-security/?' | head -n1 || true)
        if [ -n "$uri" ]; then echo "${uri%/}"; return 0; fi
    done
    return 1
}

# Set up a private APT directory under DIR for SUITE (main, -updates and, when the host
# has one, -security), fill the global APT_OPTS array with the options that point
# apt-get/apt-cache at it, and fetch its lists. The host's own apt state is not touched.
# Usage: private_apt DIR SUITE
private_apt() {
    local dir=$1 suite=$2 mirror security keyring=/usr/share/keyrings/debian-archive-keyring.gpg
    mirror=$(debian_mirror) || { echo "no Debian mirror found in the host's apt config" >&2; return 1; }
    security=$(debian_security_mirror || true)
    mkdir -p "$dir/etc/sources.list.d" "$dir/etc/preferences.d" "$dir/state/lists/partial" "$dir/cache/archives/partial"
    : > "$dir/state/status"
    {
        printf 'Types: deb\nURIs: %s\nSuites: %s %s-updates\nComponents: main\nSigned-By: %s\n' \
            "$mirror" "$suite" "$suite" "$keyring"
        [ -z "$security" ] || printf '\nTypes: deb\nURIs: %s\nSuites: %s-security\nComponents: main\nSigned-By: %s\n' \
            "$security" "$suite" "$keyring"
    } > "$dir/etc/sources.list.d/capture.sources"
    APT_OPTS=(
        -o "Dir::Etc=$dir/etc" -o "Dir::Etc::sourcelist=/dev/null" -o "Dir::Etc::sourceparts=$dir/etc/sources.list.d"
        -o "Dir::Etc::preferencesparts=$dir/etc/preferences.d" -o "Dir::State=$dir/state"
        -o "Dir::State::status=$dir/state/status" -o "Dir::Cache=$dir/cache" -o "APT::Architecture=amd64"
        -o "APT::Architectures::=amd64" -o "Debug::NoLocking=1" -o "APT::Sandbox::User=root"
    )
    apt-get "${APT_OPTS[@]}" -q update >&2
}
