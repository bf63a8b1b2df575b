//! Feature gates: the names and defaults of upstream v1.37.2's kubelet feature gates, and the
//! merged view (defaults + `featureGates` + `--feature-gates`).
//!
//! The table lists every gate the v1.37.2 kubelet binary registers (kube, apiserver,
//! apiextensions, controller-manager, component-base logging and zpages, and client-go gates),
//! each with its default and maturity at version 1.37 (the last versioned spec at or before
//! 1.37). It was extracted from those modules' `kube_features.go` / `known_features.go`;
//! regenerate it the same way when moving to a newer upstream release.
//!
//! Unknown gate names are warned about (upstream refuses them: rkubelet accepts configs
//! written for newer kubelets); a locked gate set to a value other than its default is an
//! error, as upstream.

#![forbid(unsafe_code)]

use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Maturity {
    Alpha,
    Beta,
    GA,
    Deprecated,
}

#[derive(Debug, Clone, Copy)]
pub struct Gate {
    pub name: &'static str,
    pub default: bool,
    pub maturity: Maturity,
    /// Locked gates cannot be set to anything but their default.
    pub locked: bool,
}

const fn g(name: &'static str, default: bool, maturity: Maturity, locked: bool) -> Gate {
    Gate { name, default, maturity, locked }
}

use Maturity::{Alpha, Beta, Deprecated, GA};

