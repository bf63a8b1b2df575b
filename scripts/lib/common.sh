# shellcheck shell=bash
# Shared helpers for rkubelet's shell scripts; source it, do not run it.
# Everything informative goes to stderr so that stdout stays machine-readable.

rk_log() { printf '%s: %s\n' "${RK_SCRIPT:-${0##*/}}" "$*" >&2; }
rk_die() { rk_log "error: $*"; exit 1; }

rk_need_root() {
    [ "$(id -u)" -eq 0 ] || rk_die "must run as root (it installs packages, mounts and starts containerd)"
}

# Installs the named Debian packages that are not installed yet; apt-get update runs only when
# something is missing, so a prepared machine never touches the network.
rk_apt_ensure() {
    local missing=() p status
    for p in "$@"; do
        status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
        [ "$status" = installed ] || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    rk_need_root
    rk_log "installing missing packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 || rk_die "apt-get update failed"
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 \
        || rk_die "apt-get install ${missing[*]} failed"
}

# Replaces $1 with stdin only when the content differs; returns 0 when it changed, 1 otherwise.
rk_write_if_changed() {
    local dest=$1 tmp
    tmp=$(mktemp "$dest.XXXXXX")
    cat >"$tmp"
    if [ -f "$dest" ] && cmp -s "$tmp" "$dest"; then
        rm -f "$tmp"
        return 1
    fi
    chmod 0644 "$tmp"
    mv -f "$tmp" "$dest"
    return 0
}
