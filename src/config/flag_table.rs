//! Every command-line flag, as data: name, value type, what it sets, help text.
//!
//! The table holds all flags of the upstream v1.37.2 kubelet on Linux, so that an existing
//! systemd unit or kubeadm drop-in never fails on an unknown flag (except the removed
//! `--pod-infra-container-image`, which upstream refuses too). `--help` and `man/rkubelet.8`
//! are generated from it.
//!
//! To add a flag: add one line. A flag either sets a KubeletConfiguration field
//! (`Target::Config("json.path")`: the field must be in `fields::FIELDS`, checked by a test)
//! or a field of [`KubeletFlags`](super::KubeletFlags) (`Target::Own`, wired in
//! `flags.rs`). Its default is not written here: it is read from the flag-mode defaults
//! (`KubeletConfiguration::flag_defaults`) or `KubeletFlags::default`.

#![forbid(unsafe_code)]

/// How a flag's text becomes a value (pflag's value types, as upstream uses them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagKind {
    /// `--x`, `--x=true|false` (also 1/0, t/f, TRUE/FALSE, True/False).
    Bool,
    Int32,
    Int64,
    /// The log verbosity (`-v`).
    UInt32,
    String,
    Duration,
    /// An IP address; an empty value leaves the setting alone.
    Ip,
    /// A resource quantity ("64Ki").
    Quantity,
    /// Comma-separated list; the first use replaces the default, later uses append.
    Strings,
    /// `k=v,k2=v2`; the first use replaces the default, later uses add.
    Map,
    /// One `k=v` per use (values may contain commas).
    MapNoSplit,
    /// `k<v,k2<v2` (eviction thresholds).
    LangleMap,
    /// `k:v,k:v2`, repeatable; values with the same key are kept in order (HTTP headers).
    ColonMultimap,
    /// `Name=true,Other=false` (feature gates); merged over the config file's gates.
    BoolMap,
    /// `key=value:Effect,...` (taints); each use replaces.
    Taints,
    /// `k=v,k2` (node labels; a missing `=v` means an empty value); uses accumulate.
    Labels,
    /// `pattern=N,...` (vmodule).
    VModule,
    /// `numa:type=quantity[,type=quantity][;numa:...]`, repeatable (reserved memory).
    ReservedMemory,
    /// `--version`, `--version=raw`, `--version=false`.
    Version,
}

impl FlagKind {
    /// Flags that may be given without a value.
    pub fn takes_no_value(self) -> bool {
        matches!(self, FlagKind::Bool | FlagKind::Version)
    }

    /// The value placeholder `--help` shows.
    pub fn placeholder(self) -> &'static str {
        match self {
            FlagKind::Bool | FlagKind::Version => "",
            FlagKind::Int32 => "int32",
            FlagKind::Int64 => "int",
            FlagKind::UInt32 => "level",
            FlagKind::String => "string",
            FlagKind::Duration => "duration",
            FlagKind::Ip => "ip",
            FlagKind::Quantity => "quantity",
            FlagKind::Strings => "strings",
            FlagKind::Map | FlagKind::MapNoSplit | FlagKind::Labels => "key=value,...",
            FlagKind::LangleMap => "signal<quantity,...",
            FlagKind::ColonMultimap => "name:value,...",
            FlagKind::BoolMap => "Gate=bool,...",
            FlagKind::Taints => "key=value:Effect,...",
            FlagKind::VModule => "pattern=N,...",
            FlagKind::ReservedMemory => "numa:type=quantity,...",
        }
    }
}

/// What a flag sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A KubeletConfiguration field, by JSON path.
    Config(&'static str),
    Own(Own),
}

/// The KubeletFlags fields (settings that are per node, not in KubeletConfiguration).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Own {
    Config,
    Kubeconfig,
    BootstrapKubeconfig,
    CertDir,
    RootDir,
    HostnameOverride,
    NodeIp,
    NodeLabels,
    /// Upstream ORs this flag with the seccompDefault field.
    SeccompDefault,
    Help,
    Version,
    /// Accepted for compatibility, recorded, and without effect in rkubelet.
    Ignored,
}

