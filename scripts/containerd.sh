#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# A private containerd for rkubelet's tests: installed from Debian packages when missing,
# configured in its own directories (never /etc/containerd, /var/lib/containerd or
# /run/containerd), started in the background.
#
#   scripts/containerd.sh up            install what is missing, configure, start (if not
#                                       running), print CONTAINER_RUNTIME_ENDPOINT=unix://SOCK
#   scripts/containerd.sh down          stop our containerd only; its shims and the pods'
#                                       containers keep running, and the next `up` adopts them
#   scripts/containerd.sh down --purge  also kill every container and shim of our instance,
#                                       unmount and remove all of its state, bridge and NAT rules
#   scripts/containerd.sh status        say whether it runs (exit 0 when healthy, 1 otherwise)
#   scripts/containerd.sh env           print the endpoint line without starting anything
#
# Stdout carries only the endpoint line; everything else goes to stderr.
#
# Environment:
#   RK_CONTAINERD_DIR  one directory for everything (root, state, socket under DIR/run);
#                      default: /var/lib/rk-containerd for data, /run/rk-containerd for state
#   RK_CNI_BRIDGE      bridge name (default rk0)
#   RK_CNI_SUBNET      pod subnet (default 10.88.0.0/16)
#   Two instances at once need distinct RK_CONTAINERD_DIR, RK_CNI_BRIDGE and RK_CNI_SUBNET.
set -euo pipefail

RK_SCRIPT=containerd.sh
. "$(dirname "$0")/lib/common.sh"

PACKAGES=(containerd runc containernetworking-plugins busybox-static bash-static iptables)
SANDBOX_IMAGE=registry.k8s.io/pause:3.10.2
CNI_BIN_DIR=/usr/lib/cni
BRIDGE=${RK_CNI_BRIDGE:-rk0}
# Purge removes the NAT rules carrying this name, so each bridge gets its own.
CNI_NET_NAME=rkubelet-$BRIDGE
SUBNET=${RK_CNI_SUBNET:-10.88.0.0/16}

if [ -n "${RK_CONTAINERD_DIR:-}" ]; then
    DATA_DIR=${RK_CONTAINERD_DIR%/}
    RUN_DIR=$DATA_DIR/run
else
    DATA_DIR=/var/lib/rk-containerd
    RUN_DIR=/run/rk-containerd
fi
SOCK=$RUN_DIR/containerd.sock
PID_FILE=$RUN_DIR/containerd.pid
CONFIG=$DATA_DIR/config.toml
LOG=$DATA_DIR/containerd.log
CNI_CONF_DIR=$DATA_DIR/cni/net.d
CNI_IPAM_DIR=$DATA_DIR/cni/networks
# The shim and runc state of our instance; purge finds our containers here.
RUNC_ROOT=$RUN_DIR/runc

# A unix socket path must fit in sun_path (108 bytes with the NUL).
[ ${#SOCK} -lt 108 ] || rk_die "socket path too long for a unix socket: $SOCK"

endpoint_line() { printf 'CONTAINER_RUNTIME_ENDPOINT=unix://%s\n' "$SOCK"; }

ctr_() { timeout 10 ctr --address "$SOCK" "$@"; }

# The pid from our pid file, only if that process is still our containerd (pids get reused).
running_pid() {
    local pid
    [ -f "$PID_FILE" ] || return 1
    pid=$(cat "$PID_FILE" 2>/dev/null) || return 1
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    [ -r "/proc/$pid/cmdline" ] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "--config $CONFIG" || return 1
    printf '%s\n' "$pid"
}

healthy() { [ -S "$SOCK" ] && ctr_ version >/dev/null 2>&1; }

# containerd's overlayfs snapshotter disables itself when overlay cannot be mounted on its
# root's filesystem, and the CRI plugin then fails; so try a real overlay mount there first.
pick_snapshotter() {
    local t ok=1
    t=$(mktemp -d "$DATA_DIR/overlay-check.XXXXXX")
    mkdir "$t/lower" "$t/upper" "$t/work" "$t/merged"
    if mount -t overlay overlay -o "lowerdir=$t/lower,upperdir=$t/upper,workdir=$t/work" \
        "$t/merged" 2>/dev/null; then
        umount "$t/merged" && ok=0
    fi
    rm -rf "$t"
    if [ $ok -eq 0 ]; then echo overlayfs; else
        rk_log "overlay cannot be mounted under $DATA_DIR; using the native snapshotter"
        echo native
    fi
}

# The newest CNI spec version both the packaged plugins and containerd 1.6 (libcni 1.1) know.
pick_cni_version() {
    local versions
    versions=$("$CNI_BIN_DIR/bridge" --version 2>&1 || true)
    case $versions in
        *1.0.0*) echo 1.0.0 ;;
        *0.4.0*) echo 0.4.0 ;;
        *) rk_die "cannot tell which CNI versions $CNI_BIN_DIR/bridge supports: $versions" ;;
    esac
}

