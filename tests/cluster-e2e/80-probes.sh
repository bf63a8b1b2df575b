#!/usr/bin/env bash
# Probes: an exec liveness probe that starts failing restarts its container (Unhealthy and
# Killing events); an exec readiness probe flips Ready both ways; HTTP liveness against
# busybox httpd keeps a healthy container running and restarts one whose path is missing;
# a startup probe holds liveness back and sets started, a failing one restarts; TCP
# readiness; an exec probe that outlives timeoutSeconds fails; readiness turns False while a
# pod terminates.
. "$(dirname "$0")/lib.sh"
require_env
start_rkubelet --kubeconfig="$(node_kubeconfig)"
wait_for 10 "node Ready" node_ready
BB=docker.io/library/busybox:1.35
apply <<YAML
apiVersion: v1
kind: Pod
metadata: {name: live}
spec:
  nodeName: $NODE
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: $BB
    command: [sh, -c, 'trap "exit 0" TERM; touch /tmp/healthy; sleep 6; rm -f /tmp/healthy; while true; do sleep 1; done']
    livenessProbe:
      exec: {command: [cat, /tmp/healthy]}
      initialDelaySeconds: 1
      periodSeconds: 1
      failureThreshold: 2
---
apiVersion: v1
kind: Pod
metadata: {name: ready}
spec:
  nodeName: $NODE
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: $BB
    command: [sh, -c, 'trap "exit 0" TERM; sleep 4; touch /tmp/ready; sleep 8; rm -f /tmp/ready; while true; do sleep 1; done']
    readinessProbe:
      exec: {command: [cat, /tmp/ready]}
      periodSeconds: 1
---
apiVersion: v1
kind: Pod
metadata: {name: http}
spec:
  nodeName: $NODE
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: $BB
    command: [sh, -c, 'mkdir -p /www && echo ok > /www/healthz && exec httpd -f -p 8080 -h /www']
    ports: [{name: web, containerPort: 8080}]
    livenessProbe:
      httpGet: {path: /healthz, port: web}
      periodSeconds: 1
      failureThreshold: 1
    readinessProbe:
      httpGet: {path: /healthz, port: 8080, httpHeaders: [{name: X-Probe, value: "1"}]}
      periodSeconds: 1
---
apiVersion: v1
kind: Pod
metadata: {name: http-bad}
spec:
  nodeName: $NODE
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: $BB
    command: [sh, -c, 'mkdir -p /www && exec httpd -f -p 8080 -h /www']
    livenessProbe:
      httpGet: {path: /missing, port: 8080}
      initialDelaySeconds: 2
      periodSeconds: 1
      failureThreshold: 2
---
apiVersion: v1
kind: Pod
metadata: {name: startup}
spec:
  nodeName: $NODE
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: $BB
    command: [sh, -c, 'trap "exit 0" TERM; sleep 8; touch /tmp/started; while true; do sleep 1; done']
    startupProbe:
      exec: {command: [cat, /tmp/started]}
      periodSeconds: 1
      failureThreshold: 30
    livenessProbe:
      exec: {command: [cat, /tmp/started]}
      periodSeconds: 1
      failureThreshold: 1
---
apiVersion: v1
kind: Pod
metadata: {name: startup-fail}
spec:
  nodeName: $NODE
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: $BB
    command: [sh, -c, 'trap "exit 0" TERM; while true; do sleep 1; done']
    startupProbe:
      exec: {command: ["false"]}
      periodSeconds: 1
      failureThreshold: 2
---
apiVersion: v1
kind: Pod
metadata: {name: tcp}
spec:
  nodeName: $NODE
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: $BB
    command: [sh, -c, 'mkdir -p /www && exec httpd -f -p 8080 -h /www']
    readinessProbe:
      tcpSocket: {port: 8080}
      periodSeconds: 1
  - name: closed
    image: $BB
    command: [sh, -c, 'trap "exit 0" TERM; while true; do sleep 1; done']
    readinessProbe:
      tcpSocket: {port: 9999}
      periodSeconds: 1
  - name: slow
    image: $BB
    command: [sh, -c, 'trap "exit 0" TERM; while true; do sleep 1; done']
    readinessProbe:
      exec: {command: [sleep, "5"]}
      timeoutSeconds: 1
      periodSeconds: 2
---
apiVersion: v1
kind: Pod
metadata: {name: term}
spec:
  nodeName: $NODE
  terminationGracePeriodSeconds: 20
  containers:
  - name: c
    image: $BB
    command: [sh, -c, '_term() { rm -f /tmp/ready; sleep 8; exit 0; }; trap _term TERM; touch /tmp/ready; while true; do sleep 1; done']
    readinessProbe:
      exec: {command: [cat, /tmp/ready]}
      periodSeconds: 1
      failureThreshold: 1
YAML

