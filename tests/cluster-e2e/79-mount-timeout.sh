#!/usr/bin/env bash
# Issue 6 (slow: about 2 min): a volume that cannot be set up makes the pod sync give up
# after upstream's 2 min 3 s with its FailedMount event "Unable to attach or mount volumes:
# ..."; the pod stays Pending with its container waiting in ContainerCreating.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/volumes.sh"
require_env
start_rkubelet --kubeconfig="$(node_kubeconfig)"
wait_for 10 "node Ready" node_ready
apply <<YAML
apiVersion: v1
kind: Pod
metadata: {name: stuck}
spec:
  nodeName: $NODE
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: $IMAGE
    command: [sleep, '3600']
    volumeMounts: [{name: cfg, mountPath: /cfg}]
  volumes:
  - {name: cfg, configMap: {name: never-created}}
YAML
want='Unable to attach or mount volumes: unmounted volumes=[cfg], unattached volumes=[], failed to process volumes=[]: context deadline exceeded'
wait_for 160 "the mount timeout event" event_seen FailedMount "$want"
pod_phase_is stuck Pending || fail "pod stuck is not Pending"
reason=$(k -n "$NS" get pod stuck -o jsonpath='{.status.containerStatuses[0].state.waiting.reason}')
[ "$reason" = ContainerCreating ] || fail "container waiting reason: $reason"
log "PASS: mount timeout as upstream words it"