#[derive(Debug, Clone, Copy)]
pub struct FlagSpec {
    pub name: &'static str,
    pub shorthand: Option<char>,
    pub kind: FlagKind,
    pub target: Target,
    pub help: &'static str,
}

impl FlagSpec {
    /// Upstream's deprecation note, if it prints one when the flag is used.
    pub fn deprecation(&self) -> Option<&'static str> {
        match self.target {
            Target::Config(_) if !NOT_DEPRECATED.contains(&self.name) => Some("set it in the --config file instead"),
            Target::Own(Own::Ignored) if DEPRECATED_OWN.contains(&self.name) => Some("upstream will remove it"),
            _ => None,
        }
    }
}

/// Config-backed flags upstream keeps without deprecation.
const NOT_DEPRECATED: &[&str] = &["v", "vmodule", "log-flush-frequency", "provider-id", "fail-cgroupv1"];

const DEPRECATED_OWN: &[&str] = &[
    "minimum-container-ttl-duration",
    "maximum-dead-containers-per-container",
    "maximum-dead-containers",
    "experimental-mounter-path",
    "experimental-allocatable-ignore-eviction",
];

const fn c(name: &'static str, kind: FlagKind, path: &'static str, help: &'static str) -> FlagSpec {
    FlagSpec { name, shorthand: None, kind, target: Target::Config(path), help }
}

const fn o(name: &'static str, kind: FlagKind, own: Own, help: &'static str) -> FlagSpec {
    FlagSpec { name, shorthand: None, kind, target: Target::Own(own), help }
}

const fn short(mut spec: FlagSpec, letter: char) -> FlagSpec {
    spec.shorthand = Some(letter);
    spec
}

use FlagKind::*;