apparmor_enabled() {
    [ "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" = Y ] \
        && command -v apparmor_parser >/dev/null
}

write_config() {
    local snapshotter=$1 disable_apparmor=false
    apparmor_enabled || disable_apparmor=true
    rk_write_if_changed "$CONFIG" <<EOF
# Written by scripts/containerd.sh; edits are overwritten on the next "up".
version = 2
root = "$DATA_DIR/root"
state = "$RUN_DIR/state"
oom_score = 0
# Snapshotters that cannot work here only add noise to the log.
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = "$SOCK"

[plugins]
  [plugins."io.containerd.internal.v1.opt"]
    path = "$DATA_DIR/opt"

  [plugins."io.containerd.grpc.v1.cri"]
    sandbox_image = "$SANDBOX_IMAGE"
    # No CAP_SYS_RESOURCE here: negative oom_score_adj values would be refused.
    restrict_oom_score_adj = true
    enable_selinux = false
    disable_apparmor = $disable_apparmor
    # Exec/attach/port-forward URLs handed to the kubelet point at loopback only.
    stream_server_address = "127.0.0.1"
    stream_server_port = "0"
    # Pod network namespaces live under our state dir, so purge can find them.
    netns_mounts_under_state_dir = true
    tolerate_missing_hugetlb_controller = true
    disable_hugetlb_controller = true

    [plugins."io.containerd.grpc.v1.cri".cni]
      bin_dir = "$CNI_BIN_DIR"
      conf_dir = "$CNI_CONF_DIR"
      max_conf_num = 1

    [plugins."io.containerd.grpc.v1.cri".containerd]
      snapshotter = "$snapshotter"
      default_runtime_name = "runc"

      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"

        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
          # cgroup v1 (or v2) through cgroupfs, as the kubelet's cgroupDriver: cgroupfs.
          SystemdCgroup = false
          Root = "$RUNC_ROOT"
EOF
}

