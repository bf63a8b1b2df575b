#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# The container images rkubelet's tests use, built offline as OCI image-layout tarballs (no
# registry, no docker; coreutils, tar, gzip and sha256sum only) and imported into containerd.
#
#   scripts/images.sh build [ID...]    build into the cache (only images whose inputs changed)
#   scripts/images.sh import [ID...]   build if needed, then `ctr -n k8s.io images import`
#   scripts/images.sh list             print ID, image name and tarball, one image a line
#
# IDs: see IMAGES below (default: pause busybox). Environment:
#   RK_IMAGE_CACHE              cache dir (default /var/cache/rkubelet/images)
#   CONTAINER_RUNTIME_ENDPOINT  unix://SOCK to import into (default: scripts/containerd.sh env)
#
# Every tarball is byte-for-byte reproducible: fixed mtimes, owners and ordering, gzip -n.
set -euo pipefail

RK_SCRIPT=images.sh
SCRIPTS_DIR=$(cd "$(dirname "$0")" && pwd)
REPO_DIR=$(dirname "$SCRIPTS_DIR")
IMAGE_SRC=$REPO_DIR/tests/images
. "$SCRIPTS_DIR/lib/common.sh"
. "$SCRIPTS_DIR/lib/oci.sh"

umask 022
CACHE=${RK_IMAGE_CACHE:-/var/cache/rkubelet/images}
DEFAULT_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
. "$SCRIPTS_DIR/lib/debian-images.sh"

# Images in build order. The node e2e suite's images (issue 7; scripts/e2e-images.sh) are
# built only when named, since agnhost needs a Go toolchain:
#   e2e_busybox  registry.k8s.io/e2e-test-images/busybox:1.37.0-2  (bash-static as /bin/sh)
#   agnhost      registry.k8s.io/e2e-test-images/agnhost:2.66.1
#   nonroot      registry.k8s.io/e2e-test-images/nonroot:1.5
#   nonewprivs   registry.k8s.io/e2e-test-images/nonewprivs:1.4
#   kitten       registry.k8s.io/e2e-test-images/kitten:1.8
# and, from Debian's packages (lib/debian-images.sh):
#   nginx        registry.k8s.io/e2e-test-images/nginx:1.27.0-2
#   nginx_new    registry.k8s.io/e2e-test-images/nginx:1.28.0-2
#   perl         registry.k8s.io/e2e-test-images/perl:5.26
#   glibc_dns_testing  registry.k8s.io/e2e-test-images/glibc-dns-testing:2.1.1
IMAGES=(pause busybox e2e_busybox agnhost nonroot nonewprivs kitten nginx nginx_new perl
    glibc_dns_testing)
DEFAULT_IMAGES=(pause busybox)

# Each image is one function `image_<id> meta|rootfs DIR`.
#   meta:   sets NAME, ENTRYPOINT, CMD, USER, ENV, WORKDIR and INPUTS (files whose content
#           decides whether the cached tarball is stale; so do the image's functions, see
#           inputs_key); optionally STOPSIGNAL and DEBS (Debian packages, lib/debian-images.sh)
#   rootfs: fills DIR (empty, mode 0755) with the image's only layer; runs as root, but every
#           file is recorded as owned by 0:0 unless the function says otherwise via OWNERS
#           (lines "UID:GID PATH" relative to DIR; for later images such as nonroot)

image_pause() {
    case $1 in
        meta)
            NAME=registry.k8s.io/pause:3.10.2
            ENTRYPOINT=(/pause)
            CMD=()
            # As upstream's pause image: the sandbox's PID 1 needs no privileges.
            USER=65535:65535
            ENV=("PATH=$DEFAULT_PATH")
            WORKDIR=/
            INPUTS=("$IMAGE_SRC/pause/pause.c")
            ;;
        rootfs)
            command -v gcc >/dev/null || rk_apt_ensure gcc libc6-dev
            gcc -static -Os -s -Wall -Wextra -Werror -o "$2/pause" "$IMAGE_SRC/pause/pause.c" \
                || rk_die "compiling pause.c failed"
            chmod 0755 "$2/pause"
            ;;
    esac
}

