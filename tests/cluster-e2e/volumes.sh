# Helpers of the volume tests (issue 6), sourced after lib.sh.

IMAGE=docker.io/library/busybox:1.35

# The runtime ID of container C of pod P in the test namespace (running ones).
cid() {
  cri ps -o json | jq -r --arg p "$1" --arg ns "$NS" --arg c "$2" \
    '.items[] | select(.labels["io.kubernetes.pod.name"] == $p and .labels["io.kubernetes.pod.namespace"] == $ns and .labels["io.kubernetes.container.name"] == $c) | .id' | head -n1
}

# cexec POD CONTAINER CMD...: run CMD in the container (CRI ExecSync), print its output.
# Capture its output before grep -q: under pipefail, grep -q closing the pipe early can
# fail the whole pipeline.
cexec() {
  local id; id=$(cid "$1" "$2"); shift 2
  [ -n "$id" ] || return 1
  cri exec "$id" -- "$@"
}

pod_uid() { k -n "$NS" get pod "$1" -o jsonpath='{.metadata.uid}'; }
restarts() { k -n "$NS" get pod "$1" -o jsonpath='{.status.containerStatuses[0].restartCount}'; }

# event_seen REASON TEXT: an event of the test namespace with that reason contains TEXT.
event_seen() {
  k -n "$NS" get events -o json | jq -e --arg r "$1" --arg t "$2" '[.items[] | select(.reason == $r and (.message | contains($t)))] | length > 0' >/dev/null
}

# file_is POD CONTAINER PATH WANT: the file inside the container holds exactly WANT.
file_is() { [ "$(cexec "$1" "$2" cat "$3" 2>/dev/null)" = "$4" ]; }

# Mount points (from the host's mount table) under the pod's directory.
mounts_under_pod() { grep -c " $ROOTDIR/pods/$1/" /proc/self/mountinfo || true; }