/// All flags, sorted by name (as `--help` lists them).
pub const FLAGS: &[FlagSpec] = &[
    c("address", Ip, "address", "The IP address the kubelet API listens on (0.0.0.0 or :: for all interfaces)."),
    c("allowed-unsafe-sysctls", Strings, "allowedUnsafeSysctls", "Unsafe sysctls or sysctl prefixes (ending in *) that pods may set."),
    c("anonymous-auth", Bool, "authentication.anonymous.enabled", "Let requests that no other method authenticates through as system:anonymous."),
    c("authentication-token-webhook", Bool, "authentication.webhook.enabled", "Authenticate bearer tokens with the TokenReview API."),
    c("authentication-token-webhook-cache-ttl", Duration, "authentication.webhook.cacheTTL", "How long TokenReview answers are cached."),
    c("authorization-mode", String, "authorization.mode", "How requests to the kubelet API are authorized: AlwaysAllow or Webhook (SubjectAccessReview)."),
    c("authorization-webhook-cache-authorized-ttl", Duration, "authorization.webhook.cacheAuthorizedTTL", "How long an allowed SubjectAccessReview answer is cached."),
    c("authorization-webhook-cache-unauthorized-ttl", Duration, "authorization.webhook.cacheUnauthorizedTTL", "How long a denied SubjectAccessReview answer is cached."),
    o("bootstrap-kubeconfig", String, Own::BootstrapKubeconfig, "A kubeconfig used to obtain a client certificate (TLS bootstrap) when the --kubeconfig file does not exist; the certificate goes to --cert-dir and a kubeconfig for it to --kubeconfig."),
    o("cert-dir", String, Own::CertDir, "Where TLS certificates are kept; ignored for serving when --tls-cert-file and --tls-private-key-file are given."),
    c("cgroup-driver", String, "cgroupDriver", "How cgroups are managed: cgroupfs or systemd (must match the container runtime)."),
    c("cgroup-root", String, "cgroupRoot", "The root cgroup of pods; with --cgroups-per-qos and no value, /."),
    c("cgroups-per-qos", Bool, "cgroupsPerQOS", "Create the QoS class cgroups and one cgroup per pod."),
    c("client-ca-file", String, "authentication.x509.clientCAFile", "CA bundle that client certificates must chain to; the certificate's common name is the user name."),
    o("cloud-provider", String, Own::Ignored, "The cloud provider; only empty or external exist upstream."),
    c("cluster-dns", Strings, "clusterDNS", "DNS server addresses for pods with dnsPolicy ClusterFirst."),
    c("cluster-domain", String, "clusterDomain", "The cluster's DNS domain, added to the search list of pods."),
    o("config", String, Own::Config, "The KubeletConfiguration file (YAML or JSON). Without it, the built-in flag defaults apply. Flags given on the command line override the file."),
    o("config-dir", String, Own::Ignored, "A directory of KubeletConfiguration drop-in files (*.conf)."),
    c("container-log-max-files", Int32, "containerLogMaxFiles", "How many log files are kept per container (at least 2)."),
    c("container-log-max-size", String, "containerLogMaxSize", "The size at which a container log file is rotated (a quantity such as 10Mi)."),
    c("container-runtime-endpoint", String, "containerRuntimeEndpoint", "The CRI runtime socket, as unix:///path/to/runtime.sock."),
    c("contention-profiling", Bool, "enableContentionProfiling", "Enable block profiling."),
    c("cpu-cfs-quota", Bool, "cpuCFSQuota", "Enforce CPU limits with CFS quota."),
    c("cpu-cfs-quota-period", Duration, "cpuCFSQuotaPeriod", "The CFS period (cpu.cfs_period_us), between 1ms and 1s."),
    c("cpu-manager-policy", String, "cpuManagerPolicy", "The CPU manager policy: none or static."),
    c("cpu-manager-policy-options", MapNoSplit, "cpuManagerPolicyOptions", "One option of the CPU manager policy per use, as key=value."),
    c("cpu-manager-reconcile-period", Duration, "cpuManagerReconcilePeriod", "How often the CPU manager reconciles."),
    c("enable-controller-attach-detach", Bool, "enableControllerAttachDetach", "Leave volume attach and detach to the attach/detach controller."),
    c("enable-debugging-handlers", Bool, "enableDebuggingHandlers", "Serve logs, exec, attach, port-forward and run on the kubelet API."),
    c("enable-server", Bool, "enableServer", "Serve the authenticated kubelet API."),
    c("enforce-node-allocatable", Strings, "enforceNodeAllocatable", "Where node allocatable is enforced: none, pods, system-reserved, system-reserved-compressible, kube-reserved, kube-reserved-compressible."),
    c("event-burst", Int32, "eventBurst", "Events allowed in a burst above --event-qps."),
    c("event-qps", Int32, "eventRecordQPS", "Events created per second; 0 means no limit."),
    c("eviction-hard", LangleMap, "evictionHard", "Hard eviction thresholds, such as memory.available<1Gi."),
    c("eviction-max-pod-grace-period", Int32, "evictionMaxPodGracePeriod", "The longest grace period (seconds) for pods evicted by a soft threshold; negative defers to the pod."),
    c("eviction-minimum-reclaim", Map, "evictionMinimumReclaim", "The least amount reclaimed per resource once eviction starts, such as imagefs.available=2Gi."),
    c("eviction-pressure-transition-period", Duration, "evictionPressureTransitionPeriod", "How long a pressure condition stays after its threshold is no longer met."),
    c("eviction-soft", LangleMap, "evictionSoft", "Soft eviction thresholds, such as memory.available<1.5Gi."),
    c("eviction-soft-grace-period", Map, "evictionSoftGracePeriod", "How long each soft threshold must hold, such as memory.available=1m30s."),
    o("exit-on-lock-contention", Bool, Own::Ignored, "Exit when another process contends for --lock-file."),
    o("experimental-allocatable-ignore-eviction", Bool, Own::Ignored, "Leave hard eviction thresholds out of node allocatable."),
    o("experimental-mounter-path", String, Own::Ignored, "The mount binary to use."),
    c("fail-cgroupv1", Bool, "failCgroupV1", "Refuse to start on a cgroup v1 host."),
    c("fail-swap-on", Bool, "failSwapOn", "Refuse to start when swap is on."),
    c("feature-gates", BoolMap, "featureGates", "Feature gates, as Name=true,Other=false. Unknown names are warned about."),
    c("file-check-frequency", Duration, "fileCheckFrequency", "How often --pod-manifest-path is re-read."),
    c("hairpin-mode", String, "hairpinMode", "How hairpin traffic is set up: promiscuous-bridge, hairpin-veth or none."),
    c("healthz-bind-address", Ip, "healthzBindAddress", "The IP address /healthz listens on."),
    c("healthz-port", Int32, "healthzPort", "The port of /healthz on --healthz-bind-address; 0 turns it off."),
    short(o("help", Bool, Own::Help, "Print this help and exit."), 'h'),
    o("hostname-override", String, Own::HostnameOverride, "The node name to use instead of the host name."),
    o("housekeeping-interval", Duration, Own::Ignored, "How often cAdvisor looks for new containers."),
    c("http-check-frequency", Duration, "httpCheckFrequency", "How often --manifest-url is polled."),
    o("image-credential-provider-bin-dir", String, Own::Ignored, "Where credential provider plugin binaries are."),
    o("image-credential-provider-config", String, Own::Ignored, "The credential provider plugin configuration (a file or a directory of files)."),
    c("image-gc-high-threshold", Int32, "imageGCHighThresholdPercent", "Disk usage (percent) above which image garbage collection always runs; 100 turns it off."),
    c("image-gc-low-threshold", Int32, "imageGCLowThresholdPercent", "Disk usage (percent) image garbage collection frees down to."),
    c("image-service-endpoint", String, "imageServiceEndpoint", "The CRI image service socket; empty means --container-runtime-endpoint."),
    c("kernel-memcg-notification", Bool, "kernelMemcgNotification", "Use kernel memcg notifications to notice memory thresholds."),
    c("kube-api-burst", Int32, "kubeAPIBurst", "Requests to the API server allowed in a burst above --kube-api-qps."),
    c("kube-api-content-type", String, "contentType", "The content type of requests to the API server."),
    c("kube-api-qps", Int32, "kubeAPIQPS", "Requests per second to the API server."),
    c("kube-reserved", Map, "kubeReserved", "Resources reserved for Kubernetes daemons, such as cpu=200m,memory=500Mi."),
    c("kube-reserved-cgroup", String, "kubeReservedCgroup", "The cgroup where --kube-reserved is enforced."),
    o("kubeconfig", String, Own::Kubeconfig, "A kubeconfig for the API server. With it rkubelet joins a cluster; without it, it runs standalone."),
    c("kubelet-cgroups", String, "kubeletCgroups", "The cgroup to run the kubelet in."),
    c("local-storage-capacity-isolation", Bool, "localStorageCapacityIsolation", "Account and limit the ephemeral storage of pods."),
    o("lock-file", String, Own::Ignored, "A lock file that keeps a second kubelet from running."),
    c("log-flush-frequency", Duration, "logging.flushFrequency", "The longest time between log flushes."),
    c("log-json-info-buffer-size", Quantity, "logging.options.json.infoBufferSize", "Buffer for stdout lines of the json format when streams are split."),
    c("log-json-split-stream", Bool, "logging.options.json.splitStream", "In the json format, write errors to stderr and other lines to stdout."),
    c("log-text-info-buffer-size", Quantity, "logging.options.text.infoBufferSize", "Buffer for stdout lines of the text format when streams are split."),
    c("log-text-split-stream", Bool, "logging.options.text.splitStream", "In the text format, write errors to stderr and other lines to stdout."),
    c("logging-format", String, "logging.format", "The log format: text (json upstream only)."),
    c("make-iptables-util-chains", Bool, "makeIPTablesUtilChains", "Create the KUBE-IPTABLES-HINT chain."),
    c("manifest-url", String, "staticPodURL", "A URL serving a Pod or a v1 List of pods to run as static pods."),
    c("manifest-url-header", ColonMultimap, "staticPodURLHeader", "HTTP headers for --manifest-url, as name:value,name:value; may be repeated, and repeated names keep every value in order."),
    c("max-open-files", Int64, "maxOpenFiles", "The open file limit of the kubelet process."),
    c("max-pods", Int32, "maxPods", "The most pods this node runs."),
    o("maximum-dead-containers", Int32, Own::Ignored, "The most dead containers kept on the node."),
    o("maximum-dead-containers-per-container", Int32, Own::Ignored, "The most dead instances kept per container."),
    c("memory-manager-policy", String, "memoryManagerPolicy", "The memory manager policy: None or Static."),
    o("minimum-container-ttl-duration", Duration, Own::Ignored, "How long a dead container is kept before garbage collection."),
    c("minimum-image-ttl-duration", Duration, "imageMinimumGCAge", "How long an unused image is kept before garbage collection."),
    o("node-ip", String, Own::NodeIp, "The node's IP address, or an IPv4 and an IPv6 address separated by a comma; :: prefers IPv6."),
    o("node-labels", Labels, Own::NodeLabels, "Labels the Node is registered with, as key=value,key=value. kubernetes.io labels must be ones the kubelet may set."),
    c("node-status-max-images", Int32, "nodeStatusMaxImages", "The most images listed in Node status; -1 means no cap."),
    c("node-status-update-frequency", Duration, "nodeStatusUpdateFrequency", "How often node status is computed and, when it changed, posted."),
    c("oom-score-adj", Int32, "oomScoreAdj", "The oom_score_adj of the kubelet process (-1000 to 1000)."),
    c("pod-cidr", String, "podCIDR", "The pod IP range in standalone mode."),
    c("pod-manifest-path", String, "staticPodPath", "A directory of static pod manifests, or one manifest file; files starting with a dot are ignored."),
    c("pod-max-pids", Int64, "podPidsLimit", "The most processes in one pod; -1 means the node's limit."),
    c("pods-per-core", Int32, "podsPerCore", "The most pods per CPU core (capped by --max-pods); 0 means no such limit."),
    c("port", Int32, "port", "The port of the authenticated kubelet API."),
    c("protect-kernel-defaults", Bool, "protectKernelDefaults", "Fail when kernel tunables differ from the kubelet's expectations instead of changing them."),
    c("provider-id", String, "providerID", "The node's ID in its provider's machine database."),
    c("qos-reserved", Map, "qosReserved", "Percent of a resource reserved for Guaranteed pods, such as memory=50%."),
    c("read-only-port", Int32, "readOnlyPort", "The port of the unauthenticated read-only API; 0 turns it off. Its default is 10255 without --config and 0 with it."),
    c("register-node", Bool, "registerNode", "Register the Node with the API server (needs --kubeconfig)."),
    c("register-with-taints", Taints, "registerWithTaints", "Taints the Node is first registered with, as key=value:Effect,key:Effect."),
    c("registry-burst", Int32, "registryBurst", "Image pulls allowed in a burst above --registry-qps."),
    c("registry-qps", Int32, "registryPullQPS", "Image pulls per second; 0 means no limit."),
    c("reserved-cpus", String, "reservedSystemCPUs", "CPUs reserved for the system and Kubernetes daemons, as a CPU list."),
    c("reserved-memory", ReservedMemory, "reservedMemory", "Memory reserved per NUMA node, as 0:memory=1Gi,hugepages-1M=2Gi; may be repeated."),
    c("resolv-conf", String, "resolvConf", "The resolver file pods' DNS configuration starts from; empty gives pods none."),
    o("root-dir", String, Own::RootDir, "Where the kubelet keeps its state (pods, volumes, plugins)."),
    c("rotate-certificates", Bool, "rotateCertificates", "Renew the client certificate through the API server before it expires."),
    c("rotate-server-certificates", Bool, "serverTLSBootstrap", "Request the serving certificate from the API server (kubernetes.io/kubelet-serving CSR) and renew it."),
    c("runonce", Bool, "runOnce", "Removed mode; true is refused."),
    o("runtime-cgroups", String, Own::Ignored, "The cgroup of the container runtime."),
    c("runtime-request-timeout", Duration, "runtimeRequestTimeout", "The timeout of CRI calls except pull, logs, exec and attach."),
    o("seccomp-default", Bool, Own::SeccompDefault, "Use the RuntimeDefault seccomp profile for containers that name none."),
    c("serialize-image-pulls", Bool, "serializeImagePulls", "Pull one image at a time."),
    c("streaming-connection-idle-timeout", Duration, "streamingConnectionIdleTimeout", "How long exec, attach and port-forward streams may stay idle; 0 means no limit."),
    c("sync-frequency", Duration, "syncFrequency", "The longest time between two syncs of a running pod with its spec."),
    c("system-cgroups", String, "systemCgroups", "The cgroup for processes outside containers; needs --cgroup-root."),
    c("system-reserved", Map, "systemReserved", "Resources reserved for the operating system, such as cpu=200m,memory=500Mi."),
    c("system-reserved-cgroup", String, "systemReservedCgroup", "The cgroup where --system-reserved is enforced."),
    c("tls-cert-file", String, "tlsCertFile", "The serving certificate (intermediates appended); without it and --tls-private-key-file a self-signed pair is made in --cert-dir."),
    c("tls-cipher-suites", Strings, "tlsCipherSuites", "Allowed TLS 1.2 cipher suites by Go name; empty means the defaults."),
    c("tls-min-version", String, "tlsMinVersion", "The lowest TLS version served: VersionTLS12 or VersionTLS13."),
    c("tls-private-key-file", String, "tlsPrivateKeyFile", "The private key of --tls-cert-file."),
    c("topology-manager-policy", String, "topologyManagerPolicy", "none, best-effort, restricted or single-numa-node."),
    c("topology-manager-policy-options", Map, "topologyManagerPolicyOptions", "Options of the topology manager policy, as key=value."),
    c("topology-manager-scope", String, "topologyManagerScope", "container or pod."),
    short(c("v", UInt32, "logging.verbosity", "Log verbosity: 2 adds debug lines, 4 adds trace lines."), 'v'),
    o("version", Version, Own::Version, "Print the Kubernetes version rkubelet matches and exit; --version=raw prints more."),
    c("vmodule", VModule, "logging.vmodule", "Verbosity per file pattern, as pattern=N,..."),
    c("volume-plugin-dir", String, "volumePluginDir", "Where FlexVolume plugins are."),
    c("volume-stats-agg-period", Duration, "volumeStatsAggPeriod", "How often volume disk usage is measured; negative turns it off."),
];