image_busybox() { busybox_image "$1" "${2:-}" docker.io/library/busybox:1.35 ""; }

# A plain busybox image (cmd sh) named NAME, run as USER: the meta and rootfs steps.
busybox_image() { # meta|rootfs ROOT NAME USER
    case $1 in
        meta)
            NAME=$3
            ENTRYPOINT=()
            CMD=(sh)
            USER=$4
            ENV=("PATH=$DEFAULT_PATH")
            WORKDIR=/
            INPUTS=(/bin/busybox)
            ;;
        rootfs)
            rk_apt_ensure busybox-static
            busybox_userland "$2"
            ;;
    esac
}

# A busybox root: /bin/busybox from busybox-static with every applet linked to it, root and
# nobody, a sticky world-writable /tmp.
busybox_userland() {
    local root=$1 applet applets
    [ -x /bin/busybox ] || rk_die "/bin/busybox missing (package busybox-static)"
    # Debian's busybox and busybox-static both may provide /bin/busybox: insist on static.
    if ! /bin/busybox --list-full >/dev/null 2>&1 || ldd /bin/busybox >/dev/null 2>&1; then
        rk_die "/bin/busybox is not the static busybox (install busybox-static)"
    fi
    install -d -m 0755 "$root"/{bin,sbin,usr/bin,usr/sbin,etc,var,home,dev,proc,sys}
    install -d -m 0700 "$root/root"
    install -d -m 1777 "$root/tmp" "$root/var/tmp"
    install -m 0755 /bin/busybox "$root/bin/busybox"
    mapfile -t applets < <(/bin/busybox --list-full)
    for applet in "${applets[@]}"; do
        [ -d "$root/${applet%/*}" ] || install -d -m 0755 "$root/${applet%/*}"
    done
    for applet in "${applets[@]}"; do
        [ "$applet" = bin/busybox ] || ln -sf /bin/busybox "$root/$applet"
    done
    [ -L "$root/bin/sh" ] || ln -sf /bin/busybox "$root/bin/sh"
    printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' \
        'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' >"$root/etc/passwd"
    printf '%s\n' 'root:x:0:' 'nobody:x:65534:' >"$root/etc/group"
    chmod 0644 "$root/etc/passwd" "$root/etc/group"
}

# --- node e2e images (issue 7): upstream names, built offline -------------------------------

E2E_REG=registry.k8s.io/e2e-test-images
E2E_MOD=$REPO_DIR/tests/cluster/e2e-images
K8S_SRC=${K8S_SRC:-$(go env GOMODCACHE 2>/dev/null || echo /root/go/pkg/mod)/k8s.io/kubernetes@v1.37.2}

image_e2e_busybox() {
    case $1 in
        meta)
            NAME=$E2E_REG/busybox:1.37.0-2
            ENTRYPOINT=()
            CMD=(sh)
            USER=
            ENV=("PATH=$DEFAULT_PATH")
            WORKDIR=/
            INPUTS=(/bin/busybox /bin/bash-static "$IMAGE_SRC/e2e-busybox/nmeter")
            ;;
        rootfs)
            rk_apt_ensure busybox-static bash-static
            busybox_userland "$2"
            # Debian's busybox sh drops environment variables whose names are not shell
            # identifiers (data-1); upstream's image keeps them, and so does bash.
            install -m 0755 /bin/bash-static "$2/bin/bash"
            ln -sf /bin/bash "$2/bin/sh"
            install -m 0755 "$IMAGE_SRC/e2e-busybox/nmeter" "$2/bin/nmeter"
            # Upstream's image (docker's busybox) has every applet in /bin; specs run /bin/top.
            local applet
            for applet in $(/bin/busybox --list); do
                [ -e "$2/bin/$applet" ] || [ -L "$2/bin/$applet" ] || ln -s busybox "$2/bin/$applet"
            done
            ;;
    esac
}

