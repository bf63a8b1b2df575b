# shellcheck shell=bash disable=SC2016,SC2034  # jq programs in single quotes; used by run.sh
# Measuring helpers for scripts/bench/run.sh; source it. Everything here reads the API (through
# curl with the test cluster's e2e token: a kubectl call costs about half a second on a busy
# machine, which would blur the timings) or /proc.

# api PATH [curl args...]: a request to the API server; prints the body.
api() {
    local path=$1; shift
    curl -sS --fail --cacert "$RK_CLUSTER_DIR/ca.crt" -H "@$BENCH_AUTH_HEADER" "$@" "$API_SERVER$path"
}

# start_watch PATH JQ_PROGRAM OUT: lists PATH for its resourceVersion, then watches it from there
# (so no event after the list can be missed, however late the watch connects) in the
# background. Each line the jq program prints (it reads the watch events with `inputs`) is
# written to OUT prefixed with the arrival time (EPOCHREALTIME). Sets WATCH_PID, the process
# group to kill with stop_watch.
start_watch() {
    local path=$1 program=$2 out=$3 rv sep='?'
    case $path in *\?*) sep='&' ;; esac
    rv=$(api "$path" | jq -r .metadata.resourceVersion)
    : >"$out"
    # setsid: curl, jq and the loop share one process group that stop_watch can end.
    setsid bash -c '
        curl -sSN --cacert "$1" -H "@$2" "$3" \
          | jq --unbuffered -rn "$4" \
          | while IFS= read -r line; do printf "%s %s\n" "$EPOCHREALTIME" "$line"; done >>"$5"
    ' _ "$RK_CLUSTER_DIR/ca.crt" "$BENCH_AUTH_HEADER" \
        "$API_SERVER$path${sep}watch=1&resourceVersion=$rv&timeoutSeconds=900" \
        "$program" "$out" </dev/null &
    WATCH_PID=$!
}

stop_watch() {
    [ -n "${WATCH_PID:-}" ] || return 0
    kill -- "-$WATCH_PID" 2>/dev/null || true
    wait "$WATCH_PID" 2>/dev/null || true
    WATCH_PID=
}

# The jq programs for start_watch. An ERROR event (e.g. an expired resourceVersion) is printed
# as such so that the wait fails loudly instead of timing out.
JQ_NODE_READY='inputs | if .type == "ERROR" then "ERROR \(.object.message)"
  elif any(.object.status.conditions[]?; .type == "Ready" and .status == "True") then "ready"
  else empty end'
JQ_PODS_RUNNING='foreach inputs as $e ({};
    if $e.type == "ERROR" then .
    elif $e.type == "DELETED" then del(.[$e.object.metadata.name])
    else .[$e.object.metadata.name] = $e.object.status.phase end;
    if $e.type == "ERROR" then "ERROR \($e.object.message)"
    else "running \([.[] | select(. == "Running")] | length)" end)'
JQ_PODS_DELETED='foreach inputs as $e (0;
    if $e.type == "DELETED" then . + 1 else . end;
    if $e.type == "ERROR" then "ERROR \($e.object.message)" else "deleted \(.)" end)'

# wait_line OUT LINE TIMEOUT_S: waits until OUT holds LINE (after its timestamp); prints that
# line's timestamp. Returns 1 on timeout or on an ERROR line.
wait_line() {
    local out=$1 want=$2 timeout=$3 deadline hit
    deadline=$(awk -v t="$EPOCHREALTIME" -v s="$timeout" 'BEGIN { printf "%.0f", t + s }')
    while :; do
        hit=$(awk -v w="$want" '{ t = $1; $1 = ""; sub(/^ /, "") } $0 == w { print t; exit }
            /^ERROR/ { print "ERROR"; exit }' "$out")
        case $hit in
            ERROR) grep -m1 ERROR "$out" >&2; return 1 ;;
            ?*) echo "$hit"; return 0 ;;
        esac
        [ "${EPOCHREALTIME%.*}" -lt "$deadline" ] || return 1
        sleep 0.05
    done
}