/// Every feature gate of the v1.37.2 kubelet, sorted by name.
pub const KNOWN_GATES: &[Gate] = &[
    g("APIResponseCompression", true, Beta, false),
    g("APIServerIdentity", true, Beta, false),
    g("APIServerWebhookAuthenticationToken", false, Alpha, false),
    g("APIServingWithRoutine", false, Alpha, false),
    g("AggregatedDiscoveryRemoveBetaType", true, Deprecated, true),
    g("AllowDNSOnlyNodeCSR", false, Deprecated, false),
    g("AllowInsecureKubeletCertificateSigningRequests", false, Deprecated, false),
    g("AllowOverwriteTerminationGracePeriodSeconds", false, Deprecated, true),
    g("AllowParsingUserUIDFromCertAuth", true, Beta, false),
    g("AllowServiceExternalIPs", true, GA, false),
    g("AllowUnsafeMalformedObjectDeletion", true, Beta, false),
    g("AtomicFIFO", true, Beta, false),
    g("AtomicWriteVolumeUserFields", false, Alpha, false),
    g("AuthorizePodWebsocketUpgradeCreatePermission", true, Beta, false),
    g("CBORServingAndStorage", false, Alpha, false),
    g("CPUManagerPolicyAlphaOptions", false, Alpha, false),
    g("CPUManagerPolicyBetaOptions", true, Beta, false),
    g("CPUManagerPolicyOptions", true, GA, true),
    g("CRDObservedGenerationTracking", true, Beta, false),
    g("CRDValidationRatcheting", true, GA, true),
    g("CRIListStreaming", false, Alpha, false),
    g("CSIServiceAccountTokenSecrets", true, GA, true),
    g("CSIVolumeHealth", false, Alpha, false),
    g("ChangeContainerStatusOnKubeletRestart", false, Deprecated, false),
    g("ClearingNominatedNodeNameAfterBinding", true, Beta, false),
    g("ClientsAllowCARotation", true, Beta, false),
    g("ClientsAllowCBOR", false, Alpha, false),
    g("ClientsAllowTLSCacheGC", true, Beta, false),
    g("ClientsPreferCBOR", false, Alpha, false),
    g("CloudControllerManagerWatchBasedRoutesReconciliation", false, Alpha, false),
    g("CloudControllerManagerWebhook", false, Alpha, false),
    g("ClusterTrustBundle", true, GA, false),
    g("ClusterTrustBundleProjection", true, GA, false),
    g("ComponentFlagz", true, Beta, false),
    g("ComponentStatusz", true, Beta, false),
    g("CompositePodGroup", false, Alpha, false),
    g("ConcurrentWatchObjectDecode", true, Beta, false),
    g("ConsistentListFromCacheSkipTimeoutFallback", false, Alpha, false),
    g("ConstrainedImpersonation", true, Beta, false),
    g("ContainerCheckpoint", true, Beta, false),
    g("ContainerRestartRules", true, Beta, false),
    g("ContainerStopSignals", false, Alpha, false),
    g("ContextualLogging", true, Beta, false),
    g("ControllerManagerReleaseLeaderElectionLockOnExit", false, Alpha, false),
    g("CoordinatedLeaderElection", false, Beta, false),
    g("CrossNamespaceVolumeDataSource", false, Alpha, false),
    g("CustomCPUCFSQuotaPeriod", true, GA, false),
    g("CustomResourceFieldSelectors", true, Beta, false),
    g("DRAAdminAccess", true, GA, true),
    g("DRAConsumableCapacity", true, Beta, false),
    g("DRADerivedAttributes", false, Alpha, false),
    g("DRADeviceBindingConditions", true, Beta, false),
    g("DRADeviceCompatibilityGroups", false, Alpha, false),
    g("DRADeviceTaintRules", false, Beta, false),
    g("DRADeviceTaints", true, Beta, false),
    g("DRAExtendedResource", true, GA, true),
    g("DRAFractionalCapacityRange", false, Beta, false),
    g("DRAListTypeAttributes", false, Alpha, false),
    g("DRANodeAllocatableResources", false, Alpha, false),
    g("DRAOptionalNodeOperations", false, Alpha, false),
    g("DRAPartitionableDevices", true, Beta, false),
    g("DRAPartitionableDevicesType", false, Alpha, false),
    g("DRAPrioritizedList", true, GA, true),
    g("DRAResourceClaimDeviceStatus", true, GA, true),
    g("DRAResourceClaimGranularStatusAuthorization", true, Beta, false),
    g("DRAResourcePoolStatus", false, Alpha, false),
    g("DRASchedulerFilterTimeout", true, Beta, false),
    g("DRAWorkloadResourceClaims", false, Beta, false),
    g("DeclarativeValidation", true, GA, true),
    g("DeclarativeValidationBeta", true, Beta, false),
    g("DeclarativeValidationTakeover", false, Deprecated, true),
    g("DefaultPodSysctls", false, Alpha, false),
    g("DeploymentReplicaSetTerminatingReplicas", true, Beta, false),
    g("DetectCacheInconsistency", true, Beta, false),
    g("DisableAllocatorDualWrite", true, GA, true),
    g("DisableCPUQuotaWithExclusiveCPUs", true, Deprecated, true),
    g("DisableNodeKubeProxyVersion", true, Deprecated, true),
    g("DynamicResourceAllocation", true, GA, true),
    g("EmptyDirVolumeMode", false, Alpha, false),
    g("EnvFiles", true, Beta, false),
    g("EtcdRangeStream", true, Beta, false),
    g("EventedPLEG", false, Alpha, false),
    g("EvictionRequestAPI", false, Alpha, false),
    g("ExcludeAdmissionWebhookVirtualResources", true, Beta, false),
    g("ExecProbeTimeout", true, GA, true),
    g("ExtendWebSocketsToKubelet", true, Beta, false),
    g("ExternalServiceAccountTokenSigner", true, GA, true),
    g("GRPCContainerProbeTLS", false, Alpha, false),
    g("GenericWorkload", false, Beta, false),
    g("GitRepoVolumeDriver", false, Deprecated, true),
    g("GracefulNodeShutdown", true, Beta, false),
    g("GracefulNodeShutdownBasedOnPodPriority", true, Beta, false),
    g("H2CContainerProbe", false, Alpha, false),
    g("HPAConfigurableTolerance", true, GA, true),
    g("HPAGeneration", true, Beta, false),
    g("HPAOptimizedSelectorStore", true, Beta, false),
    g("HPAScaleToZero", true, Beta, false),
    g("HostnameOverride", true, GA, true),
    g("HugepageAwareEviction", true, Beta, false),
    g("ImageMaximumGCAge", true, GA, true),
    g("ImageVolume", true, GA, true),
    g("ImageVolumeWithDigest", false, Alpha, false),
    g("InOrderInformers", true, GA, true),
    g("InOrderInformersBatchProcess", true, Beta, false),
    g("InPlacePodLevelResourcesVerticalScaling", true, Beta, false),
    g("InPlacePodVerticalScaling", true, GA, true),
    g("InPlacePodVerticalScalingExclusiveCPUs", false, Alpha, false),
    g("InPlacePodVerticalScalingExclusiveMemory", false, Alpha, false),
    g("InPlacePodVerticalScalingInitContainers", true, GA, true),
    g("InPlacePodVerticalScalingMemoryBackedVolumes", false, Alpha, false),
    g("InPlacePodVerticalScalingSchedulerPreemption", false, Alpha, false),
    g("InformerResourceVersion", true, GA, false),
    g("InterPodAffinityHostnameFastPath", false, Alpha, false),
    g("JobManagedBy", true, GA, true),
    g("KMSv1", false, Deprecated, false),
    g("KubeProxyIPVS", true, Deprecated, false),
    g("KubeProxyNFTablesLocalhostNodePorts", false, Alpha, false),
    g("KubeletAllocatedPodsEndpoint", false, Alpha, false),
    g("KubeletCgroupDriverFromCRI", true, GA, true),
    g("KubeletCrashLoopBackOffMax", true, Beta, false),
    g("KubeletEnsureSecretPulledImages", true, Beta, false),
    g("KubeletFineGrainedAuthz", true, GA, true),
    g("KubeletInUserNamespace", true, Beta, false),
    g("KubeletPSI", true, GA, true),
    g("KubeletPodResourcesDynamicResources", true, GA, true),
    g("KubeletPodResourcesGet", true, GA, true),
    g("KubeletPodResourcesListUseActivePods", true, Deprecated, false),
    g("KubeletRegistrationGetOnExistsOnly", false, Deprecated, false),
    g("KubeletSeparateDiskGC", true, Beta, false),
    g("KubeletServiceAccountTokenForCredentialProviders", true, Beta, false),
    g("KubeletTracing", true, GA, true),
    g("ListFromCacheSnapshot", true, Beta, false),
    g("LocalStorageCapacityIsolationFSQuotaMonitoring", false, Beta, false),
    g("LoggingAlphaOptions", false, Alpha, false),
    g("LoggingBetaOptions", true, Beta, false),
    g("ManifestBasedAdmissionControlConfig", true, Beta, false),
    g("MatchLabelKeysInPodAffinity", true, GA, true),
    g("MatchLabelKeysInPodTopologySpread", true, Beta, false),
    g("MatchLabelKeysInPodTopologySpreadSelectorMerge", true, Beta, false),
    g("MaxUnavailableStatefulSet", true, Beta, false),
    g("MemoryQoS", true, Beta, false),
    g("MultiCIDRServiceAllocator", true, GA, true),
    g("MutableCSINodeAllocatableCount", true, GA, true),
    g("MutablePVNodeAffinity", false, Alpha, false),
    g("MutablePodResourcesForSuspendedJobs", true, Beta, false),
    g("MutableSchedulingDirectivesForSuspendedJobs", true, Beta, false),
    g("MutatingAdmissionPolicy", true, GA, false),
    g("NFTablesNetlink", true, Beta, false),
    g("NFTablesProxyMode", true, GA, true),
    g("NodeControllerLeaseCircuitBreaker", true, Beta, false),
    g("NodeDeclaredFeatures", true, GA, true),
    g("NodeInclusionPolicyInPodTopologySpread", true, GA, true),
    g("NodeLifecycleConditions", false, Alpha, false),
    g("NodeLogQuery", true, GA, true),
    g("NodeSwap", true, GA, true),
    g("NominatedNodeNameForExpectation", true, Beta, false),
    g("OpenAPIEnums", true, Beta, false),
    g("OpportunisticBatching", true, Beta, false),
    g("PLEGOnDemandRelist", true, GA, true),
    g("PersistentVolumeClaimUnusedSinceTime", true, Beta, false),
    g("PodAndContainerStatsFromCRI", false, Beta, false),
    g("PodCertificateRequest", true, GA, false),
    g("PodDeletionCost", true, Beta, false),
    g("PodGroupPreemptionPolicy", false, Alpha, false),
    g("PodLevelResourceManagers", false, Beta, false),
    g("PodLevelResources", true, Beta, false),
    g("PodLevelResourcesFixDefaulting", true, Beta, false),
    g("PodLevelResourcesFixKubeletQOSClass", true, Beta, false),
    g("PodLogsQuerySplitStreams", false, Alpha, false),
    g("PodObservedGenerationTracking", true, GA, true),
    g("PodReadyToStartContainersCondition", true, GA, true),
    g("PodSchedulingReadiness", true, GA, true),
    g("PodTopologyLabelsAdmission", true, Beta, false),
    g("PodsAPI", true, Beta, false),
    g("PortForwardWebsockets", true, Beta, false),
    g("PreferSameTrafficDistribution", true, GA, true),
    g("ProcMountType", true, GA, true),
    g("QOSReserved", false, Alpha, false),
    g("RecoverVolumeExpansionFailure", true, GA, true),
    g("RecursiveReadOnlyMounts", true, GA, true),
    g("ReduceDefaultCrashLoopBackOffDecay", false, Alpha, false),
    g("RelaxedEnvironmentVariableValidation", true, GA, true),
    g("RelaxedServiceNameValidation", true, GA, true),
    g("ReloadKubeletClientCAFile", true, Beta, false),
    g("ReloadKubeletServerCertificateFile", true, Beta, false),
    g("RemoteRequestHeaderUID", true, Beta, false),
    g("ResourceHealthStatus", true, Beta, false),
    g("ResourceHealthStatusMessage", true, Beta, false),
    g("RestartAllContainersOnContainerExits", true, Beta, false),
    g("RotateKubeletServerCertificate", true, Beta, false),
    g("RuntimeClassInImageCriApi", false, Alpha, false),
    g("SELinuxChangePolicy", true, GA, true),
    g("SELinuxMount", true, GA, false),
    g("SELinuxMountReadWriteOncePod", true, GA, true),
    g("SchedulerAsyncAPICalls", false, Beta, false),
    g("SchedulerAsyncPreemption", true, Beta, false),
    g("SchedulerPopFromBackoffQ", true, Beta, false),
    g("SchedulerPreQueueingHints", false, Alpha, false),
    g("SeparateCacheWatchRPC", false, Deprecated, false),
    g("SeparateTaintEvictionController", true, GA, true),
    g("ServiceAccountNodeAudienceRestriction", true, Beta, false),
    g("ServiceAccountTokenJTI", true, GA, true),
    g("ServiceAccountTokenNodeBinding", true, GA, true),
    g("ServiceAccountTokenNodeBindingValidation", true, GA, true),
    g("ServiceAccountTokenPodNodeInfo", true, GA, true),
    g("ServiceCIDRStatusFieldWiping", true, Deprecated, false),
    g("ShardedListAndWatch", false, Alpha, false),
    g("SizeBasedListCostEstimate", true, Beta, false),
    g("StaleControllerConsistencyDaemonSet", true, Beta, false),
    g("StaleControllerConsistencyHPA", true, Beta, false),
    g("StaleControllerConsistencyJob", true, Beta, false),
    g("StaleControllerConsistencyReplicaSet", true, Beta, false),
    g("StaleControllerConsistencyStatefulSet", true, Beta, false),
    g("StatefulSetRecreateStrategy", false, Alpha, false),
    g("StatefulSetSemanticRevisionComparison", true, Beta, false),
    g("StorageCapacityScoring", true, Beta, false),
    g("StorageNamespaceIndex", true, Deprecated, false),
    g("StorageVersionAPI", false, Alpha, false),
    g("StorageVersionHash", true, Beta, false),
    g("StorageVersionMigrator", true, GA, false),
    g("StrictIPCIDRValidation", true, Beta, false),
    g("StructuredAuthenticationConfigurationEgressSelector", true, Beta, false),
    g("StructuredAuthenticationConfigurationJWKSMetrics", true, Beta, false),
    g("SupplementalGroupsPolicy", true, GA, true),
    g("SystemdWatchdog", true, GA, true),
    g("TaintTolerationComparisonOperators", false, Alpha, false),
    g("TokenRequestServiceAccountUIDValidation", true, Beta, false),
    g("TopologyAwareWorkloadScheduling", false, Alpha, false),
    g("TopologyManagerPolicyAlphaOptions", false, Alpha, false),
    g("TopologyManagerPolicyBetaOptions", true, Beta, false),
    g("TopologyManagerPolicyOptions", true, GA, true),
    g("TranslateStreamCloseWebsocketRequests", true, Beta, false),
    g("UnauthenticatedHTTP2DOSMitigation", true, Beta, false),
    g("UnknownVersionInteroperabilityProxy", true, Beta, false),
    g("UnlockWhileProcessingFIFO", true, Beta, false),
    g("UserNamespacesHostNetworkSupport", false, Alpha, false),
    g("UserNamespacesSupport", true, GA, true),
    g("VolumeAttributesClass", true, GA, true),
    g("VolumeBindMountOptions", false, Alpha, false),
    g("VolumeLimitScaling", true, Beta, false),
    g("WatchCacheInitializationPostStartHook", true, GA, true),
    g("WatchList", true, Beta, false),
    g("WatchListClient", true, Beta, false),
    g("WatchListCompression", true, Beta, false),
    g("WebhookRoundTripLoadBalancing", true, Beta, false),
    g("WinDSR", true, GA, true),
    g("WinOverlay", true, GA, true),
    g("WindowsCPUAndMemoryAffinity", false, Alpha, false),
    g("WindowsGracefulNodeShutdown", true, Beta, false),
    g("WindowsHostNetwork", false, Deprecated, false),
    g("WorkloadWithJob", false, Alpha, false),
];