# A Go command of the kubernetes module, built with the control plane's module pins
# (tests/cluster/e2e-images/go.mod) into the cache; prints its path.
go_command() {
    local name=$1 pkg=$2 go out h
    go=$(command -v go || echo /usr/local/go/bin/go)
    [ -x "$go" ] || rk_die "no Go toolchain (go) to build $pkg"
    h=$( { cat "$E2E_MOD/go.mod" "$E2E_MOD/go.sum"; echo "$pkg"; "$go" version; } | sha256sum | cut -c1-16)
    out=$CACHE/go/$name-$h
    if [ ! -x "$out" ]; then
        mkdir -p "$CACHE/go"
        rk_log "building $pkg (Go)"
        (cd "$E2E_MOD" && CGO_ENABLED=0 "$go" build -ldflags '-s -w' -o "$out.tmp" "$pkg") >&2             || rk_die "go build $pkg failed"
        mv -f "$out.tmp" "$out"
    fi
    printf '%s\n' "$out"
}

# Copies the host's dynamically linked program BIN into ROOT as DEST, with every library
# ldd names and the dynamic loader, at their host paths.
install_with_libs() { # ROOT BIN DEST
    local root=$1 bin=$2 dest=$3 lib
    rm -f "$root$dest"
    install -D -m 0755 "$bin" "$root$dest"
    while read -r lib; do
        [ -e "$root$lib" ] || install -D -m 0755 "$lib" "$root$lib"
    done < <(ldd "$bin" | grep -o '/[^ ]*' | sort -u)
}

# agnhost's root: busybox userland (upstream's is alpine), the agnhost binary, its porter
# certificate, and the user and group the security-context specs expect.
agnhost_rootfs() {
    local root=$1 bin
    bin=$(go_command agnhost k8s.io/kubernetes/test/images/agnhost)
    rk_apt_ensure busybox-static
    busybox_userland "$root"
    install -m 0755 "$bin" "$root/agnhost"
    # Upstream's image has curl and netcat-openbsd (lifecycle hook and networking specs run
    # `curl -g -q -s --max-time ...` and `nc -w 1 -u ...`): Debian's, with their libraries.
    rk_apt_ensure curl netcat-openbsd bash-static
    install_with_libs "$root" /usr/bin/curl /usr/bin/curl
    install_with_libs "$root" /bin/nc.openbsd /usr/bin/nc
    # Debian's busybox sh runs its own applets before PATH (so `nc` would be busybox's,
    # which lacks -u): /bin/sh is bash, which follows PATH.
    install -m 0755 /bin/bash-static "$root/bin/bash"
    ln -sf /bin/bash "$root/bin/sh"
    # Alpine's busybox has nmeter; specs that switch a container to agnhost run it.
    install -m 0755 "$IMAGE_SRC/e2e-busybox/nmeter" "$root/bin/nmeter"
    ln -sf agnhost "$root/agnhost-2"
    install -d -m 0755 "$root/uploads"
    install -m 0644 "$K8S_SRC/test/images/agnhost/porter/localhost.crt" "$root/localhost.crt"
    install -m 0600 "$K8S_SRC/test/images/agnhost/porter/localhost.key" "$root/localhost.key"
    install -d -m 0755 "$root/home/user-defined-in-image"
    printf '%s\n' 'user-defined-in-image:x:1000:1000::/home/user-defined-in-image:/bin/sh' >>"$root/etc/passwd"
    printf '%s\n' 'user-defined-in-image:x:1000:' \
        'group-defined-in-image:x:50000:user-defined-in-image' >>"$root/etc/group"
    OWNERS+=("1000:1000 home/user-defined-in-image")
}

image_agnhost() {
    case $1 in
        meta)
            NAME=$E2E_REG/agnhost:2.66.1
            ENTRYPOINT=(/agnhost)
            CMD=(pause)
            USER=
            ENV=("PATH=$DEFAULT_PATH")
            WORKDIR=/
            INPUTS=(/bin/busybox /bin/bash-static "$E2E_MOD/go.mod" "$E2E_MOD/go.sum" /usr/bin/curl /bin/nc.openbsd
                "$IMAGE_SRC/e2e-busybox/nmeter")
            ;;
        rootfs) agnhost_rootfs "$2" ;;
    esac
}

