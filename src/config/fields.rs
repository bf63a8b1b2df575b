//! The schema of KubeletConfiguration as data: every field's JSON path, value type, how
//! upstream decides it is unset, and what it means.
//!
//! One table drives four things, so they cannot disagree: the unknown-field warnings, the
//! type checks (errors name the field), the defaulting rule (see [`Rule`]), and
//! `man/kubelet-config.5`. A unit test checks that the table and the
//! [`KubeletConfiguration`](super::KubeletConfiguration) struct have exactly the same fields.
//!
//! Paths are dotted JSON names; `name[]` is a list of objects whose item fields follow as
//! `name[].field`. Parents come before their children.

#![forbid(unsafe_code)]

/// The JSON type of a field's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Bool,
    Int32,
    Int64,
    UInt32,
    Float64,
    String,
    /// Go duration text ("1m30s").
    Duration,
    /// Go duration text, or an integer number of nanoseconds (logging.flushFrequency).
    DurationOrNanos,
    /// A resource quantity: text ("10Mi") or a number.
    Quantity,
    StringList,
    Int32List,
    StringMap,
    /// Map of resource names to quantities.
    QuantityMap,
    /// Map of strings to lists of strings (HTTP headers).
    StringListMap,
    BoolMap,
    Object,
    /// A list of objects; item fields are listed as `path[].field`.
    ObjectList,
}

impl Kind {
    /// How the type is named in messages and in the man page.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Bool => "boolean",
            Kind::Int32 => "int32",
            Kind::Int64 => "int64",
            Kind::UInt32 => "uint32",
            Kind::Float64 => "float64",
            Kind::String => "string",
            Kind::Duration => "duration",
            Kind::DurationOrNanos => "duration or integer nanoseconds",
            Kind::Quantity => "quantity",
            Kind::StringList => "list of strings",
            Kind::Int32List => "list of int32",
            Kind::StringMap => "map of string to string",
            Kind::QuantityMap => "map of string to quantity",
            Kind::StringListMap => "map of string to list of strings",
            Kind::BoolMap => "map of string to boolean",
            Kind::Object => "object",
            Kind::ObjectList => "list of objects",
        }
    }
}

/// When upstream's defaulting replaces what the file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Absent or null takes the default (a Go pointer field, or a field without default
    /// whose default is the zero value).
    Plain,
    /// Absent, null or the zero value takes the default (a Go value field: upstream cannot
    /// tell `0` from unset).
    ZeroMeansDefault,
    /// Defaulted by code in `defaults.rs` (depends on other fields or feature gates).
    Special,
}

#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub path: &'static str,
    pub kind: Kind,
    pub rule: Rule,
    /// What the field means, in one or two sentences (printed in the man page).
    pub doc: &'static str,
}

const fn f(path: &'static str, kind: Kind, rule: Rule, doc: &'static str) -> Field {
    Field { path, kind, rule, doc }
}

use Kind::*;
use Rule::*;