/// The flag with this (normalized) name.
pub fn lookup(name: &str) -> Option<&'static FlagSpec> {
    FLAGS.iter().find(|f| f.name == name)
}

/// The flag with this one-letter shorthand.
pub fn lookup_short(letter: char) -> Option<&'static FlagSpec> {
    FLAGS.iter().find(|f| f.shorthand == Some(letter))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::fields;

    #[test]
    fn sorted_and_unique() {
        assert!(FLAGS.windows(2).all(|w| w[0].name < w[1].name), "flags must stay sorted");
    }

    #[test]
    fn config_targets_exist_with_matching_types() {
        for flag in FLAGS {
            let Target::Config(path) = flag.target else { continue };
            let field = fields::lookup(path);
            assert!(field.is_some(), "--{} sets unknown field {path}", flag.name);
            let Some(field) = field else { continue };
            use fields::Kind as K;
            let ok = match flag.kind {
                Bool => field.kind == K::Bool,
                Int32 => field.kind == K::Int32,
                Int64 => field.kind == K::Int64,
                UInt32 => field.kind == K::UInt32,
                String | Ip => field.kind == K::String,
                Duration => matches!(field.kind, K::Duration | K::DurationOrNanos),
                Quantity => field.kind == K::Quantity,
                Strings => field.kind == K::StringList,
                Map | MapNoSplit | LangleMap => field.kind == K::StringMap,
                ColonMultimap => field.kind == K::StringListMap,
                BoolMap => field.kind == K::BoolMap,
                Taints | VModule | ReservedMemory => field.kind == K::ObjectList,
                Labels | Version => false,
            };
            assert!(ok, "--{} ({:?}) does not fit {path} ({:?})", flag.name, flag.kind, field.kind);
        }
    }

    #[test]
    fn the_removed_sandbox_image_flag_stays_removed() {
        assert!(lookup("pod-infra-container-image").is_none());
    }
}