image_kitten() {
    case $1 in
        meta)
            image_agnhost meta
            NAME=$E2E_REG/kitten:1.8
            CMD=(test-webserver)
            INPUTS+=("$K8S_SRC/test/images/kitten/html/kitten.jpg" "$K8S_SRC/test/images/kitten/html/data.json")
            ;;
        rootfs)
            agnhost_rootfs "$2"
            install -m 0644 "$K8S_SRC/test/images/kitten/html/kitten.jpg" \
                "$K8S_SRC/test/images/kitten/html/data.json" "$2/"
            ;;
    esac
}

image_nonroot() { busybox_image "$1" "${2:-}" "$E2E_REG/nonroot:1.5" 1234; }

image_nonewprivs() {
    case $1 in
        meta)
            NAME=$E2E_REG/nonewprivs:1.4
            ENTRYPOINT=()
            CMD=(nnp)
            USER=
            ENV=("PATH=$DEFAULT_PATH")
            WORKDIR=/
            INPUTS=(/bin/busybox "$E2E_MOD/go.mod" "$E2E_MOD/go.sum")
            ;;
        rootfs)
            local bin
            bin=$(go_command nnp k8s.io/kubernetes/test/images/nonewprivs)
            rk_apt_ensure busybox-static
            busybox_userland "$2"
            install -d -m 0755 "$2/usr/local/bin"
            # setuid root: the spec checks that no_new_privs stops it from gaining uid 0.
            install -m 4755 "$bin" "$2/usr/local/bin/nnp"
            ;;
    esac
}

# --- building -------------------------------------------------------------------------------

slug() { printf '%s' "$1" | tr '/:' '__'; }
tarball_of() { printf '%s/%s.oci.tar' "$CACHE" "$(slug "$1")"; }

# Sets an image's metadata; the optional fields first get their defaults.
load_meta() {
    STOPSIGNAL=
    DEBS=()
    "image_$1" meta
}

