# shellcheck shell=bash disable=SC2034  # the image metadata variables are read by images.sh
# The node e2e images that are Debian- or glibc-based upstream (nginx, perl, glibc-dns-testing),
# for scripts/images.sh; source it, do not run it.
#
# Their roots are unpacked from Debian's own packages: `apt-get download` into
# $CACHE/debs, then `dpkg-deb -x` (no maintainer scripts run; the few things they would do,
# such as /etc/passwd, are done here). Each image lists its packages in DEBS; the versions apt
# would install now are part of the cache key, so a Debian point release rebuilds the image.
# Documentation, man pages, locales and gconv modules are left out.

DEB_CACHE=$CACHE/debs

# The packages of a glibc userland as in debian:bookworm-slim (sh is dash, bash, coreutils,
# grep, sed, findutils, mawk, hostname, getent), without dpkg and apt.
DEBIAN_BASE_DEBS=(base-files base-passwd bash dash coreutils debianutils findutils grep sed
    mawk hostname netbase libc-bin libc6 libgcc-s1 libtinfo6 libacl1 libattr1 libgmp10
    libselinux1 libpcre2-8-0)

# package -> version apt would install now. Filled by deb_resolve, which must run in the main
# shell (not in $(...)) for the answers to be remembered: apt-cache takes a second or two a call.
declare -A DEB_PINS=()