/// Pseudo-gates that set every alpha or beta gate at once.
const ALL_ALPHA: &str = "AllAlpha";
const ALL_BETA: &str = "AllBeta";

pub fn lookup(name: &str) -> Option<&'static Gate> {
    KNOWN_GATES.binary_search_by(|g| g.name.cmp(name)).ok().and_then(|i| KNOWN_GATES.get(i))
}

/// The feature gates in effect: upstream defaults overridden by what was set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeatureGates {
    set: BTreeMap<String, bool>,
}

/// A gate set to a value it cannot take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockedGate {
    pub name: String,
    pub default: bool,
}

impl FeatureGates {
    /// Merge `set` over the defaults. Returns the gates and the names that are not known.
    pub fn new(set: &BTreeMap<String, bool>) -> Result<(FeatureGates, Vec<String>), LockedGate> {
        let mut unknown = Vec::new();
        for (name, value) in set {
            match lookup(name) {
                Some(gate) if gate.locked && *value != gate.default => {
                    return Err(LockedGate { name: name.clone(), default: gate.default });
                }
                Some(_) => {}
                None if name == ALL_ALPHA || name == ALL_BETA => {}
                None => unknown.push(name.clone()),
            }
        }
        Ok((FeatureGates { set: set.clone() }, unknown))
    }

