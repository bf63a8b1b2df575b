#!/usr/bin/env bash
# A pod referencing a Secret and a ConfigMap (env and envFrom) gets their data, plus the
# KUBERNETES_SERVICE_* variables.
. "$(dirname "$0")/lib.sh"
require_env
k -n "$NS" create configmap cfg --from-literal=color=blue --from-literal=size=L >/dev/null
k -n "$NS" create secret generic sec --from-literal=password=s3cret >/dev/null
start_rkubelet --kubeconfig="$(node_kubeconfig)"
wait_for 10 "node Ready" node_ready
apply <<YAML
apiVersion: v1
kind: Pod
metadata: {name: envpod}
spec:
  nodeName: $NODE
  restartPolicy: Never
  containers:
  - name: c
    image: docker.io/library/busybox:1.35
    command: [sh, -c, 'env | sort']
    env:
    - name: COLOR
      valueFrom: {configMapKeyRef: {name: cfg, key: color}}
    - name: PASSWORD
      valueFrom: {secretKeyRef: {name: sec, key: password}}
    - name: MY_POD
      valueFrom: {fieldRef: {fieldPath: metadata.name}}
    envFrom:
    - configMapRef: {name: cfg}
      prefix: CFG_
YAML
wait_for 40 "envpod Succeeded" pod_phase_is envpod Succeeded
uid=$(k -n "$NS" get pod envpod -o jsonpath='{.metadata.uid}')
out=$(cat /var/log/pods/${NS}_envpod_${uid}/c/0.log)
for want in COLOR=blue PASSWORD=s3cret MY_POD=envpod CFG_size=L CFG_color=blue KUBERNETES_SERVICE_HOST= KUBERNETES_SERVICE_PORT=; do
  grep -q "$want" <<<"$out" || { echo "$out" >&2; fail "missing $want"; }
done
log "PASS"
