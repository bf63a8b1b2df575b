#!/usr/bin/env bash
# rkubelet's main job on a fresh machine: a standalone node running the example static pods
# (examples/pods/) on containerd. Installs and starts containerd (scripts/containerd.sh),
# builds and imports the test images, builds rkubelet, and runs it in the foreground.
# Stop with Ctrl-C: the pods keep running, as with the upstream kubelet; remove a file from
# examples/pods/ to remove its pod.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "run-example: must run as root (containerd, cgroups, mounts)" >&2; exit 1; }

endpoint_line=$(scripts/containerd.sh up)
export "${endpoint_line?}"
scripts/images.sh build >&2
scripts/images.sh import >&2
cargo build --release >&2

cat >&2 <<EOT

rkubelet is starting with examples/kubelet-config.yaml (static pods from examples/pods/).
Look at the node from another terminal:
  curl -s localhost:10255/pods | jq '.items[] | {name: .metadata.name, phase: .status.phase, ip: .status.podIP}'
  curl -s http://<web pod IP>:8080/            # the web pod's page
  target/release/rkubelet cri ps -a -r ${CONTAINER_RUNTIME_ENDPOINT#unix://}
  tail -f /var/log/pods/default_web-*/httpd/0.log
  curl -s localhost:10248/healthz

EOT
exec target/release/rkubelet --config=examples/kubelet-config.yaml "$@"