/// Every KubeletConfiguration v1beta1 field of upstream v1.37.2.
pub const FIELDS: &[Field] = &[
    f("apiVersion", String, Plain, "Must be kubelet.config.k8s.io/v1beta1."),
    f("kind", String, Plain, "Must be KubeletConfiguration."),
    f("enableServer", Bool, Plain, "Serve the authenticated kubelet API on address:port."),
    f("staticPodPath", String, Plain, "A directory of static pod manifests, or a single manifest file; files whose names start with a dot are ignored."),
    f("podLogsDir", String, ZeroMeansDefault, "Where container logs go: <podLogsDir>/<namespace>_<pod>_<uid>/<container>/<restart>.log. Must be an absolute, clean, ASCII path."),
    f("syncFrequency", Duration, ZeroMeansDefault, "The longest time between two syncs of a running pod with its spec."),
    f("fileCheckFrequency", Duration, ZeroMeansDefault, "How often staticPodPath is re-read (changes are also picked up at once through inotify)."),
    f("httpCheckFrequency", Duration, ZeroMeansDefault, "How often staticPodURL is polled."),
    f("staticPodURL", String, Plain, "A URL that serves a Pod or a v1 List of pods to run as static pods."),
    f("staticPodURLHeader", StringListMap, Plain, "HTTP headers sent with every request to staticPodURL."),
    f("address", String, ZeroMeansDefault, "The IP address the kubelet API listens on (0.0.0.0 or :: for all)."),
    f("port", Int32, ZeroMeansDefault, "The port of the authenticated kubelet API (1-65535)."),
    f("readOnlyPort", Int32, Plain, "The port of the unauthenticated read-only API; 0 turns it off. The file default is 0, the flag default 10255."),
    f("tlsCertFile", String, Plain, "The serving certificate (with intermediates appended). Without it and tlsPrivateKeyFile, a self-signed pair is made in --cert-dir."),
    f("tlsPrivateKeyFile", String, Plain, "The private key of tlsCertFile."),
    f("tlsCipherSuites", StringList, Plain, "Allowed TLS 1.2 cipher suites, by their Go names; empty means the defaults."),
    f("tlsCurvePreferences", Int32List, Plain, "Allowed key exchange groups, by Go CurveID number; empty means the defaults."),
    f("tlsMinVersion", String, Plain, "The lowest TLS version served (VersionTLS12, VersionTLS13)."),
    f("rotateCertificates", Bool, Plain, "Renew the client certificate through the certificates.k8s.io API before it expires."),
    f("serverTLSBootstrap", Bool, Plain, "Get the serving certificate from a kubernetes.io/kubelet-serving CSR instead of self-signing it."),
    f("authentication", Object, Plain, "How requests to the kubelet API are authenticated."),
    f("authentication.x509", Object, Plain, "Client certificate authentication."),
    f("authentication.x509.clientCAFile", String, Plain, "CA bundle that client certificates must chain to; the certificate's CN is the user name."),
    f("authentication.webhook", Object, Plain, "Bearer token authentication through TokenReview."),
    f("authentication.webhook.enabled", Bool, Plain, "Check bearer tokens with the TokenReview API."),
    f("authentication.webhook.cacheTTL", Duration, ZeroMeansDefault, "How long TokenReview answers are cached."),
    f("authentication.anonymous", Object, Plain, "Anonymous requests."),
    f("authentication.anonymous.enabled", Bool, Plain, "Treat requests no other method authenticated as system:anonymous instead of refusing them with 401."),
    f("authorization", Object, Plain, "How authenticated requests to the kubelet API are authorized."),
    f("authorization.mode", String, ZeroMeansDefault, "AlwaysAllow, or Webhook (SubjectAccessReview)."),
    f("authorization.webhook", Object, Plain, "SubjectAccessReview caching."),
    f("authorization.webhook.cacheAuthorizedTTL", Duration, ZeroMeansDefault, "How long an allowed decision is cached."),
    f("authorization.webhook.cacheUnauthorizedTTL", Duration, ZeroMeansDefault, "How long a denied decision is cached."),
    f("registryPullQPS", Int32, Plain, "Image pulls per second; 0 means no limit."),
    f("registryBurst", Int32, ZeroMeansDefault, "Image pulls allowed in a burst above registryPullQPS."),
    f("imagePullCredentialsVerificationPolicy", String, Special, "When an image already on the node must be checked against the pod's pull credentials: NeverVerify, NeverVerifyPreloadedImages, NeverVerifyAllowlistedImages or AlwaysVerify."),
    f("preloadedImagesVerificationAllowlist", StringList, Plain, "Images exempt from credential checks under NeverVerifyAllowlistedImages."),
    f("eventRecordQPS", Int32, Plain, "Events created per second; 0 means no limit."),
    f("eventBurst", Int32, ZeroMeansDefault, "Events allowed in a burst above eventRecordQPS."),
    f("enableDebuggingHandlers", Bool, Plain, "Serve logs, exec, attach, port-forward and run on the kubelet API."),
    f("enableContentionProfiling", Bool, Plain, "Enable block profiling."),
    f("healthzPort", Int32, Plain, "The port of the /healthz endpoint; 0 turns it off."),
    f("healthzBindAddress", String, ZeroMeansDefault, "The IP address /healthz listens on."),
    f("oomScoreAdj", Int32, Plain, "The oom_score_adj of the kubelet process (-1000 to 1000)."),
    f("clusterDomain", String, Plain, "The cluster's DNS domain, added to the search list of pods."),
    f("clusterDNS", StringList, Plain, "DNS server addresses for pods with dnsPolicy ClusterFirst."),
    f("streamingConnectionIdleTimeout", Duration, ZeroMeansDefault, "How long an exec, attach or port-forward stream may stay idle before it is closed."),
    f("nodeStatusUpdateFrequency", Duration, ZeroMeansDefault, "How often node status is computed and, when it changed, posted."),
    f("nodeStatusReportFrequency", Duration, Special, "How often node status is posted when nothing changed; when unset, 5m, or nodeStatusUpdateFrequency if that is set."),
    f("nodeLeaseDurationSeconds", Int32, ZeroMeansDefault, "The duration of the node's Lease in kube-node-lease; must be greater than 0."),
    f("imageMinimumGCAge", Duration, ZeroMeansDefault, "How long an unused image is kept before garbage collection may remove it."),
    f("imageMaximumGCAge", Duration, Plain, "Unused images older than this are removed; 0s turns this off."),
    f("imageGCHighThresholdPercent", Int32, Plain, "Disk usage (percent) above which image garbage collection always runs."),
    f("imageGCLowThresholdPercent", Int32, Plain, "Disk usage (percent) image garbage collection frees down to; below imageGCHighThresholdPercent."),
    f("volumeStatsAggPeriod", Duration, ZeroMeansDefault, "How often volume disk usage is measured."),
    f("kubeletCgroups", String, Plain, "The cgroup to run the kubelet in."),
    f("systemCgroups", String, Plain, "The cgroup for all non-kernel processes outside containers; needs cgroupRoot."),
    f("cgroupRoot", String, Plain, "The root cgroup of pods; with cgroupsPerQOS and no value, /."),
    f("cgroupsPerQOS", Bool, Plain, "Create the QoS class cgroups (burstable, besteffort) and one cgroup per pod."),
    f("cgroupDriver", String, ZeroMeansDefault, "How cgroups are named and managed: cgroupfs or systemd. Must match the runtime's."),
    f("cpuManagerPolicy", String, ZeroMeansDefault, "The CPU manager policy: none or static."),
    f("singleProcessOOMKill", Bool, Plain, "On cgroup v2, kill only the process the kernel chose instead of the whole container."),
    f("cpuManagerPolicyOptions", StringMap, Plain, "Options of the CPU manager policy."),
    f("cpuManagerReconcilePeriod", Duration, ZeroMeansDefault, "How often the CPU manager reconciles."),
    f("memoryManagerPolicy", String, ZeroMeansDefault, "The memory manager policy: None or Static."),
    f("topologyManagerPolicy", String, ZeroMeansDefault, "none, best-effort, restricted or single-numa-node."),
    f("topologyManagerScope", String, ZeroMeansDefault, "container or pod."),
    f("topologyManagerPolicyOptions", StringMap, Plain, "Options of the topology manager policy."),
    f("qosReserved", StringMap, Plain, "Percent of a resource reserved for the Guaranteed QoS class (memory only)."),
    f("runtimeRequestTimeout", Duration, ZeroMeansDefault, "The timeout of every CRI call except long-running ones (pull, logs, exec, attach)."),
    f("hairpinMode", String, ZeroMeansDefault, "How hairpin traffic is set up: promiscuous-bridge, hairpin-veth or none."),
    f("maxPods", Int32, ZeroMeansDefault, "The most pods this node runs; more are rejected at admission."),
    f("podCIDR", String, Plain, "The pod IP range in standalone mode (in a cluster the Node's spec.podCIDR is used)."),
    f("podPidsLimit", Int64, Special, "The most processes in one pod; -1 (or any negative value) means the node's limit."),
    f("resolvConf", String, Plain, "The resolver file pods' DNS configuration starts from; an empty string gives pods none."),
    f("runOnce", Bool, Plain, "Removed mode: true is refused by validation."),
    f("cpuCFSQuota", Bool, Plain, "Enforce CPU limits with CFS quota."),
    f("cpuCFSQuotaPeriod", Duration, Plain, "The CFS period (cpu.cfs_period_us), between 1ms and 1s."),
    f("nodeStatusMaxImages", Int32, Plain, "The most images listed in Node status.images; -1 means no cap."),
    f("maxOpenFiles", Int64, ZeroMeansDefault, "The open file limit of the kubelet process."),
    f("contentType", String, ZeroMeansDefault, "The content type of requests to the API server."),
    f("kubeAPIQPS", Int32, Plain, "Requests per second to the API server (events and heartbeats excepted)."),
    f("kubeAPIBurst", Int32, ZeroMeansDefault, "Requests to the API server allowed in a burst above kubeAPIQPS."),
    f("serializeImagePulls", Bool, Special, "Pull one image at a time; when unset, true unless maxParallelImagePulls is 2 or more."),
    f("maxParallelImagePulls", Int32, Plain, "The most image pulls at once (needs serializeImagePulls false); unset means no limit."),
    f("evictionHard", StringMap, Special, "Hard eviction thresholds by signal (memory.available: 100Mi, nodefs.available: 10%, ...)."),
    f("evictionSoft", StringMap, Plain, "Soft eviction thresholds by signal."),
    f("evictionSoftGracePeriod", StringMap, Plain, "How long each soft threshold must hold before pods are evicted."),
    f("evictionPressureTransitionPeriod", Duration, ZeroMeansDefault, "How long a pressure condition stays after the threshold is no longer met."),
    f("evictionMaxPodGracePeriod", Int32, Plain, "The longest grace period (seconds) given to pods evicted for a soft threshold."),
    f("evictionMinimumReclaim", StringMap, Plain, "The least amount of each resource reclaimed once eviction starts."),
    f("mergeDefaultEvictionSettings", Bool, Plain, "Add the default evictionHard signals the file does not name, instead of leaving them unset."),
    f("podsPerCore", Int32, Plain, "The most pods per CPU core (capped by maxPods); 0 means no such limit."),
    f("enableControllerAttachDetach", Bool, Plain, "Leave volume attach and detach to the attach/detach controller."),
    f("protectKernelDefaults", Bool, Plain, "Fail when kernel tunables differ from what the kubelet expects, instead of changing them."),
    f("makeIPTablesUtilChains", Bool, Plain, "Create the KUBE-IPTABLES-HINT chain."),
    f("iptablesMasqueradeBit", Int32, Plain, "Deprecated upstream; has no effect."),
    f("iptablesDropBit", Int32, Plain, "Deprecated upstream; has no effect."),
    f("featureGates", BoolMap, Plain, "Feature gates by name; unknown names are warned about and ignored by rkubelet."),
    f("failSwapOn", Bool, Plain, "Refuse to start when swap is on."),
    f("memorySwap", Object, Plain, "Swap for containers."),
    f("memorySwap.swapBehavior", String, Plain, "NoSwap or LimitedSwap."),
    f("containerLogMaxSize", String, ZeroMeansDefault, "The size (a quantity such as 10Mi) at which a container log file is rotated."),
    f("containerLogMaxFiles", Int32, Plain, "How many log files are kept per container; at least 2."),
    f("containerLogMaxWorkers", Int32, Plain, "How many log rotations run at once; at least 1."),
    f("containerLogMonitorInterval", Duration, Plain, "How often container log sizes are checked; at least 3s."),
    f("configMapAndSecretChangeDetectionStrategy", String, ZeroMeansDefault, "How ConfigMaps and Secrets of pods are kept fresh: Get, Cache or Watch."),
    f("systemReserved", StringMap, Plain, "Resources reserved for the operating system (cpu, memory, ephemeral-storage, pid)."),
    f("kubeReserved", StringMap, Plain, "Resources reserved for Kubernetes daemons."),
    f("reservedSystemCPUs", String, Plain, "A CPU list reserved for the system and Kubernetes daemons."),
    f("showHiddenMetricsForVersion", String, Plain, "Show metrics hidden since this previous minor version."),
    f("systemReservedCgroup", String, Plain, "The cgroup where systemReserved is enforced."),
    f("kubeReservedCgroup", String, Plain, "The cgroup where kubeReserved is enforced."),
    f("enforceNodeAllocatable", StringList, Plain, "Where node allocatable is enforced: pods, system-reserved(-compressible), kube-reserved(-compressible), or none."),
    f("allowedUnsafeSysctls", StringList, Plain, "Unsafe sysctls (or prefixes ending in *) pods may set."),
    f("defaultPodSysctls", StringMap, Plain, "Sysctls applied to every pod unless the pod sets them."),
    f("volumePluginDir", String, ZeroMeansDefault, "The directory of FlexVolume plugins."),
    f("providerID", String, Plain, "The node's ID in the machine database of its provider (Node spec.providerID)."),
    f("kernelMemcgNotification", Bool, Plain, "Use kernel memcg notifications to notice memory thresholds instead of polling."),
    f("logging", Object, Plain, "Log output options."),
    f("logging.format", String, ZeroMeansDefault, "The log format: text (json upstream only)."),
    f("logging.flushFrequency", DurationOrNanos, ZeroMeansDefault, "The longest time between log flushes."),
    f("logging.verbosity", UInt32, Plain, "The log verbosity, as -v sets it: 2 shows debug lines, 4 trace lines."),
    f("logging.vmodule", ObjectList, Plain, "Verbosity per source file pattern."),
    f("logging.vmodule[].filePattern", String, Plain, "A file name pattern."),
    f("logging.vmodule[].verbosity", UInt32, Plain, "The verbosity for files matching the pattern."),
    f("logging.options", Object, Plain, "Options of the log formats."),
    f("logging.options.text", Object, Plain, "Options of the text format."),
    f("logging.options.text.splitStream", Bool, Plain, "Write errors to stderr and other lines to stdout."),
    f("logging.options.text.infoBufferSize", Quantity, Plain, "Buffer for stdout lines when streams are split; 0 means unbuffered."),
    f("logging.options.json", Object, Plain, "Options of the json format."),
    f("logging.options.json.splitStream", Bool, Plain, "Write errors to stderr and other lines to stdout."),
    f("logging.options.json.infoBufferSize", Quantity, Plain, "Buffer for stdout lines when streams are split; 0 means unbuffered."),
    f("enableSystemLogHandler", Bool, Plain, "Serve the node's log files under /logs/ on the kubelet API."),
    f("enableSystemLogQuery", Bool, Plain, "Serve node log queries on /logs/ (needs enableSystemLogHandler)."),
    f("shutdownGracePeriod", Duration, Plain, "How long node shutdown is delayed for pods to terminate; 0s turns graceful node shutdown off."),
    f("shutdownGracePeriodCriticalPods", Duration, Plain, "The part of shutdownGracePeriod kept for critical pods."),
    f("shutdownGracePeriodByPodPriority", ObjectList, Plain, "Shutdown grace periods by pod priority, instead of shutdownGracePeriod."),
    f("shutdownGracePeriodByPodPriority[].priority", Int32, Plain, "The lowest priority this entry applies to."),
    f("shutdownGracePeriodByPodPriority[].shutdownGracePeriodSeconds", Int64, Plain, "The grace period for pods of that priority."),
    f("crashLoopBackOff", Object, Plain, "Restart back-off of crashing containers."),
    f("crashLoopBackOff.maxContainerRestartPeriod", Duration, Special, "The longest restart back-off, 1s to 300s."),
    f("reservedMemory", ObjectList, Plain, "Memory reserved per NUMA node for the memory manager."),
    f("reservedMemory[].numaNode", Int32, Plain, "The NUMA node."),
    f("reservedMemory[].limits", QuantityMap, Plain, "The reserved amount per memory type (memory, hugepages-<size>)."),
    f("enableProfilingHandler", Bool, Plain, "Serve /debug/pprof on the kubelet API."),
    f("enableDebugFlagsHandler", Bool, Plain, "Serve /debug/flags/v on the kubelet API."),
    f("seccompDefault", Bool, Plain, "Use the RuntimeDefault seccomp profile for containers that name none."),
    f("memoryThrottlingFactor", Float64, Plain, "The share of the memory limit set as memory.high on cgroup v2 (0 to 1); unset means none."),
    f("memoryReservationPolicy", String, ZeroMeansDefault, "None, or TieredReservation (memory.min and memory.low on cgroup v2)."),
    f("registerWithTaints", ObjectList, Plain, "Taints the Node gets when it is first registered."),
    f("registerWithTaints[].key", String, Plain, "The taint key."),
    f("registerWithTaints[].value", String, Plain, "The taint value."),
    f("registerWithTaints[].effect", String, Plain, "NoSchedule, PreferNoSchedule or NoExecute."),
    f("registerWithTaints[].timeAdded", String, Plain, "Must not be set."),
    f("registerNode", Bool, Plain, "Register the Node with the API server."),
    f("tracing", Object, Plain, "OpenTelemetry tracing of CRI and API calls; unset means none."),
    f("tracing.endpoint", String, Plain, "The OTLP collector address."),
    f("tracing.samplingRatePerMillion", Int32, Plain, "Sampled spans per million."),
    f("localStorageCapacityIsolation", Bool, Plain, "Account and limit ephemeral storage of pods."),
    f("containerRuntimeEndpoint", String, ZeroMeansDefault, "The CRI runtime service socket (unix://...)."),
    f("imageServiceEndpoint", String, Plain, "The CRI image service socket; empty means containerRuntimeEndpoint."),
    f("failCgroupV1", Bool, Plain, "Refuse to start on a cgroup v1 host."),
    f("userNamespaces", Object, Plain, "User namespaces of pods; unset means the defaults."),
    f("userNamespaces.idsPerPod", Int64, Plain, "User and group IDs mapped into each pod (a multiple of 65536)."),
];

