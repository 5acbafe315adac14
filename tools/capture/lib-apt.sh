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