jpath() { k -n "$NS" get pod "$1" -o jsonpath="$2"; }
ready_is() { [ "$(jpath "$1" '{.status.conditions[?(@.type=="Ready")].status}')" = "$2" ] &&
  [ "$(jpath "$1" '{.status.containerStatuses[0].ready}')" = "$3" ]; }
started_is() { [ "$(jpath "$1" '{.status.containerStatuses[0].started}')" = "$2" ]; }
restarted() { [ "$(jpath "$1" '{.status.containerStatuses[0].restartCount}')" -ge 1 ]; }
event_has() { # POD REASON TEXT
  k -n "$NS" get events -o json | jq -e --arg p "$1" --arg r "$2" --arg t "$3" \
    '[.items[] | select(.involvedObject.name == $p and .reason == $r and (.message | contains($t)))] | length > 0'
}

# The startup probe has not succeeded yet: not started, not ready.
wait_for 30 "startup Running" pod_phase_is startup Running
started_is startup false || fail "startup: started before its probe succeeded"
ready_is startup False false || fail "startup: ready before started"

# Readiness: not ready until the file exists, ready while it does, unready once it is gone.
wait_for 30 "ready Running" pod_phase_is ready Running
ready_is ready False false || fail "ready: Ready before the probe succeeded: $(jpath ready '{.status}')"
wait_for 20 "ready: Ready True" ready_is ready True true
[ "$(jpath ready '{.status.containerStatuses[0].started}')" = true ] || fail "ready: not started"
wait_for 20 "ready: Ready False again" ready_is ready False false
event_has ready Unhealthy "Readiness probe failed: cat: can't open '/tmp/ready'" >/dev/null || fail "no readiness Unhealthy event"
[ "$(jpath ready '{.status.containerStatuses[0].restartCount}')" = 0 ] || fail "readiness failures must not restart"
log "readiness probe flips Ready both ways"

# Liveness: the file goes after 6 s; two failures restart the container.
wait_for 40 "live restarted" restarted live
event_has live Unhealthy "Liveness probe failed: cat: can't open '/tmp/healthy'" >/dev/null || fail "no liveness Unhealthy event"
event_has live Killing "Container c failed liveness probe, will be restarted" >/dev/null || fail "no Killing event"
jq -e '.status.containerStatuses[0].lastState.terminated != null' <<<"$(pod_json live)" >/dev/null || fail "live: no lastState"
log "exec liveness failure restarted the container"

# HTTP: healthy httpd stays up and turns ready; a missing path restarts.
wait_for 30 "http ready" ready_is http True true
wait_for 40 "http-bad restarted" restarted http-bad
event_has http-bad Unhealthy "Liveness probe failed: HTTP probe failed with statuscode: 404" >/dev/null || fail "no HTTP Unhealthy event"
[ "$(jpath http '{.status.containerStatuses[0].restartCount}')" = 0 ] || fail "healthy http pod restarted"
log "HTTP liveness and readiness"

# Startup: liveness waits (it would fail before the file exists), started follows the probe.
wait_for 30 "startup: started" started_is startup true
wait_for 10 "startup: Ready" ready_is startup True true
[ "$(jpath startup '{.status.containerStatuses[0].restartCount}')" = 0 ] || fail "startup: liveness ran before startup"
wait_for 40 "startup-fail restarted" restarted startup-fail
event_has startup-fail Killing "Container c failed startup probe, will be restarted" >/dev/null || fail "no startup Killing event"
log "startup probe gates liveness and restarts when it fails"

# TCP: open port ready, closed port not; a slow exec probe times out.
c_ready() { [ "$(k -n "$NS" get pod tcp -o json | jq -r --arg c "$1" '.status.containerStatuses[] | select(.name == $c) | .ready')" = "$2" ]; }
wait_for 20 "tcp: c ready" c_ready c true
wait_for 20 "tcp: refused event" event_has tcp Unhealthy ":9999: connect: connection refused"
c_ready closed false || fail "tcp: closed port counted as ready"
wait_for 20 "exec timeout event" event_has tcp Unhealthy 'Readiness probe failed: command timed out: "sleep 5" timed out after 1s'
c_ready slow false || fail "tcp: slow exec probe counted as ready"
[ "$(jpath tcp '{.status.conditions[?(@.type=="Ready")].status}')" = False ] || fail "tcp: pod Ready with unready containers"
log "TCP probes and exec timeouts"

# Terminating: the readiness probe keeps running and the pod turns unready before it is gone.
wait_for 20 "term: Ready" ready_is term True true
k -n "$NS" delete pod term --wait=false >/dev/null
unready_terminating() {
  pod_json term | jq -e '.metadata.deletionTimestamp != null and
    ([.status.conditions[] | select(.type == "Ready")][0].status == "False")'
}
wait_for 8 "term: Ready False while terminating" unready_terminating
log "readiness while terminating"

k -n "$NS" get pods >&2
log "PASS"