/// The table entry for a dotted path (list items as `name[].field`).
pub fn lookup(path: &str) -> Option<&'static Field> {
    FIELDS.iter().find(|f| f.path == path)
}

/// The entries directly below `parent` ("" for the top level), in table order.
pub fn children(parent: &str) -> impl Iterator<Item = &'static Field> + '_ {
    FIELDS.iter().filter(move |f| match f.path.rsplit_once('.') {
        Some((p, _)) => p == parent,
        None => parent.is_empty(),
    })
}

/// The last name of a path ("cacheTTL" for "authentication.webhook.cacheTTL").
pub fn leaf_name(path: &str) -> &str {
    path.rsplit_once('.').map_or(path, |(_, leaf)| leaf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_unique_and_parents_come_first() {
        for (i, field) in FIELDS.iter().enumerate() {
            assert!(FIELDS[..i].iter().all(|g| g.path != field.path), "duplicate {}", field.path);
            if let Some((parent, _)) = field.path.rsplit_once('.') {
                let container = parent.strip_suffix("[]").unwrap_or(parent);
                let pos = FIELDS.iter().position(|g| g.path == container);
                assert!(pos.is_some_and(|p| p < i), "{} has no earlier parent {container}", field.path);
                let kind = FIELDS.iter().find(|g| g.path == container).map(|g| g.kind);
                let want = if parent.ends_with("[]") { Kind::ObjectList } else { Kind::Object };
                assert_eq!(kind, Some(want), "parent of {}", field.path);
            }
        }
    }

    #[test]
    fn children_lists_direct_fields_only() {
        let names: Vec<_> = children("authentication.webhook").map(|f| f.path).collect();
        assert_eq!(names, ["authentication.webhook.enabled", "authentication.webhook.cacheTTL"]);
        assert!(children("").any(|f| f.path == "maxPods"));
        assert!(!children("").any(|f| f.path.contains('.')));
        assert_eq!(children("registerWithTaints[]").count(), 4);
    }
}
