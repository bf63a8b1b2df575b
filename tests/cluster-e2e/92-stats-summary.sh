#!/usr/bin/env bash
# /stats/summary through the API server's node proxy: the upstream schema, with the node and
# this test's pod and its container in it.
. "$(dirname "$0")/lib.sh"
require_env
start_rkubelet --kubeconfig="$(node_kubeconfig)" --client-ca-file="$RK_CLUSTER_DIR/ca.crt"
wait_for 10 "node Ready" node_ready
sleeper_pod stats

summary() { k get --raw "/api/v1/nodes/$NODE/proxy/stats/summary"; }
has_pod() { summary | jq -e --arg ns "$NS" '[.pods[] | select(.podRef.name == "stats" and .podRef.namespace == $ns)] | length == 1'; }
wait_for 60 "pod stats in /stats/summary" has_pod
summary >"$WORK/summary.json" || fail "kubectl get --raw .../proxy/stats/summary failed"
jq -e --arg node "$NODE" '.node.nodeName == $node' "$WORK/summary.json" >/dev/null \
  || fail "summary names node '$(jq -r .node.nodeName "$WORK/summary.json")'"
jq -e '.node.cpu.usageNanoCores >= 0 and .node.memory.workingSetBytes > 0 and (.node.startTime | type) == "string"' \
  "$WORK/summary.json" >/dev/null || fail "node cpu/memory missing: $(jq -c '.node | {cpu, memory}' "$WORK/summary.json")"
jq -e '.node.fs.capacityBytes > 0' "$WORK/summary.json" >/dev/null || fail "node fs missing: $(jq -c .node.fs "$WORK/summary.json")"
pod=$(jq -c --arg ns "$NS" '.pods[] | select(.podRef.name == "stats" and .podRef.namespace == $ns)' "$WORK/summary.json")
uid=$(k -n "$NS" get pod stats -o jsonpath='{.metadata.uid}')
jq -e --arg uid "$uid" '.podRef.uid == $uid' <<<"$pod" >/dev/null || fail "pod entry has the wrong uid: $pod"
jq -e '[.containers[] | select(.name == "c")] | length == 1' <<<"$pod" >/dev/null || fail "container c missing: $pod"
wait_for 60 "container c cpu and memory figures" sh -c \
  "'$KUBECTL' get --raw '/api/v1/nodes/$NODE/proxy/stats/summary' | jq -e --arg ns '$NS' '.pods[] | select(.podRef.name == \"stats\" and .podRef.namespace == \$ns) | .containers[] | select(.name == \"c\") | .cpu.usageCoreNanoSeconds > 0 and .memory.workingSetBytes > 0'"
log "PASS: /stats/summary through the API server parses, with the node and pod $NS/stats"