    /// Whether a gate is on. Unknown names are off.
    pub fn enabled(&self, name: &str) -> bool {
        if let Some(value) = self.set.get(name) {
            return *value;
        }
        let Some(gate) = lookup(name) else { return false };
        let all = match gate.maturity {
            Alpha => self.set.get(ALL_ALPHA),
            Beta => self.set.get(ALL_BETA),
            GA | Deprecated => None,
        };
        match all {
            Some(value) if !gate.locked => *value,
            _ => gate.default,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_for_binary_search() {
        assert!(KNOWN_GATES.windows(2).all(|w| w[0].name < w[1].name));
        assert!(KNOWN_GATES.len() > 200);
    }

    #[test]
    fn defaults_of_gates_that_change_kubelet_defaults() {
        let gates = FeatureGates::default();
        assert!(gates.enabled("KubeletCrashLoopBackOffMax"));
        assert!(gates.enabled("KubeletEnsureSecretPulledImages"));
        assert!(gates.enabled("GracefulNodeShutdown"));
        assert!(gates.enabled("RotateKubeletServerCertificate"));
        assert!(!gates.enabled("NoSuchGate"));
    }

    #[test]
    fn set_values_win_and_unknown_names_are_reported() {
        let set = BTreeMap::from([("KubeletCrashLoopBackOffMax".to_string(), false), ("FancyNewThing".to_string(), true)]);
        let (gates, unknown) = FeatureGates::new(&set).unwrap_or_default();
        assert!(!gates.enabled("KubeletCrashLoopBackOffMax"));
        assert_eq!(unknown, ["FancyNewThing"]);
    }

    #[test]
    fn locked_gates_refuse_other_values() {
        let set = BTreeMap::from([("NodeSwap".to_string(), false)]);
        assert_eq!(FeatureGates::new(&set).err(), Some(LockedGate { name: "NodeSwap".to_string(), default: true }));
        let same = BTreeMap::from([("NodeSwap".to_string(), true)]);
        assert!(FeatureGates::new(&same).is_ok());
    }

    #[test]
    fn all_alpha_turns_on_alpha_gates_only() {
        let set = BTreeMap::from([(ALL_ALPHA.to_string(), true)]);
        let (gates, unknown) = FeatureGates::new(&set).unwrap_or_default();
        assert!(unknown.is_empty());
        assert!(gates.enabled("DefaultPodSysctls"));
        assert!(gates.enabled("KubeletCrashLoopBackOffMax"));
    }
}