write_cni_conflist() {
    local version=$1 f
    # containerd loads the first file by name (max_conf_num = 1): leave only ours.
    for f in "$CNI_CONF_DIR"/*; do
        [ -e "$f" ] && [ "$f" != "$CNI_CONF_DIR/10-$CNI_NET_NAME.conflist" ] && rm -f "$f"
    done
    rk_write_if_changed "$CNI_CONF_DIR/10-$CNI_NET_NAME.conflist" <<EOF
{
  "cniVersion": "$version",
  "name": "$CNI_NET_NAME",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$BRIDGE",
      "isGateway": true,
      "ipMasq": true,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$CNI_IPAM_DIR",
        "ranges": [[{ "subnet": "$SUBNET" }]],
        "routes": [{ "dst": "0.0.0.0/0" }]
      }
    },
    {
      "type": "portmap",
      "capabilities": { "portMappings": true }
    }
  ]
}
EOF
}

start_containerd() {
    local pid
    rm -f "$SOCK"
    rk_log "starting containerd (config $CONFIG, log $LOG)"
    # Not a process group leader (no job control in scripts), so setsid needs no fork and
    # $! is containerd itself.
    setsid containerd --config "$CONFIG" </dev/null >>"$LOG" 2>&1 &
    pid=$!
    echo "$pid" >"$PID_FILE"
    for _ in $(seq 1 300); do
        healthy && break
        kill -0 "$pid" 2>/dev/null || { tail -n 20 "$LOG" >&2; rk_die "containerd exited at start"; }
        sleep 0.1
    done
    healthy || { tail -n 20 "$LOG" >&2; rk_die "containerd does not answer on $SOCK after 30 s"; }
    if ! ctr_ plugins ls 2>/dev/null | awk '$2 == "cri" { print $NF }' | grep -qx ok; then
        grep -i 'cri' "$LOG" | tail -n 10 >&2 || true
        rk_die "containerd's CRI plugin did not load; see $LOG"
    fi
}

# Sends TERM to our containerd and waits; KILL after 10 s.
stop_containerd() {
    local pid
    pid=$(running_pid) || { rm -f "$PID_FILE"; return 0; }
    rk_log "stopping containerd (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        rk_log "containerd (pid $pid) ignored TERM; killing it"
        kill -KILL "$pid" 2>/dev/null || true
        sleep 0.2
    fi
    rm -f "$PID_FILE" "$SOCK"
}

cmd_up() {
    rk_need_root
    rk_apt_ensure "${PACKAGES[@]}"
    mkdir -p "$DATA_DIR/root" "$RUN_DIR" "$CNI_CONF_DIR" "$CNI_IPAM_DIR"
    chmod 0711 "$DATA_DIR" "$RUN_DIR"
    local changed=0
    write_config "$(pick_snapshotter)" && changed=1
    write_cni_conflist "$(pick_cni_version)" || true
    if running_pid >/dev/null; then
        if [ $changed -eq 1 ]; then
            rk_log "configuration changed; restarting containerd"
            stop_containerd
        else
            local _
            for _ in $(seq 1 50); do healthy && break; sleep 0.1; done
            if healthy; then
                endpoint_line
                return 0
            fi
            rk_log "containerd runs but does not answer; restarting it"
            stop_containerd
        fi
    fi
    start_containerd
    endpoint_line
}

# Unmounts every mount point under our directories, deepest first.
unmount_ours() {
    local m
    awk '{ print $5 }' /proc/self/mountinfo \
        | grep -E "^($DATA_DIR|$RUN_DIR)/" | sort -r \
        | while read -r m; do
            umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || rk_log "cannot unmount $m"
        done
}

# Removes the NAT rules and per-container chains the bridge (ipMasq) and portmap plugins made
# for our network; they are recognisable by the network name in their comments.
remove_nat_rules() {
    command -v iptables >/dev/null || return 0
    local chain nums targets=() n
    for chain in POSTROUTING CNI-HOSTPORT-DNAT CNI-HOSTPORT-SNAT CNI-HOSTPORT-MASQ; do
        iptables -w -t nat -S "$chain" >/dev/null 2>&1 || continue
        # 2>/dev/null: iptables-nft warns on stderr when legacy tables exist too (they do here).
        mapfile -t nums < <(iptables -w -t nat -L "$chain" -n --line-numbers 2>/dev/null \
            | grep -F "name: \"$CNI_NET_NAME\"" | awk '{ print $1 }' | sort -rn)
        mapfile -t -O "${#targets[@]}" targets < <(iptables -w -t nat -L "$chain" -n 2>/dev/null \
            | grep -F "name: \"$CNI_NET_NAME\"" | awk '$1 ~ /^CNI-/ { print $1 }')
        for n in "${nums[@]}"; do iptables -w -t nat -D "$chain" "$n" 2>/dev/null || true; done
    done
    for chain in "${targets[@]}"; do
        iptables -w -t nat -F "$chain" 2>/dev/null || true
        iptables -w -t nat -X "$chain" 2>/dev/null || true
    done
}

# Kills every container of our instance through runc's private root, then our shims.
kill_containers_and_shims() {
    local nsroot id pid
    if [ -d "$RUNC_ROOT" ]; then
        for nsroot in "$RUNC_ROOT"/*/; do
            [ -d "$nsroot" ] || continue
            for id in $(runc --root "$nsroot" list -q 2>/dev/null); do
                runc --root "$nsroot" delete -f "$id" >/dev/null 2>&1 \
                    || rk_log "runc delete -f $id failed"
            done
        done
    fi
    # Shims carry our socket in their command line: "-address $SOCK".
    for pid in $(pgrep -f "containerd-shim-runc-v2 .*-address $SOCK( |\$)" || true); do
        kill -KILL "$pid" 2>/dev/null || true
    done
}

cmd_down() {
    rk_need_root
    local purge=0
    case ${1:-} in
        --purge) purge=1 ;;
        "") ;;
        *) rk_die "unknown option for down: $1" ;;
    esac
    stop_containerd
    [ $purge -eq 1 ] || return 0
    rk_log "purging containers, mounts and state of $DATA_DIR and $RUN_DIR"
    kill_containers_and_shims
    unmount_ours
    remove_nat_rules
    ip link del "$BRIDGE" 2>/dev/null || true
    rm -rf "$RUN_DIR" "$DATA_DIR"
}

cmd_status() {
    local pid
    if pid=$(running_pid) && healthy; then
        rk_log "running (pid $pid), socket $SOCK"
        endpoint_line
    elif pid=$(running_pid); then
        rk_log "process $pid runs but $SOCK does not answer"
        return 1
    else
        rk_log "not running"
        return 1
    fi
}

case ${1:-} in
    up) cmd_up ;;
    down) shift; cmd_down "$@" ;;
    status) cmd_status ;;
    env) endpoint_line ;;
    *) rk_die "usage: $0 up | down [--purge] | status | env" ;;
esac
