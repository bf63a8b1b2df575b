#!/usr/bin/env bash
# Issue 6: after `kubectl delete pod`, nothing is left mounted under the pod's directory
# and the directory is gone. After rkubelet is killed and a pod deleted meanwhile, the next
# start cleans that pod up, while the volumes of the running pod are left in place (same
# mounts, same data, container not restarted).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/volumes.sh"
require_env
k -n "$NS" create secret generic sec --from-literal=k=v >/dev/null
start_rkubelet --kubeconfig="$(node_kubeconfig)"
wait_for 10 "node Ready" node_ready
for name in first gone stays; do
  apply <<YAML
apiVersion: v1
kind: Pod
metadata: {name: $name}
spec:
  nodeName: $NODE
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: $IMAGE
    command: [sh, -c, 'echo data >/mem/f; trap "exit 0" TERM; sleep 3600 & wait']
    volumeMounts:
    - {name: mem, mountPath: /mem}
    - {name: disk, mountPath: /disk}
    - {name: sec, mountPath: /sec}
    - {name: disk, mountPath: /sub, subPath: dir}
  volumes:
  - {name: mem, emptyDir: {medium: Memory}}
  - {name: disk, emptyDir: {}}
  - {name: sec, secret: {secretName: sec}}
YAML
done
for name in first gone stays; do wait_for 60 "pod $name Running" pod_phase_is "$name" Running; done
declare -A uid
for name in first gone stays; do uid[$name]=$(pod_uid "$name"); done
[ "$(mounts_under_pod "${uid[first]}")" -ge 4 ] || fail "expected tmpfs, secret, projected and subPath mounts for pod first"

k -n "$NS" delete pod first --wait=false >/dev/null
wait_for 60 "pod first gone from the API" pod_gone first
wait_for 30 "pod first's directory removed" test ! -e "$ROOTDIR/pods/${uid[first]}"
[ "$(mounts_under_pod "${uid[first]}")" = 0 ] || fail "mounts left under pod first"
log "kubectl delete: no mounts left, directory gone"

stays_mounts=$(grep " $ROOTDIR/pods/${uid[stays]}/" /proc/self/mountinfo | awk '{print $1, $5}' | sort)
stays_id=$(cid stays c)
# The secret's atomic-writer version: unchanged data must not be rewritten after a restart.
stays_data() { readlink "$ROOTDIR/pods/${uid[stays]}/volumes/kubernetes.io~secret/sec/..data"; }
stays_version=$(stays_data)
[ -n "$stays_version" ] || fail "no ..data link in pod stays' secret volume"
stop_rkubelet KILL
log "rkubelet killed; deleting pod gone behind its back"
k -n "$NS" delete pod gone --force --grace-period=0 >/dev/null 2>&1
[ "$(mounts_under_pod "${uid[gone]}")" -ge 4 ] || fail "pod gone lost its mounts while rkubelet was down"
start_rkubelet --kubeconfig="$(node_kubeconfig)"
wait_for 60 "pod gone's containers removed" runtime_pod_gone gone "$NS"
wait_for 60 "pod gone's directory removed" test ! -e "$ROOTDIR/pods/${uid[gone]}"
[ "$(mounts_under_pod "${uid[gone]}")" = 0 ] || fail "mounts left under pod gone"
sleep 3
pod_phase_is stays Running || fail "pod stays is not Running"
[ "$(cid stays c)" = "$stays_id" ] && [ "$(restarts stays)" = 0 ] || fail "pod stays was restarted"
now=$(grep " $ROOTDIR/pods/${uid[stays]}/" /proc/self/mountinfo | awk '{print $1, $5}' | sort)
[ "$now" = "$stays_mounts" ] || fail "the running pod's mounts changed: before: $stays_mounts, after: $now"
file_is stays c /mem/f data || fail "the running pod's tmpfs data is gone"
[ "$(stays_data)" = "$stays_version" ] || fail "the running pod's secret volume was rewritten: $stays_version -> $(stays_data)"
file_is stays c /sec/k v || fail "the running pod's secret file"
log "PASS: deleted pods cleaned up, also across a restart; the running pod untouched"