# secs_between T0 T1: T1 - T0 in seconds, two decimals.
secs_between() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

# cpu_ticks PID: utime+stime of the process (all its threads) in clock ticks. The fields
# after the command name, which may hold spaces, are counted from its closing parenthesis.
cpu_ticks() {
    local stat
    stat=$(cat "/proc/$1/stat") || return 1
    stat=${stat##*) }
    # shellcheck disable=SC2086
    set -- $stat
    # Fields 14 and 15 of stat(5) are the 12th and 13th after the name.
    echo $(( ${12} + ${13} ))
}

# status_kb PID FIELD: a kB figure from /proc/PID/status (VmRSS, VmHWM).
status_kb() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }

threads_of() { awk '$1 == "Threads:" { print $2 }' "/proc/$1/status"; }

# thread_ticks PID: "TID NAME TICKS" for each thread (names with spaces get underscores).
thread_ticks() {
    local t stat name
    for t in /proc/"$1"/task/*; do
        stat=$(cat "$t/stat" 2>/dev/null) || continue
        name=${stat#*(}; name=${name%)*}; name=${name// /_}
        stat=${stat##*) }
        # shellcheck disable=SC2086
        set -- $stat
        echo "${t##*/} $name $(( ${12} + ${13} ))"
    done
}

# measure_window PID SECONDS PREFIX: CPU and memory of PID over SECONDS. Sets the globals
# ${PREFIX}_cpu_mc (millicores), ${PREFIX}_rss_kb (VmRSS at the end), ${PREFIX}_hwm_kb,
# ${PREFIX}_threads, ${PREFIX}_rt_cpu_mc (the bench containerd over the same window), and
# writes per-thread CPU to $DIR/${PREFIX}-threads.txt.
measure_window() {
    local pid=$1 secs=$2 prefix=$3 t0 t1 c0 c1 r0 r1 hz
    hz=$(getconf CLK_TCK)
    thread_ticks "$pid" | sort >"$DIR/$prefix-threads.0"
    r0=$(cpu_ticks "$RT_PID" 2>/dev/null || echo 0)
    t0=$EPOCHREALTIME; c0=$(cpu_ticks "$pid")
    sleep "$secs"
    t1=$EPOCHREALTIME; c1=$(cpu_ticks "$pid")
    r1=$(cpu_ticks "$RT_PID" 2>/dev/null || echo 0)
    thread_ticks "$pid" | sort >"$DIR/$prefix-threads.1"
    printf -v "${prefix}_cpu_mc" '%s' "$(awk -v d=$((c1 - c0)) -v hz="$hz" -v a="$t0" -v b="$t1" \
        'BEGIN { printf "%.1f", d / hz / (b - a) * 1000 }')"
    printf -v "${prefix}_rt_cpu_mc" '%s' "$(awk -v d=$((r1 - r0)) -v hz="$hz" -v a="$t0" -v b="$t1" \
        'BEGIN { printf "%.1f", d / hz / (b - a) * 1000 }')"
    printf -v "${prefix}_rss_kb" '%s' "$(status_kb "$pid" VmRSS)"
    printf -v "${prefix}_hwm_kb" '%s' "$(status_kb "$pid" VmHWM)"
    printf -v "${prefix}_threads" '%s' "$(threads_of "$pid")"
    # Per thread: ticks spent in the window, busiest first (threads born in the window count
    # from zero).
    join -a 2 -e 0 -o 2.2,1.3,2.3 "$DIR/$prefix-threads.0" "$DIR/$prefix-threads.1" \
        | awk -v hz="$hz" -v s="$secs" '{ d = $3 - $2; if (d > 0) printf "%s %.1f\n", $1, d / hz / s * 1000 }' \
        | sort -k2,2 -rn >"$DIR/$prefix-threads.txt"
    rm -f "$DIR/$prefix-threads.0" "$DIR/$prefix-threads.1"
}

# mb KB: kilobytes to megabytes (10^6 bytes), one decimal.
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k * 1024 / 1e6 }'; }
