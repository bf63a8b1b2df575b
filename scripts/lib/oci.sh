# shellcheck shell=bash
# OCI image-layout writer for scripts/images.sh; source it, do not run it.
# Tools: coreutils, tar, gzip, sha256sum, printf. No jq, no python, no registry.
#
# A one-layer image becomes a tarball holding:
#   oci-layout                  {"imageLayoutVersion":"1.0.0"}
#   index.json                  one manifest descriptor, annotated with the image's names
#   blobs/sha256/<layer>        gzip of the rootfs tar
#   blobs/sha256/<config>       image config; rootfs.diff_ids = sha256 of the *uncompressed* tar
#   blobs/sha256/<manifest>     application/vnd.oci.image.manifest.v1+json

export LC_ALL=C

# Epoch 0 everywhere keeps the digests a function of the content alone.
OCI_CREATED=1970-01-01T00:00:00Z
OCI_TAR_FLAGS=(--sort=name --mtime=@0 --format=gnu --no-acls --no-xattrs --no-selinux)

# GOARCH-style architecture (and variant) of this machine, as the OCI platform names them.
oci_arch() {
    case $(dpkg --print-architecture 2>/dev/null || uname -m) in
        amd64 | x86_64) echo amd64 ;;
        arm64 | aarch64) echo arm64 ;;
        armhf | armv7l) echo arm/v7 ;;
        armel | armv6l) echo arm/v6 ;;
        i386 | i686) echo 386 ;;
        riscv64) echo riscv64 ;;
        ppc64el | ppc64le) echo ppc64le ;;
        s390x) echo s390x ;;
        *) rk_die "unknown architecture: $(uname -m)" ;;
    esac
}

json_str() {
    local s=$1
    s=${s//\\/\\\\}
    s=${s//\"/\\\"}
    printf '"%s"' "$s"
}

# A JSON array of strings from the arguments.
json_arr() {
    local sep='' x
    printf '['
    for x in "$@"; do
        printf '%s%s' "$sep" "$(json_str "$x")"
        sep=,
    done
    printf ']'
}

# The platform as JSON members: "architecture":"arm","variant":"v7","os":"linux"
json_platform_members() {
    local arch
    arch=$(oci_arch)
    printf '"architecture":%s,' "$(json_str "${arch%%/*}")"
    [ "${arch#*/}" = "$arch" ] || printf '"variant":%s,' "$(json_str "${arch#*/}")"
    printf '"os":"linux"'
}

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

# Moves file $1 into the layout's blob store; prints its digest and size as "sha256:HEX SIZE".
oci_add_blob() {
    local file=$1 blobs=$2 hex
    hex=$(sha256_of "$file")
    mv -f "$file" "$blobs/$hex"
    printf 'sha256:%s %s\n' "$hex" "$(stat -c %s "$blobs/$hex")"
}

# The layer tar of a rootfs: sorted, mtime 0, no "./" entries. Owners are 0:0 unless the
# image listed OWNERS ("UID:GID PATH"), in which case the real (chowned) owners are recorded.
oci_layer_tar() {
    local rootfs=$1 out=$2 line top owner_flags=(--owner=0 --group=0 --numeric-owner)
    if [ ${#OWNERS[@]} -gt 0 ]; then
        chown -hR 0:0 "$rootfs"
        for line in "${OWNERS[@]}"; do
            chown -h "${line%% *}" "$rootfs/${line#* }"
        done
        owner_flags=(--numeric-owner)
    fi
    mapfile -t top < <(find "$rootfs" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort)
    [ ${#top[@]} -gt 0 ] || rk_die "empty rootfs"
    tar "${OCI_TAR_FLAGS[@]}" "${owner_flags[@]}" -C "$rootfs" -cf "$out" "${top[@]}"
}

# Builds the OCI layout of $work/rootfs with the metadata in NAME, ENTRYPOINT, CMD, USER, ENV,
# WORKDIR and STOPSIGNAL (may be empty) and writes it as the tarball $2.
oci_layout_tar() {
    local work=$1 out=$2 layout blobs diff_id layer config manifest tag cfg
    layout=$work/layout
    blobs=$layout/blobs/sha256
    mkdir -p "$blobs"

    oci_layer_tar "$work/rootfs" "$work/layer.tar"
    diff_id=sha256:$(sha256_of "$work/layer.tar")
    gzip -n -6 <"$work/layer.tar" >"$work/layer.tar.gz"
    rm -f "$work/layer.tar"
    layer=$(oci_add_blob "$work/layer.tar.gz" "$blobs")

    cfg='{"User":'$(json_str "$USER")',"Env":'$(json_arr "${ENV[@]}")
    [ ${#ENTRYPOINT[@]} -eq 0 ] || cfg+=',"Entrypoint":'$(json_arr "${ENTRYPOINT[@]}")
    [ ${#CMD[@]} -eq 0 ] || cfg+=',"Cmd":'$(json_arr "${CMD[@]}")
    [ -z "${STOPSIGNAL:-}" ] || cfg+=',"StopSignal":'$(json_str "$STOPSIGNAL")
    cfg+=',"WorkingDir":'$(json_str "$WORKDIR")'}'
    printf '{"created":"%s",%s,"config":%s,"rootfs":{"type":"layers","diff_ids":["%s"]},"history":[{"created":"%s","created_by":"rkubelet scripts/images.sh"}]}' \
        "$OCI_CREATED" "$(json_platform_members)" "$cfg" "$diff_id" "$OCI_CREATED" \
        >"$work/config.json"
    config=$(oci_add_blob "$work/config.json" "$blobs")

    printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"%s","size":%s}]}' \
        "${config% *}" "${config#* }" "${layer% *}" "${layer#* }" >"$work/manifest.json"
    manifest=$(oci_add_blob "$work/manifest.json" "$blobs")

    # ctr import names the image after io.containerd.image.name; other OCI tools read the
    # tag from org.opencontainers.image.ref.name.
    tag=${NAME##*:}
    printf '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"
    printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%s,"platform":{%s},"annotations":{"io.containerd.image.name":%s,"org.opencontainers.image.ref.name":%s}}]}' \
        "${manifest% *}" "${manifest#* }" "$(json_platform_members)" "$(json_str "$NAME")" \
        "$(json_str "$tag")" >"$layout/index.json"

    tar "${OCI_TAR_FLAGS[@]}" --owner=0 --group=0 --numeric-owner -C "$layout" -cf "$out" \
        oci-layout index.json blobs
}