# The inputs of an image, hashed: its metadata, the content of its input files, the versions of
# the Debian packages it unpacks, the code that builds it (its image function and every function
# that one calls, as bash prints them) and the layout writer. Not this whole script, so that
# adding or changing one image rebuilds no other; contents, not paths, so that worktrees sharing
# the cache agree.
inputs_key() {
    local id=$1 f
    {
        printf 'id=%s name=%s user=%s workdir=%s stopsignal=%s arch=%s\n' "$id" "$NAME" "$USER" \
            "$WORKDIR" "$STOPSIGNAL" "$(oci_arch)"
        printf 'entrypoint=%s\n' "${ENTRYPOINT[@]+"${ENTRYPOINT[@]}"}"
        printf 'cmd=%s\n' "${CMD[@]+"${CMD[@]}"}"
        printf 'env=%s\n' "${ENV[@]}"
        for f in "${INPUTS[@]+"${INPUTS[@]}"}"; do sha256_of "$f"; done
        [ ${#DEBS[@]} -eq 0 ] || deb_pins "${DEBS[@]}"
        for f in $(fn_closure "image_$id"); do declare -f "$f"; done
        sha256_of "$SCRIPTS_DIR/lib/oci.sh"
    } | sha256sum | cut -d' ' -f1
}

# The shell functions $1 calls, directly or not, itself included: one name a line, sorted.
fn_closure() {
    local -A seen=()
    local queue=("$1") names f g body
    mapfile -t names < <(declare -F | awk '{ print $3 }')
    while [ ${#queue[@]} -gt 0 ]; do
        f=${queue[0]}
        queue=("${queue[@]:1}")
        [ -z "${seen[$f]:-}" ] || continue
        seen[$f]=1
        body=$(declare -f "$f")
        for g in "${names[@]}"; do
            [[ $body =~ (^|[^[:alnum:]_])$g([^[:alnum:]_]|$) ]] && queue+=("$g")
        done
    done
    printf '%s\n' "${!seen[@]}" | sort
}

build_one() {
    local id=$1 out key work start lock
    load_meta "$id"
    out=$(tarball_of "$NAME")
    key=$(inputs_key "$id")
    mkdir -p "$CACHE"
    # Several worktrees share the cache: one build at a time, and whoever waited looks again.
    exec {lock}>"$CACHE/.build.lock"
    flock "$lock"
    if [ -f "$out" ] && [ "$(cat "$out.key" 2>/dev/null)" = "$key" ]; then
        exec {lock}>&-
        rk_log "$NAME: up to date ($out)"
        return 0
    fi
    start=$(date +%s.%N)
    work=$(mktemp -d "$CACHE/.build-$id.XXXXXX")
    # shellcheck disable=SC2064 # expand now: $work is local
    trap "rm -rf '$work'" EXIT
    install -d -m 0755 "$work/rootfs"
    OWNERS=()
    "image_$id" rootfs "$work/rootfs"
    oci_layout_tar "$work" "$out.tmp"
    mv -f "$out.tmp" "$out"
    printf '%s\n' "$key" >"$out.key"
    rm -rf "$work"
    trap - EXIT
    exec {lock}>&-
    rk_log "$NAME: built $out ($(stat -c %s "$out") bytes, $(elapsed "$start") s)"
}

elapsed() { awk -v s="$1" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }'; }

# --- importing ------------------------------------------------------------------------------

socket_path() {
    local ep=${CONTAINER_RUNTIME_ENDPOINT:-}
    [ -n "$ep" ] || ep=$("$SCRIPTS_DIR/containerd.sh" env | sed -n 's/^CONTAINER_RUNTIME_ENDPOINT=//p')
    case $ep in
        unix://*) printf '%s\n' "${ep#unix://}" ;;
        /*) printf '%s\n' "$ep" ;;
        *) rk_die "not a unix endpoint: $ep" ;;
    esac
}

# The snapshotter the CRI plugin unpacks into: overlayfs when containerd could load it.
snapshotter_of() {
    if ctr --address "$1" plugins ls 2>/dev/null \
        | awk '$1 == "io.containerd.snapshotter.v1" && $2 == "overlayfs" { print $NF }' \
        | grep -qx ok; then
        echo overlayfs
    else
        echo native
    fi
}

import_all() {
    local sock snap id
    sock=$(socket_path)
    [ -S "$sock" ] || rk_die "no containerd socket at $sock (run scripts/containerd.sh up)"
    snap=$(snapshotter_of "$sock")
    for id in "$@"; do
        load_meta "$id"
        rk_log "$NAME: importing into $sock (namespace k8s.io, snapshotter $snap)"
        ctr --address "$sock" -n k8s.io images import --snapshotter "$snap" \
            "$(tarball_of "$NAME")" >&2 || rk_die "ctr images import of $NAME failed"
    done
}

# --- command line ---------------------------------------------------------------------------

check_ids() {
    local id known
    for id in "$@"; do
        known=0
        for k in "${IMAGES[@]}"; do [ "$k" = "$id" ] && known=1; done
        [ $known -eq 1 ] || rk_die "unknown image id: $id (known: ${IMAGES[*]})"
    done
}

# Looks up the Debian package versions of all the images named at once (one apt-cache call).
resolve_debs() {
    local id all=()
    for id in "$@"; do
        load_meta "$id"
        all+=("${DEBS[@]+"${DEBS[@]}"}")
    done
    [ ${#all[@]} -eq 0 ] || deb_resolve "${all[@]}"
}

main() {
    local cmd=${1:-} id
    [ $# -gt 0 ] && shift
    [ $# -gt 0 ] || set -- "${DEFAULT_IMAGES[@]}"
    case $cmd in
        build)
            check_ids "$@"
            resolve_debs "$@"
            for id in "$@"; do build_one "$id"; done
            ;;
        import)
            check_ids "$@"
            resolve_debs "$@"
            for id in "$@"; do build_one "$id"; done
            import_all "$@"
            ;;
        list)
            check_ids "$@"
            for id in "$@"; do
                load_meta "$id"
                printf '%s\t%s\t%s\n' "$id" "$NAME" "$(tarball_of "$NAME")"
            done
            ;;
        *) rk_die "usage: $0 build|import|list [ID...] (IDs: ${IMAGES[*]})" ;;
    esac
}

main "$@"
