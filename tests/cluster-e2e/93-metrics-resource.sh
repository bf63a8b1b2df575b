#!/usr/bin/env bash
# /metrics/resource through the API server's node proxy: the Prometheus text metrics-server
# scrapes (what `kubectl top` and the HPA read), with the node's and this pod's figures.
. "$(dirname "$0")/lib.sh"
require_env
start_rkubelet --kubeconfig="$(node_kubeconfig)" --client-ca-file="$RK_CLUSTER_DIR/ca.crt"
wait_for 10 "node Ready" node_ready
sleeper_pod metrics

scrape() { k get --raw "/api/v1/nodes/$NODE/proxy/metrics/resource"; }
has_container() { scrape | grep -q "^container_cpu_usage_seconds_total{container=\"c\",namespace=\"$NS\",pod=\"metrics\"}"; }
wait_for 60 "container c in /metrics/resource" has_container
scrape >"$WORK/resource.txt" || fail "kubectl get --raw .../proxy/metrics/resource failed"
# The series metrics-server reads, each declared and with a sample.
for m in node_cpu_usage_seconds_total node_memory_working_set_bytes container_cpu_usage_seconds_total \
         container_memory_working_set_bytes container_start_time_seconds pod_cpu_usage_seconds_total \
         pod_memory_working_set_bytes resource_scrape_error; do
  grep -q "^# TYPE $m " "$WORK/resource.txt" || fail "no '# TYPE $m' in /metrics/resource"
  grep -qE "^$m(\{[^}]*\})? [0-9.e+-]+( [0-9]+)?\$" "$WORK/resource.txt" || fail "no sample of $m in /metrics/resource"
done
# Every sample line parses as name{labels} value [timestamp].
bad=$(grep -v '^#' "$WORK/resource.txt" | grep -vE '^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? [-+0-9.eEInfNa]+( -?[0-9]+)?$' | head -n 3 || true)
[ -z "$bad" ] || fail "unparsable lines in /metrics/resource: $bad"
grep -q '^resource_scrape_error 0' "$WORK/resource.txt" || fail "resource_scrape_error is not 0"
awk '$1 == "node_memory_working_set_bytes" && $2 > 0 {ok=1} END {exit !ok}' "$WORK/resource.txt" \
  || fail "node_memory_working_set_bytes is not positive"
log "PASS: /metrics/resource through the API server parses, with node, pod and container series"
