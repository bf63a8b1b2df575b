// Writes golden CRI messages encoded by the reference Go implementation (k8s.io/cri-api,
// google.golang.org/protobuf, deterministic marshalling) as hex, one file per message, for
// src/cri/golden_tests.rs. Only fields in rkubelet's subset are set, so that decoding and
// re-encoding must give the same bytes back.
//
//	cd src/cri/testdata/gen && go mod init gen && go get k8s.io/cri-api/pkg/apis/runtime/v1@v0.37.2 && go run . ..
package main

import (
	"encoding/hex"
	"os"
	"path/filepath"

	"google.golang.org/protobuf/proto"
	rt "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func u64(v uint64) *rt.UInt64Value { return &rt.UInt64Value{Value: v} }

func imageSpec() *rt.ImageSpec {
	return &rt.ImageSpec{
		Image:              "docker.io/library/busybox:1.36",
		Annotations:        map[string]string{"b": "2", "a": "1"},
		UserSpecifiedImage: "busybox:1.36",
		RuntimeHandler:     "runc",
		ImageRef:           "sha256:abc",
	}
}

func resources() *rt.LinuxContainerResources {
	return &rt.LinuxContainerResources{
		CpuPeriod: 100000, CpuQuota: -1, CpuShares: 2, MemoryLimitInBytes: 1 << 40,
		OomScoreAdj: -997, CpusetCpus: "0-1", CpusetMems: "0",
		HugepageLimits:         []*rt.HugepageLimit{{PageSize: "2MB", Limit: 0}, {PageSize: "1GB", Limit: 1 << 30}},
		Unified:                map[string]string{"memory.high": "max", "": ""},
		MemorySwapLimitInBytes: -1,
	}
}

func containerStatus() *rt.ContainerStatus {
	return &rt.ContainerStatus{
		Id:        "0123456789abcdef",
		Metadata:  &rt.ContainerMetadata{Name: "app", Attempt: 3},
		State:     rt.ContainerState_CONTAINER_EXITED,
		CreatedAt: 1700000000000000001, StartedAt: 1700000000100000000, FinishedAt: 1700000001000000000,
		ExitCode: -1,
		Image:    imageSpec(), ImageRef: "docker.io/library/busybox@sha256:abc",
		Reason: "OOMKilled", Message: "mémoire épuisée\n",
		Labels:      map[string]string{"io.kubernetes.container.name": "app", "empty": ""},
		Annotations: map[string]string{"io.kubernetes.container.hash": "1234abcd"},
		Mounts: []*rt.Mount{{
			ContainerPath: "/data", HostPath: "/var/lib/kubelet/pods/x/volumes/data", Readonly: true,
			SelinuxRelabel: true, Propagation: rt.MountPropagation_PROPAGATION_BIDIRECTIONAL,
			UidMappings:       []*rt.IDMapping{{HostId: 100000, ContainerId: 0, Length: 65536}},
			GidMappings:       []*rt.IDMapping{{HostId: 100000, Length: 65536}},
			RecursiveReadOnly: true, Image: imageSpec(), ImageSubPath: "sub",
			MountOptions: []string{"nosuid", "nodev"},
		}},
		LogPath:    "app/3.log",
		Resources:  &rt.ContainerResources{Linux: resources()},
		ImageId:    "sha256:def",
		User:       &rt.ContainerUser{Linux: &rt.LinuxContainerUser{Uid: 0, Gid: 1000, SupplementalGroups: []int64{0, 1000, 4294967296}}},
		StopSignal: rt.Signal_SIGNAL_SIGTERM,
	}
}

func sandboxConfig() *rt.PodSandboxConfig {
	return &rt.PodSandboxConfig{
		Metadata:     &rt.PodSandboxMetadata{Name: "web", Uid: "uid-1", Namespace: "default", Attempt: 1},
		Hostname:     "web",
		LogDirectory: "/var/log/pods/default_web_uid-1",
		DnsConfig:    &rt.DNSConfig{Servers: []string{"10.96.0.10"}, Searches: []string{"default.svc.cluster.local", "svc.cluster.local"}, Options: []string{"ndots:5"}},
		PortMappings: []*rt.PortMapping{{Protocol: rt.Protocol_UDP, ContainerPort: 53, HostPort: 5353, HostIp: "127.0.0.1"}, {ContainerPort: 80}},
		Labels:       map[string]string{"io.kubernetes.pod.name": "web", "io.kubernetes.pod.namespace": "default"},
		Annotations:  map[string]string{"kubernetes.io/config.source": "api"},
		Linux: &rt.LinuxPodSandboxConfig{
			CgroupParent: "/kubepods/besteffort/poduid-1",
			SecurityContext: &rt.LinuxSandboxSecurityContext{
				NamespaceOptions: &rt.NamespaceOption{Network: rt.NamespaceMode_NODE, Pid: rt.NamespaceMode_CONTAINER, Ipc: rt.NamespaceMode_POD,
					UsernsOptions: &rt.UserNamespace{Mode: rt.NamespaceMode_POD, Uids: []*rt.IDMapping{{HostId: 1, ContainerId: 2, Length: 3}}}},
				SelinuxOptions:           &rt.SELinuxOption{User: "u", Role: "r", Type: "t", Level: "s0"},
				RunAsUser:                &rt.Int64Value{Value: 0},
				RunAsGroup:               &rt.Int64Value{Value: 3000},
				ReadonlyRootfs:           true,
				SupplementalGroups:       []int64{1, 2},
				SupplementalGroupsPolicy: rt.SupplementalGroupsPolicy_Strict,
				Privileged:               true,
				Seccomp:                  &rt.SecurityProfile{ProfileType: rt.SecurityProfile_RuntimeDefault},
				Apparmor:                 &rt.SecurityProfile{ProfileType: rt.SecurityProfile_Localhost, LocalhostRef: "k8s-apparmor"},
			},
			Sysctls:   map[string]string{"net.ipv4.ip_unprivileged_port_start": "0"},
			Overhead:  &rt.LinuxContainerResources{},
			Resources: resources(),
		},
	}
}

func createContainer() *rt.CreateContainerRequest {
	return &rt.CreateContainerRequest{
		PodSandboxId: "sandbox-1",
		Config: &rt.ContainerConfig{
			Metadata: &rt.ContainerMetadata{Name: "app"},
			Image:    imageSpec(),
			Command:  []string{"/bin/sh", "-c"}, Args: []string{"echo hi; sleep 3600", ""},
			WorkingDir:  "/work",
			Envs:        []*rt.KeyValue{{Key: "A", Value: []byte("1")}, {Key: "EMPTY"}, {Key: "BIN", Value: []byte{0xff, 0}}},
			Mounts:      []*rt.Mount{{ContainerPath: "/etc/hosts", HostPath: "/var/lib/kubelet/pods/x/etc-hosts"}},
			Devices:     []*rt.Device{{ContainerPath: "/dev/fuse", HostPath: "/dev/fuse", Permissions: "rwm"}},
			Labels:      map[string]string{"io.kubernetes.container.name": "app"},
			Annotations: map[string]string{"io.kubernetes.container.restartCount": "0"},
			LogPath:     "app/0.log",
			Stdin:       true, StdinOnce: true, Tty: true,
			Linux: &rt.LinuxContainerConfig{
				Resources: resources(),
				SecurityContext: &rt.LinuxContainerSecurityContext{
					Capabilities:             &rt.Capability{AddCapabilities: []string{"NET_ADMIN"}, DropCapabilities: []string{"ALL"}, AddAmbientCapabilities: []string{"NET_BIND_SERVICE"}},
					Privileged:               false,
					NamespaceOptions:         &rt.NamespaceOption{Pid: rt.NamespaceMode_TARGET, TargetId: "other"},
					SelinuxOptions:           &rt.SELinuxOption{Level: "s0:c1,c2"},
					RunAsUser:                &rt.Int64Value{Value: 1000},
					RunAsUsername:            "nobody",
					ReadonlyRootfs:           true,
					SupplementalGroups:       []int64{5},
					NoNewPrivs:               true,
					RunAsGroup:               &rt.Int64Value{},
					MaskedPaths:              []string{"/proc/kcore"},
					ReadonlyPaths:            []string{"/proc/sys"},
					Seccomp:                  &rt.SecurityProfile{ProfileType: rt.SecurityProfile_Unconfined},
					Apparmor:                 &rt.SecurityProfile{},
					SupplementalGroupsPolicy: rt.SupplementalGroupsPolicy_Merge,
				},
			},
			CDIDevices: []*rt.CDIDevice{{Name: "vendor.com/gpu=0"}},
			StopSignal: rt.Signal_SIGNAL_SIGRTMAX,
		},
		SandboxConfig: sandboxConfig(),
	}
}

func psi() *rt.PsiStats {
	return &rt.PsiStats{Full: &rt.PsiData{Total: 12345, Avg10: 0.5, Avg60: 1.25, Avg300: 100}, Some: &rt.PsiData{}}
}

func containerStats() *rt.ContainerStats {
	return &rt.ContainerStats{
		Attributes: &rt.ContainerAttributes{Id: "c1", Metadata: &rt.ContainerMetadata{Name: "app"},
			Labels: map[string]string{"l": "v"}, Annotations: map[string]string{"a": "v"}},
		Cpu: &rt.CpuUsage{Timestamp: 1, UsageCoreNanoSeconds: u64(123456789), UsageNanoCores: u64(0), Psi: psi()},
		Memory: &rt.MemoryUsage{Timestamp: 2, WorkingSetBytes: u64(1 << 20), AvailableBytes: u64(1 << 30), UsageBytes: u64(2 << 20),
			RssBytes: u64(3), PageFaults: u64(4), MajorPageFaults: u64(5), Psi: psi()},
		WritableLayer: &rt.FilesystemUsage{Timestamp: 3, FsId: &rt.FilesystemIdentifier{Mountpoint: "/var/lib/containerd"},
			UsedBytes: u64(4096), InodesUsed: u64(7)},
		Swap: &rt.SwapUsage{Timestamp: 4, SwapAvailableBytes: u64(0), SwapUsageBytes: u64(9)},
		Io:   &rt.IoUsage{Timestamp: 5, Psi: psi()},
	}
}

func main() {
	dir := os.Args[1]
	status := containerStatus()
	messages := map[string]proto.Message{
		"container_status_response": &rt.ContainerStatusResponse{Status: status, Info: map[string]string{"info": "{\"pid\":42}"}},
		"pod_sandbox_status_response": &rt.PodSandboxStatusResponse{
			Status: &rt.PodSandboxStatus{
				Id: "sandbox-1", Metadata: sandboxConfig().Metadata, State: rt.PodSandboxState_SANDBOX_NOTREADY,
				CreatedAt: 1700000000000000000,
				Network:   &rt.PodSandboxNetworkStatus{Ip: "10.88.0.5", AdditionalIps: []*rt.PodIP{{Ip: "fd00::5"}}},
				Linux:     &rt.LinuxPodSandboxStatus{Namespaces: &rt.Namespace{Options: sandboxConfig().Linux.SecurityContext.NamespaceOptions}},
				Labels:    sandboxConfig().Labels, Annotations: sandboxConfig().Annotations, RuntimeHandler: "runc",
			},
			Info:               map[string]string{"info": "{}"},
			ContainersStatuses: []*rt.ContainerStatus{status, {Id: "second"}},
			Timestamp:          1700000002000000000,
		},
		"list_containers_response": &rt.ListContainersResponse{Containers: []*rt.Container{
			{Id: "c1", PodSandboxId: "sandbox-1", Metadata: &rt.ContainerMetadata{Name: "app", Attempt: 1}, Image: imageSpec(),
				ImageRef: "sha256:abc", State: rt.ContainerState_CONTAINER_RUNNING, CreatedAt: 5,
				Labels: map[string]string{"k": "v"}, Annotations: map[string]string{"x": "y"}, ImageId: "sha256:def"},
			{Id: "c2", State: rt.ContainerState(42)},
			{},
		}},
		"create_container_request":      createContainer(),
		"list_container_stats_response": &rt.ListContainerStatsResponse{Stats: []*rt.ContainerStats{containerStats(), {}}},
		"list_pod_sandbox_stats_response": &rt.ListPodSandboxStatsResponse{Stats: []*rt.PodSandboxStats{{
			Attributes: &rt.PodSandboxAttributes{Id: "sandbox-1", Metadata: sandboxConfig().Metadata, Labels: map[string]string{"a": "b"}},
			Linux: &rt.LinuxPodSandboxStats{
				Cpu: containerStats().Cpu, Memory: containerStats().Memory,
				Network: &rt.NetworkUsage{Timestamp: 6,
					DefaultInterface: &rt.NetworkInterfaceUsage{Name: "eth0", RxBytes: u64(1), RxErrors: u64(2), TxBytes: u64(3), TxErrors: u64(4)},
					Interfaces:       []*rt.NetworkInterfaceUsage{{Name: "eth0"}, {Name: "eth1", RxBytes: u64(10)}}},
				Process:    &rt.ProcessUsage{Timestamp: 7, ProcessCount: u64(3)},
				Containers: []*rt.ContainerStats{containerStats()},
				Io:         &rt.IoUsage{},
			},
		}}},
		"pull_image_request": &rt.PullImageRequest{
			Image: imageSpec(),
			Auth: &rt.AuthConfig{Username: "user", Password: "secret", Auth: "dXNlcjpzZWNyZXQ=", ServerAddress: "registry.local:5000",
				IdentityToken: "id", RegistryToken: "reg"},
			SandboxConfig: sandboxConfig(),
		},
		"status_response": &rt.StatusResponse{
			Status: &rt.RuntimeStatus{Conditions: []*rt.RuntimeCondition{
				{Type: "RuntimeReady", Status: true}, {Type: "NetworkReady", Status: false, Reason: "NetworkPluginNotReady", Message: "cni config uninitialized"}}},
			Info:            map[string]string{"config": "{}"},
			RuntimeHandlers: []*rt.RuntimeHandler{{Name: "", Features: &rt.RuntimeHandlerFeatures{RecursiveReadOnlyMounts: true, UserNamespaces: true}}, {Name: "runc"}},
			Features:        &rt.RuntimeFeatures{SupplementalGroupsPolicy: true, UserNamespacesHostNetwork: false, MountOptions: true},
		},
		"image_status_response": &rt.ImageStatusResponse{Image: &rt.Image{Id: "sha256:abc", RepoTags: []string{"busybox:1.36"},
			RepoDigests: []string{"busybox@sha256:abc"}, Size: 1 << 33, Uid: &rt.Int64Value{Value: 0}, Username: "", Spec: imageSpec(), Pinned: true}},
		"exec_sync_response": &rt.ExecSyncResponse{Stdout: []byte("hello\n"), Stderr: []byte{0, 1, 2, 0xff}, ExitCode: 127},
	}
	for name, m := range messages {
		b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
		if err != nil {
			panic(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".hex"), []byte(hex.EncodeToString(b)+"\n"), 0o644); err != nil {
			panic(err)
		}
	}
}
