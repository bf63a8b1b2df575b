#!/usr/bin/env bash
# Issue 6: a container's environment has KUBERNETES_SERVICE_HOST/PORT (the `kubernetes`
# service) and the Docker-link variables of a Service created in its namespace; with
# enableServiceLinks: false only the kubernetes ones. The kubelet-managed /etc/hosts carries
# the pod's hostname and its hostAliases, and /dev/termination-log is mounted.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/volumes.sh"
require_env
k -n "$NS" apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Service
metadata: {name: my-db}
spec:
  ports: [{name: sql, port: 5432, protocol: TCP}]
YAML
ip=$(k -n "$NS" get service my-db -o jsonpath='{.spec.clusterIP}')
start_rkubelet --kubeconfig="$(node_kubeconfig)"
wait_for 10 "node Ready" node_ready
for links in true false; do
  apply <<YAML
apiVersion: v1
kind: Pod
metadata: {name: env-$links}
spec:
  nodeName: $NODE
  restartPolicy: Never
  enableServiceLinks: $links
  hostAliases: [{ip: 10.9.8.7, hostnames: [db.local, cache.local]}]
  containers:
  - name: c
    image: $IMAGE
    command: [sh, -c, 'env | sort; echo ---; cat /etc/hosts; echo ---; test -f /dev/termination-log && echo TERMLOG']
YAML
done
for links in true false; do wait_for 40 "pod env-$links Succeeded" pod_phase_is "env-$links" Succeeded; done
# CRI log lines: "<time> stdout F <text>".
out() {
  local f; f="/var/log/pods/${NS}_env-$1_$(pod_uid "env-$1")/c/0.log"
  [ -f "$f" ] || fail "no log file $f; pod: $(k -n "$NS" get pod "env-$1" -o jsonpath='{.status.containerStatuses}')"
  sed "s/^[^ ]* [^ ]* [^ ]* //" "$f"
}
with=$(out true)
for want in KUBERNETES_SERVICE_HOST= KUBERNETES_SERVICE_PORT=443 KUBERNETES_SERVICE_PORT_HTTPS=443 KUBERNETES_PORT=tcp:// \
  "MY_DB_SERVICE_HOST=$ip" MY_DB_SERVICE_PORT=5432 MY_DB_SERVICE_PORT_SQL=5432 "MY_DB_PORT=tcp://$ip:5432" \
  "MY_DB_PORT_5432_TCP=tcp://$ip:5432" MY_DB_PORT_5432_TCP_PROTO=tcp MY_DB_PORT_5432_TCP_PORT=5432 "MY_DB_PORT_5432_TCP_ADDR=$ip"; do
  grep -q "^$want" <<<"$with" || { echo "$with" >&2; fail "missing $want"; }
done
without=$(out false)
grep -q '^KUBERNETES_SERVICE_HOST=' <<<"$without" || fail "KUBERNETES_SERVICE_HOST missing without service links"
grep -q '^MY_DB_' <<<"$without" && fail "link variables despite enableServiceLinks: false"
log "service link variables are right"

hosts=$(sed -n '/^---$/,/^---$/p' <<<"$with")
ip=$(k -n "$NS" get pod env-true -o jsonpath='{.status.podIP}')
grep -qx '# Kubernetes-managed hosts file.' <<<"$hosts" || { echo "$hosts" >&2; fail "/etc/hosts is not the kubelet-managed file"; }
grep -qx "$(printf '127.0.0.1\tlocalhost')" <<<"$hosts" || fail "no localhost line in /etc/hosts"
# Upstream mounts the managed file only once the sandbox has an IP (or on the host network).
[ -n "$ip" ] || fail "pod env-true has no podIP"
grep -qx "$(printf '%s\tenv-true' "$ip")" <<<"$hosts" || fail "no pod IP and hostname line in /etc/hosts"
grep -qx "$(printf '10.9.8.7\tdb.local\tcache.local')" <<<"$hosts" || fail "hostAliases missing from /etc/hosts"
[ -f "$ROOTDIR/pods/$(pod_uid env-true)/etc-hosts" ] || fail "no etc-hosts file in the pod directory"
grep -qx TERMLOG <<<"$with" || fail "/dev/termination-log is not mounted"
log "PASS: service link variables, managed /etc/hosts with hostAliases, termination log"
