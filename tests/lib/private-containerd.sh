# Source it from a test's lib.sh. A kubelet removes from its runtime every pod it does not
# know (as upstream's does), so two checkouts testing at the same time on one containerd kill
# each other's pods. With RK_TEST_CONTAINERD=NAME the tests use a containerd of their own
# (/var/lib/rk-containerd-NAME, bridge rk-NAME, a /16 of its own), started and given the test
# images on first use; CONTAINER_RUNTIME_ENDPOINT then points at it. Unset: the environment's.
# `REPO/.rk-test-local` (untracked) may set RK_TEST_CONTAINERD for one checkout.
private_containerd() { # REPO
  # shellcheck disable=SC1091
  if [ -f "$1/.rk-test-local" ]; then . "$1/.rk-test-local"; fi
  [ -n "${RK_TEST_CONTAINERD:-}" ] || return 0
  local name=$RK_TEST_CONTAINERD n line
  n=$(( $(printf '%s' "$name" | cksum | cut -d' ' -f1) % 60 + 150 ))
  export RK_CONTAINERD_DIR=/var/lib/rk-containerd-$name RK_CNI_BRIDGE=rk-${name:0:12} RK_CNI_SUBNET=10.$n.0.0/16
  line=$("$1/scripts/containerd.sh" up 2>/dev/null | grep '^CONTAINER_RUNTIME_ENDPOINT=') || return 0
  export CONTAINER_RUNTIME_ENDPOINT=${line#CONTAINER_RUNTIME_ENDPOINT=}
  if [ ! -f "$RK_CONTAINERD_DIR/.rk-images" ]; then
    "$1/scripts/images.sh" import pause busybox >/dev/null 2>&1 && touch "$RK_CONTAINERD_DIR/.rk-images"
  fi
}