# Looks up the candidate versions of the packages named that are not known yet (from the local
# package lists; `apt-get update` runs once when one is unknown).
deb_resolve() {
    local pkgs=() p line
    for p in "$@"; do [ -n "${DEB_PINS[$p]:-}" ] || pkgs+=("$p"); done
    [ ${#pkgs[@]} -gt 0 ] || return 0
    mapfile -t pkgs < <(printf '%s\n' "${pkgs[@]}" | sort -u)
    if [ "$(deb_candidates "${pkgs[@]}" | wc -l)" -ne ${#pkgs[@]} ]; then
        rk_need_root
        rk_log "updating apt's package lists (one of ${pkgs[*]} has no candidate version)"
        apt-get update -qq >&2 || rk_die "apt-get update failed"
    fi
    while read -r line; do DEB_PINS[${line%%=*}]=${line#*=}; done < <(deb_candidates "${pkgs[@]}")
    for p in "${pkgs[@]}"; do
        [ -n "${DEB_PINS[$p]:-}" ] || rk_die "apt knows no installable version of $p"
    done
}

# Prints "package=version" for each package named, once each, sorted.
deb_pins() {
    local p
    deb_resolve "$@"
    for p in $(printf '%s\n' "$@" | sort -u); do printf '%s=%s\n' "$p" "${DEB_PINS[$p]}"; done
}

deb_candidates() {
    apt-cache policy "$@" 2>/dev/null | awk '
        /^[^ ].*:$/ { pkg = substr($0, 1, length($0) - 1); sub(/:[a-z0-9]+$/, "", pkg) }
        $1 == "Candidate:" && $2 != "(none)" { print pkg "=" $2 }'
}

# The cached .deb of a pin "package=version" (apt writes an epoch's colon as %3a).
deb_file() {
    local pkg=${1%%=*} ver=${1#*=} f
    for f in "$DEB_CACHE/${pkg}_${ver//:/%3a}"_*.deb; do
        [ -f "$f" ] && { printf '%s\n' "$f"; return 0; }
    done
    return 1
}

# Unpacks the packages in DEBS into the root $1, downloading the ones not cached yet.
deb_unpack() {
    local root=$1 pin pins=() missing=() f
    mapfile -t pins < <(deb_pins "${DEBS[@]}")
    mkdir -p "$DEB_CACHE"
    for pin in "${pins[@]}"; do deb_file "$pin" >/dev/null || missing+=("$pin"); done
    if [ ${#missing[@]} -gt 0 ]; then
        rk_log "downloading ${#missing[@]} Debian package(s) into $DEB_CACHE"
        # The sandbox user _apt may not write to the cache: download as root.
        (cd "$DEB_CACHE" && apt-get -qq -o APT::Sandbox::User=root download "${missing[@]}") >&2 \
            || rk_die "apt-get download ${missing[*]} failed"
    fi
    for pin in "${pins[@]}"; do
        f=$(deb_file "$pin") || rk_die "no .deb for $pin in $DEB_CACHE after download"
        dpkg-deb -x "$f" "$root" || rk_die "dpkg-deb -x $f failed"
    done
    deb_prune "$root"
}

# Leaves out what a container does not read: docs (but the copyright files, as Debian's slim
# images do), man and info pages, locales, lintian overrides, gconv (iconv) modules.
deb_prune() {
    local root=$1
    find "$root/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete 2>/dev/null || true
    find "$root/usr/share/doc" -depth -mindepth 1 -type d -empty -delete 2>/dev/null || true
    rm -rf "$root"/usr/share/{man,info,locale,lintian,doc-base,bug,menu,bash-completion} \
        "$root"/usr/lib/*-linux-gnu*/gconv
}

# A glibc userland from DEBS (DEBIAN_BASE_DEBS and the image's own), and what dpkg's maintainer
# scripts would have set up: users and groups (base-passwd's tables), awk, an nsswitch.conf
# that reads /etc/hosts before DNS (so `hostname -f` finds the kubelet-managed names).
debian_userland() {
    local root=$1
    deb_unpack "$root"
    install -m 0644 "$root/usr/share/base-passwd/passwd.master" "$root/etc/passwd"
    install -m 0644 "$root/usr/share/base-passwd/group.master" "$root/etc/group"
    ln -sf /usr/bin/mawk "$root/usr/bin/awk"
    printf '%s\n' 'passwd: files' 'group: files' 'shadow: files' 'hosts: files dns' \
        'networks: files' 'protocols: files' 'services: files' 'ethers: files' 'rpc: files' \
        >"$root/etc/nsswitch.conf"
    install -d -m 0755 "$root"/{dev,proc,sys,run,home}
    install -d -m 0700 "$root/root"
    install -d -m 1777 "$root/tmp" "$root/var/tmp"
    chmod 0644 "$root/etc/nsswitch.conf"
}

# Runs a command inside the root as a smoke test of the unpacked image (its libraries resolve).
deb_smoke() {
    local root=$1 out
    shift
    out=$(chroot "$root" "$@" 2>&1) || rk_die "smoke test in the new image failed: $*: $out"
}

# --- images -----------------------------------------------------------------------------------

# nginx:1.27-alpine upstream: nginx in the foreground on port 80 serving its welcome page,
# busybox userland. Here Debian's nginx 1.22 and its libraries on the busybox userland, laid out
# as upstream (tests/images/nginx: conf, pid file, logs to stdout/stderr, worker user nginx).
nginx_image_meta() {
    NAME=$E2E_REG/nginx:$1
    ENTRYPOINT=()
    CMD=(nginx -g 'daemon off;')
    USER=
    ENV=("PATH=$DEFAULT_PATH")
    WORKDIR=/
    STOPSIGNAL=SIGQUIT
    INPUTS=(/bin/busybox "$IMAGE_SRC/nginx/nginx.conf" "$IMAGE_SRC/nginx/default.conf")
    DEBS=(nginx nginx-common libc6 libgcc-s1 libcrypt1 libpcre2-8-0 libssl3 zlib1g)
}

nginx_rootfs() {
    local root=$1
    rk_apt_ensure busybox-static
    busybox_userland "$root"
    deb_unpack "$root"
    # Debian's config tree (sites, snippets, modules) and service files give way to upstream's
    # layout: nginx.conf + conf.d/default.conf, mime.types kept.
    find "$root/etc/nginx" -depth -mindepth 1 ! -name mime.types -delete
    rm -rf "$root"/etc/{init.d,default,logrotate.d,ufw} "$root/lib/systemd" \
        "$root"/usr/share/{vim,apport}
    install -d -m 0755 "$root/etc/nginx/conf.d" "$root/var/log/nginx" "$root/var/lib/nginx" \
        "$root/var/cache/nginx" "$root/run"
    install -m 0644 "$IMAGE_SRC/nginx/nginx.conf" "$root/etc/nginx/nginx.conf"
    install -m 0644 "$IMAGE_SRC/nginx/default.conf" "$root/etc/nginx/conf.d/default.conf"
    ln -sf /dev/stdout "$root/var/log/nginx/access.log"
    ln -sf /dev/stderr "$root/var/log/nginx/error.log"
    ln -sfn /run "$root/var/run"
    printf '%s\n' 'nginx:x:101:101:nginx:/nonexistent:/bin/false' >>"$root/etc/passwd"
    printf '%s\n' 'nginx:x:101:' >>"$root/etc/group"
    deb_smoke "$root" /usr/sbin/nginx -V
}

image_nginx() {
    case $1 in
        meta) nginx_image_meta 1.27.0-2 ;;
        rootfs) nginx_rootfs "$2" ;;
    esac
}

# Upstream's nginx-new is the next nginx release; the same Debian nginx stands in for both.
image_nginx_new() {
    case $1 in
        meta) nginx_image_meta 1.28.0-2 ;;
        rootfs) nginx_rootfs "$2" ;;
    esac
}

# perl:5.40 (Debian bookworm) upstream. Here the glibc userland with perl-base: the interpreter
# and the modules Debian deems essential (the specs run `perl -e` with builtins only).
image_perl() {
    case $1 in
        meta)
            NAME=$E2E_REG/perl:5.26
            ENTRYPOINT=()
            CMD=(perl -de0)
            USER=
            ENV=("PATH=$DEFAULT_PATH")
            WORKDIR=/
            INPUTS=()
            DEBS=("${DEBIAN_BASE_DEBS[@]}" perl-base libcrypt1)
            ;;
        rootfs)
            debian_userland "$2"
            # A script file: `perl -e` reads /dev/null, which the chroot lacks.
            printf '%s\n' 'use POSIX (); exit 0;' >"$2/tmp/smoke.pl"
            deb_smoke "$2" /usr/bin/perl /tmp/smoke.pl
            rm -f "$2/tmp/smoke.pl"
            ;;
    esac
}

# debian:bookworm-slim + dnsutils + coredns upstream: a glibc resolver for the hostname/DNS
# specs. Here the glibc userland; no dig/nslookup (their libraries are 40 MB and the node
# specs only run `hostname` and `hostname -f`) and no coredns (a download upstream).
image_glibc_dns_testing() {
    case $1 in
        meta)
            NAME=$E2E_REG/glibc-dns-testing:2.1.1
            ENTRYPOINT=()
            CMD=(bash)
            USER=
            ENV=("PATH=$DEFAULT_PATH")
            WORKDIR=/
            INPUTS=()
            DEBS=("${DEBIAN_BASE_DEBS[@]}")
            ;;
        rootfs)
            debian_userland "$2"
            deb_smoke "$2" /bin/sh -c 'hostname && getent passwd root && ls /'
            ;;
    esac
}
