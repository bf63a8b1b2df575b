#!/usr/bin/env bash
# The node registers and is Ready within seconds, with its labels, capacity and nodeInfo; its
# Lease is renewed; a deleted Node is registered again (beyond upstream, documented).
. "$(dirname "$0")/lib.sh"
require_env
start=$(date +%s%N)
start_rkubelet --kubeconfig="$(node_kubeconfig)" --node-labels=example.com/edge=true
wait_for 10 "node $NODE Ready" node_ready
log "Ready $(( ($(date +%s%N) - start) / 1000000 )) ms after start"
node=$(k get node "$NODE" -o json)
jq -e --arg n "$NODE" '.metadata.labels["kubernetes.io/hostname"] == $n and .metadata.labels["kubernetes.io/os"] == "linux" and .metadata.labels["example.com/edge"] == "true"' <<<"$node" >/dev/null || fail "labels"
jq -e '.status.capacity | has("cpu") and has("memory") and has("pods") and has("ephemeral-storage")' <<<"$node" >/dev/null || fail "capacity"
jq -e '.status.allocatable.pods == "110"' <<<"$node" >/dev/null || fail "allocatable pods"
jq -e '.status.nodeInfo.kubeletVersion == "v1.37.2" and (.status.nodeInfo.containerRuntimeVersion | startswith("containerd://")) and (.status.nodeInfo.bootID | length > 0)' <<<"$node" >/dev/null || fail "nodeInfo"
jq -e '[.status.conditions[].type] | contains(["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"])' <<<"$node" >/dev/null || fail "conditions"
jq -e '[.status.addresses[].type] | contains(["InternalIP", "Hostname"])' <<<"$node" >/dev/null || fail "addresses"
jq -e --argjson p "$PORT" '.status.daemonEndpoints.kubeletEndpoint.Port == $p' <<<"$node" >/dev/null || fail "daemonEndpoints"
renew() { k -n kube-node-lease get lease "$NODE" -o jsonpath='{.spec.renewTime}'; }
wait_for 10 "the node's Lease" renew
first=$(renew)
renewed() { [ "$(renew)" != "$first" ]; }
wait_for 20 "Lease renewed" renewed
k get events --field-selector "involvedObject.name=$NODE" -o json | jq -e '[.items[].reason] | index("Starting")' >/dev/null || fail "no Starting event"
old_uid=$(k get node "$NODE" -o jsonpath='{.metadata.uid}')
k delete node "$NODE" >/dev/null
new_node() { local u; u=$(k get node "$NODE" -o jsonpath='{.metadata.uid}') && [ -n "$u" ] && [ "$u" != "$old_uid" ]; }
wait_for 30 "node registered again after deletion" new_node
wait_for 15 "node Ready again" node_ready
log "PASS: registered, Ready, Lease renewed, re-registered"
