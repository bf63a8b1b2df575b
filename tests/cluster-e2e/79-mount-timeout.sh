#!/usr/bin/env bash
# Issue 6 (slow: about 2 min): a volume that cannot be set up makes the pod sync give up
# after upstream's 2 min 3 s. The reason reaches the user as the per-volume FailedMount
# event; the timeout itself is only logged ("unmounted volumes=[cfg], ...: context deadline
# exceeded"), because upstream v1.37.2 drops the "Unable to attach or mount volumes" event
# for errors that wait.Interrupted matches, and a context deadline is one. The pod stays
# Pending with its container waiting in ContainerCreating.
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
wait_for 40 "the per-volume FailedMount event" event_seen FailedMount 'MountVolume.SetUp failed for volume "cfg" : configmap "never-created" not found'
want='unmounted volumes=[cfg], unattached volumes=[], failed to process volumes=[]: context deadline exceeded'
wait_for 160 "the mount timeout in rkubelet's log" grep -qF "$want" "$KLOG"
sleep 2
event_seen FailedMount 'Unable to attach or mount volumes' && fail "an 'Unable to attach or mount volumes' event, which upstream does not record for a timeout"
pod_phase_is stuck Pending || fail "pod stuck is not Pending"
reason=$(k -n "$NS" get pod stuck -o jsonpath='{.status.containerStatuses[0].state.waiting.reason}')
[ "$reason" = ContainerCreating ] || fail "container waiting reason: $reason"
log "PASS: mount timeout handled as upstream does"
